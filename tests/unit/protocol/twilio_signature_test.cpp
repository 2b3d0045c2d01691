#include "protocol/twilio_signature.hpp"

#include <catch2/catch.hpp>

#include <string>

#include "protocol/form.hpp"

using namespace mb::protocol;

// Vectors: twilio-node spec/validation.spec.js and Twilio's "Security" doc, recomputed by us
// (docs/protocols.md sections C3 and C5).

namespace {

constexpr std::string_view token = "12345";
constexpr std::string_view request_url = "https://mycompany.com/myapp.php?foo=1&bar=2";

const form_fields default_params{
    {"CallSid", "CA1234567890ABCDE"}, {"Caller", "+14158675309"}, {"Digits", "1234"},
    {"From", "+14158675309"},         {"To", "+18005551212"},
};

constexpr std::string_view default_signature = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
constexpr std::string_view body = R"({"property": "value", "boolean": true})";
constexpr std::string_view body_hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
constexpr std::string_view empty_body_hash = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

std::string replace(std::string text, std::string_view from, std::string_view to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

}  // namespace

TEST_CASE("twilio signature: default vector", "[protocol]") {
  CHECK(twilio_signature(token, request_url, default_params) == default_signature);
  CHECK(validate_twilio_signature(token, request_url, default_params, default_signature));
}

TEST_CASE("twilio signature: parameters are sorted, not taken in wire order", "[protocol]") {
  const form_fields shuffled{
      {"To", "+18005551212"}, {"Digits", "1234"}, {"CallSid", "CA1234567890ABCDE"},
      {"From", "+14158675309"}, {"Caller", "+14158675309"},
  };
  CHECK(twilio_signature(token, request_url, shuffled) == default_signature);
}

TEST_CASE("twilio signature: names and values sort byte-wise", "[protocol]") {
  // As unsigned bytes 'z' (0x7A) sorts before 'é' (0xC3 0xA9), and 'B' before 'a'.
  const form_fields params{{"\xC3\xA9", "1"}, {"z", "2"}, {"a", "x"}, {"B", "y"}, {"z", "\xC3\xA9"}, {"z", "Z"}};
  CHECK(twilio_signature(token, request_url, params) ==
        twilio_signature(token, std::string(request_url) + "Byaxz2zZz\xC3\xA9\xC3\xA9" "1", {}));
}

TEST_CASE("twilio signature: a parsed webhook body validates", "[protocol]") {
  const auto params =
      parse_form("CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212");
  REQUIRE(params);
  CHECK(validate_twilio_signature(token, request_url, *params, default_signature));
}

TEST_CASE("twilio signature: Security doc worked examples", "[protocol]") {
  const form_fields params{
      {"CallSid", "CA1234567890ABCDE"}, {"Caller", "+14158675310"}, {"Digits", "1234"},
      {"From", "+14158675310"},         {"To", "+18005551212"},
  };
  // The doc prints the exact string that is signed; signing it with no params must agree.
  const std::string canonical =
      "https://example.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+14158675310Digits1234"
      "From+14158675310To+18005551212";
  CHECK(twilio_signature(token, "https://example.com/myapp.php?foo=1&bar=2", params) == "L/OH5YylLD5NRKLltdqwSvS0BnU=");
  CHECK(twilio_signature(token, canonical, {}) == "L/OH5YylLD5NRKLltdqwSvS0BnU=");
  CHECK(validate_twilio_signature(token, "https://example.com/myapp.php?foo=1&bar=2", params,
                                  "L/OH5YylLD5NRKLltdqwSvS0BnU="));

  const form_fields older{
      {"CallSid", "CA1234567890ABCDE"}, {"Caller", "+12349013030"}, {"Digits", "1234"},
      {"From", "+12349013030"},         {"To", "+18005551212"},
  };
  CHECK(twilio_signature(token, "https://mycompany.com/myapp.php?foo=1&bar=2", older) ==
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
}

TEST_CASE("twilio signature: default ports are added and removed", "[protocol]") {
  // https with :443
  CHECK(twilio_signature(token, "https://mycompany.com:443/myapp.php?foo=1&bar=2", default_params) ==
        "kvajT1Ptam85bY51eRf/AJRuM3w=");
  CHECK(validate_twilio_signature(token, request_url, default_params, "kvajT1Ptam85bY51eRf/AJRuM3w="));
  CHECK(validate_twilio_signature(token, "https://mycompany.com:443/myapp.php?foo=1&bar=2", default_params,
                                  default_signature));

  // http with :80
  const std::string http_url = replace(std::string(request_url), "https", "http");
  CHECK(twilio_signature(token, "http://mycompany.com:80/myapp.php?foo=1&bar=2", default_params) ==
        "0ZXoZLH/DfblKGATFgpif+LLRf4=");
  CHECK(validate_twilio_signature(token, http_url, default_params, "0ZXoZLH/DfblKGATFgpif+LLRf4="));
}

TEST_CASE("twilio signature: non-default ports", "[protocol]") {
  const std::string http_1234 = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
  CHECK(twilio_signature(token, http_1234, default_params) == "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=");
  CHECK(validate_twilio_signature(token, http_1234, default_params, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="));
  // A port other than the default cannot be guessed.
  CHECK_FALSE(validate_twilio_signature(token, "http://mycompany.com/myapp.php?foo=1&bar=2", default_params,
                                        "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="));

  // https with a port: twilio-node strips it and matches the default signature.
  CHECK(validate_twilio_signature(token, "https://mycompany.com:1234/myapp.php?foo=1&bar=2", default_params,
                                  default_signature));
}

TEST_CASE("twilio signature: credentials in the URL are kept", "[protocol]") {
  const std::string with_credentials = "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2";
  CHECK(twilio_signature(token, with_credentials, default_params) == "CukzLTc1tT5dXEDIHm/tKBanW10=");
  CHECK(validate_twilio_signature(token, with_credentials, default_params, "CukzLTc1tT5dXEDIHm/tKBanW10="));

  CHECK(twilio_signature(token, "https://user:pass@mycompany.com:443/myapp.php?foo=1&bar=2", default_params) ==
        "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI=");
  CHECK(validate_twilio_signature(token, with_credentials, default_params, "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI="));

  const std::string just_user = "https://user@mycompany.com/myapp.php?foo=1&bar=2";
  CHECK(twilio_signature(token, just_user, default_params) == "2YRLlVAflCqxaNicjMpJcSTgzSs=");
  CHECK(validate_twilio_signature(token, just_user, default_params, "2YRLlVAflCqxaNicjMpJcSTgzSs="));
}

TEST_CASE("twilio signature: special characters in the query", "[protocol]") {
  const std::string given = std::string(request_url) + "&Body=It's+amazing";
  // Current twilio-node signs the WHATWG-normalised URL, where ' is %27.
  CHECK(twilio_signature(token, std::string(request_url) + "&Body=It%27s+amazing", default_params) ==
        "TfZzewPq8wqrGlMfyAud8+/IvJ0=");
  CHECK(validate_twilio_signature(token, given, default_params, "TfZzewPq8wqrGlMfyAud8+/IvJ0="));
  // Older twilio-node (spec/validation.spec.js at 005ea9cd) signed the URL as given.
  CHECK(validate_twilio_signature(token, given, default_params, "dsq4Ehbj6cs+KdTkpF5sSSplOWw="));

  // The rest of the WHATWG special-query set: space, '"', '<', '>' and non-ASCII bytes, upper-case hex.
  CHECK(validate_twilio_signature(token, "https://x.example/p?q=a\"b c<d>\xC3\xA9&r='", {},
                                  twilio_signature(token, "https://x.example/p?q=a%22b%20c%3Cd%3E%C3%A9&r=%27", {})));
}

TEST_CASE("twilio signature: repeated parameters", "[protocol]") {
  const form_fields array{{"MessagingBinding.Address", "+1325xxxxxxx"}, {"MessagingBinding.Address", "+1415xxxxxxx"}};
  const form_fields array_reversed{{"MessagingBinding.Address", "+1415xxxxxxx"},
                                   {"MessagingBinding.Address", "+1325xxxxxxx"}};
  CHECK(twilio_signature(token, request_url, array) == "83O6e2vORAoJHUNzJjDWN1jz+BA=");
  CHECK(validate_twilio_signature(token, request_url, array, "83O6e2vORAoJHUNzJjDWN1jz+BA="));
  CHECK(validate_twilio_signature(token, request_url, array_reversed, "83O6e2vORAoJHUNzJjDWN1jz+BA="));

  // Duplicate values count once.
  const form_fields multi{{"Sid", "CA123"}, {"SidAccount", "AC123"}, {"Digits", "5678"}, {"Digits", "1234"}, {"Digits", "1234"}};
  CHECK(twilio_signature(token, request_url, multi) == "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
  CHECK(validate_twilio_signature(token, request_url, multi, "IK+Dwps556ElfBT0I3Rgjkr1wJU="));
  const form_fields multi_once{{"Digits", "1234"}, {"SidAccount", "AC123"}, {"Sid", "CA123"}, {"Digits", "5678"}};
  CHECK(twilio_signature(token, request_url, multi_once) == "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
}

TEST_CASE("twilio signature: JSON bodies are signed through bodySHA256", "[protocol]") {
  CHECK(sha256_hex(body) == body_hash);
  CHECK(sha256_hex("{}") == empty_body_hash);
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");  // FIPS 180-2
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  const std::string with_hash = std::string(request_url) + "&bodySHA256=" + std::string(body_hash);
  CHECK(twilio_signature(token, with_hash, {}) == "a9nBmqA0ju/hNViExpshrM61xv4=");
  CHECK(validate_twilio_signature(token, with_hash, {}, "a9nBmqA0ju/hNViExpshrM61xv4="));

  // Empty body: signed with :443, validated from the URL without it.
  CHECK(twilio_signature(token,
                         "https://mycompany.com:443/myapp.php?foo=1&bar=2&bodySHA256=" + std::string(empty_body_hash),
                         {}) == "Ldidvp12m26NI7eqEvxnEpkd9Hc=");
  CHECK(validate_twilio_signature(token, std::string(request_url) + "&bodySHA256=" + std::string(empty_body_hash), {},
                                  "Ldidvp12m26NI7eqEvxnEpkd9Hc="));

  const std::string only_hash = "https://mycompany.com/myapp.php?bodySHA256=" + std::string(body_hash);
  CHECK(twilio_signature(token, only_hash, {}) == "y77kIzt2vzLz71DgmJGsen2scGs=");
  CHECK(validate_twilio_signature(token, only_hash, {}, "y77kIzt2vzLz71DgmJGsen2scGs="));
}

TEST_CASE("twilio signature: forgeries are rejected", "[protocol]") {
  SECTION("wrong token") {
    CHECK_FALSE(validate_twilio_signature("54321", request_url, default_params, default_signature));
  }
  SECTION("tampered, added or missing parameter") {
    form_fields tampered = default_params;
    tampered[2].second = "1235";
    CHECK_FALSE(validate_twilio_signature(token, request_url, tampered, default_signature));
    form_fields added = default_params;
    added.emplace_back("Extra", "1");
    CHECK_FALSE(validate_twilio_signature(token, request_url, added, default_signature));
    form_fields missing = default_params;
    missing.pop_back();
    CHECK_FALSE(validate_twilio_signature(token, request_url, missing, default_signature));
    form_fields renamed = default_params;
    renamed[0].first = "callsid";
    CHECK_FALSE(validate_twilio_signature(token, request_url, renamed, default_signature));
  }
  SECTION("different URL") {
    CHECK_FALSE(validate_twilio_signature(token, "https://mycompany.com/myapp.php?foo=1&bar=3", default_params,
                                          default_signature));
    CHECK_FALSE(validate_twilio_signature(token, "http://mycompany.com/myapp.php?foo=1&bar=2", default_params,
                                          default_signature));
    CHECK_FALSE(validate_twilio_signature(token, "https://evil.com/myapp.php?foo=1&bar=2", default_params,
                                          default_signature));
    CHECK_FALSE(validate_twilio_signature(token, "https://mycompany.com/myapp.php/?foo=1&bar=2", default_params,
                                          default_signature));
  }
  SECTION("missing or malformed header") {
    CHECK_FALSE(validate_twilio_signature(token, request_url, default_params, ""));
    CHECK_FALSE(validate_twilio_signature(token, request_url, default_params, "WRONG_SIGNATURE"));
    CHECK_FALSE(validate_twilio_signature(token, request_url, default_params, std::string(default_signature) + " "));
    CHECK_FALSE(validate_twilio_signature(token, request_url, default_params, default_signature.substr(0, 27)));
    CHECK_FALSE(validate_twilio_signature(token, request_url, default_params, "rsoydt4t1cutdk1pdd93/vvr8b8="));
  }
  SECTION("an empty auth token validates nothing") {
    const std::string forged = twilio_signature("", request_url, default_params);
    CHECK_FALSE(validate_twilio_signature("", request_url, default_params, forged));
  }
}

TEST_CASE("twilio stream signature: WebSocket upgrade URLs", "[protocol]") {
  constexpr std::string_view url = "wss://example.com/media-stream";
  CHECK(twilio_signature(token, url, {}) == "XFfwGS2Ev7f9qAP9MmRoMS7C724=");
  CHECK(twilio_signature(token, "wss://example.com/media-stream/", {}) == "7J0iz81itFhCXVuZK8EmM4YZwLA=");

  CHECK(validate_twilio_stream_signature(token, url, "XFfwGS2Ev7f9qAP9MmRoMS7C724="));
  // Signed with the trailing slash.
  CHECK(validate_twilio_stream_signature(token, url, "7J0iz81itFhCXVuZK8EmM4YZwLA="));
  CHECK(validate_twilio_stream_signature(token, "wss://example.com/media-stream/", "7J0iz81itFhCXVuZK8EmM4YZwLA="));
  // Port variants apply to wss as well. The :443 signature was computed with Python's hmac module.
  CHECK(validate_twilio_stream_signature(token, "wss://example.com:443/media-stream", "XFfwGS2Ev7f9qAP9MmRoMS7C724="));
  CHECK(twilio_signature(token, "wss://example.com:443/media-stream", {}) == "55OA2CdDEK8djZDRLLS9pHUR+JI=");
  CHECK(validate_twilio_stream_signature(token, url, "55OA2CdDEK8djZDRLLS9pHUR+JI="));

  // The plain validator does not try the trailing slash.
  CHECK_FALSE(validate_twilio_signature(token, url, {}, "7J0iz81itFhCXVuZK8EmM4YZwLA="));

  CHECK_FALSE(validate_twilio_stream_signature(token, "wss://example.com/other", "XFfwGS2Ev7f9qAP9MmRoMS7C724="));
  CHECK_FALSE(validate_twilio_stream_signature(token, "ws://example.com/media-stream", "XFfwGS2Ev7f9qAP9MmRoMS7C724="));
  CHECK_FALSE(validate_twilio_stream_signature("54321", url, "XFfwGS2Ev7f9qAP9MmRoMS7C724="));
  CHECK_FALSE(validate_twilio_stream_signature(token, url, ""));
  CHECK_FALSE(validate_twilio_stream_signature(token, url, "WRONG_SIGNATURE"));
}
