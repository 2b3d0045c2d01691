#include "protocol/base64.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <regex>
#include <string>
#include <vector>

using namespace mb::protocol;

TEST_CASE("base64: RFC 4648 section 10 test vectors", "[protocol]") {
  const std::vector<std::pair<std::string, std::string>> vectors{
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    INFO(plain);
    CHECK(base64_encode(plain) == encoded);
    CHECK(is_base64(encoded));
    CHECK(base64_decoded_size(encoded) == plain.size());
    CHECK(base64_decode(encoded) == plain);
  }
}

TEST_CASE("base64: binary data and the whole alphabet", "[protocol]") {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes += static_cast<char>(b);
  const std::string encoded = base64_encode(all_bytes);
  // Every 6-bit value appears in this encoding; 256 bytes -> 86 groups, the last with "==".
  CHECK(encoded.size() == 344);
  CHECK(encoded.substr(0, 8) == "AAECAwQF");
  CHECK(encoded.substr(encoded.size() - 8) == "/P3+/w==");
  CHECK(base64_decode(encoded) == all_bytes);

  CHECK(base64_encode(std::string("\xFF\xFF\xFF", 3)) == "////");
  CHECK(base64_encode(std::string("\xFB\xEF\xBE", 3)) == "++++");
  CHECK(base64_decode("AAAA") == std::string(3, '\0'));
  CHECK(base64_decode("/+8=") == std::string("\xFF\xEF", 2));
}

TEST_CASE("base64: decode(encode(x)) == x with exact sizes", "[protocol]") {
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::size_t length = 0; length <= 200; ++length) {
    std::string bytes;
    for (std::size_t i = 0; i < length; ++i) bytes += static_cast<char>(byte(rng));
    const std::string encoded = base64_encode(bytes);
    INFO("length " << length);
    CHECK(encoded.size() == (length + 2) / 3 * 4);
    CHECK(is_base64(encoded));
    CHECK(base64_decoded_size(encoded) == length);
    CHECK(base64_decode(encoded) == bytes);
  }
}

TEST_CASE("base64: invalid inputs are rejected", "[protocol]") {
  const std::vector<std::string> invalid{
      "Zg=",        // length not a multiple of 4
      "Zg",         // unpadded
      "Zm9vY",      // unpadded
      "Zg===",      // too much padding (and bad length)
      "Z===",       // three padding characters
      "====",       // padding only
      "=Zm9",       // padding first
      "Zm=v",       // padding inside the last group
      "Zg==Zg==",   // padding inside the text
      "Zm9v\n",     // line break
      "Zm9v\r\nZm9v",
      " Zm9v",      // whitespace
      "Zm 9",
      "Zm-_",       // base64url alphabet
      "Zm9\xC3",    // non-ASCII
      std::string("Zm\0v", 4),  // NUL
      "Zm9v.",
  };
  for (const auto& text : invalid) {
    INFO(text);
    CHECK_FALSE(is_base64(text));
    CHECK_FALSE(base64_decode(text).has_value());
  }
}

TEST_CASE("base64: is_base64 agrees with the RFC 4648 grammar on short strings", "[protocol]") {
  const std::regex grammar("^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$");
  // Members of each class the checker must tell apart: alphabet edges, padding, neighbours of the
  // alphabet in ASCII, whitespace, NUL and a high byte.
  const std::string symbols{'A', 'Z', 'a', 'z', '0', '9', '+', '/', '=', '-', '_', '@', '[', ' ', '\n', '\0', '\xFF'};
  int disagreements = 0;
  std::string text;
  const auto visit = [&](auto&& self, std::size_t length) -> void {
    if (text.size() == length) {
      if (is_base64(text) != std::regex_match(text, grammar)) ++disagreements;
      return;
    }
    for (char c : symbols) {
      text.push_back(c);
      self(self, length);
      text.pop_back();
    }
  };
  for (std::size_t length = 0; length <= 4; ++length) visit(visit, length);
  CHECK(disagreements == 0);

  // Longer strings: only where padding and group boundaries interact.
  const std::string few{'A', '=', '/', '-'};
  std::size_t checked = 0;
  for (std::size_t mask = 0; mask < (1u << 16); ++mask) {
    std::string s;
    for (std::size_t i = 0; i < 8; ++i) s += few[(mask >> (2 * i)) & 3];
    if (is_base64(s) != std::regex_match(s, grammar)) ++disagreements;
    ++checked;
  }
  CHECK(checked == 65536);
  CHECK(disagreements == 0);
}

TEST_CASE("base64: unused trailing bits are tolerated", "[protocol]") {
  // "QQ==" is the canonical form of "A"; "QR==" differs only in bits the decoder discards.
  CHECK(is_base64("QR=="));
  CHECK(base64_decode("QR==") == "A");
}

TEST_CASE("base64: a 20 ms Twilio frame", "[protocol]") {
  const std::string frame(160, '\xFF');  // μ-law silence
  const std::string payload = base64_encode(frame);
  CHECK(payload == std::string(212, '/') + "/w==");
  CHECK(base64_decoded_size(payload) == 160);
}
