#include "protocol/public_url.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>

using namespace mb::protocol;

namespace {

request_origin direct(std::string_view host, std::string_view forwarded_proto = {}, std::string_view forwarded_host = {}) {
  return request_origin{host, forwarded_proto, forwarded_host, false};
}

request_origin via_trusted_proxy(std::string_view host, std::string_view forwarded_proto,
                                 std::string_view forwarded_host) {
  return request_origin{host, forwarded_proto, forwarded_host, true};
}

}  // namespace

TEST_CASE("public url: PUBLIC_URL wins over the request's headers", "[protocol][public_url]") {
  CHECK(public_base_url("https://voice.example.com/", via_trusted_proxy("10.0.0.5:8080", "http", "evil.example")) ==
        "https://voice.example.com");
  CHECK(public_base_url("http://127.0.0.1:8080//", direct("")) == "http://127.0.0.1:8080");
}

TEST_CASE("public url: without PUBLIC_URL, https and the Host header", "[protocol][public_url]") {
  // Twilio reaches us over TLS only, so a plain listener is behind a proxy: https is the default.
  CHECK(public_base_url("", direct("Voice.Example.COM")) == "https://voice.example.com");
  CHECK(public_base_url("", direct("127.0.0.1:8080")) == "https://127.0.0.1:8080");
  CHECK(public_base_url("", direct("[::1]:8443")) == "https://[::1]:8443");
}

TEST_CASE("public url: X-Forwarded-* count only from a trusted proxy", "[protocol][public_url]") {
  // Anyone else could choose the URL the TwiML names, and the URL signatures are checked against.
  CHECK(public_base_url("", direct("bridge:8080", "http", "evil.example")) == "https://bridge:8080");
  CHECK(public_base_url("", via_trusted_proxy("bridge:8080", "https", "voice.example.com")) ==
        "https://voice.example.com");
  CHECK(public_base_url("", via_trusted_proxy("bridge:8080", "http", "voice.example.com:8000")) ==
        "http://voice.example.com:8000");
}

TEST_CASE("public url: forwarded headers from a trusted proxy, edge cases", "[protocol][public_url]") {
  SECTION("the first hop of a comma list wins") {
    CHECK(public_base_url("", via_trusted_proxy("bridge", "https, http", " voice.example.com , inner")) ==
          "https://voice.example.com");
  }
  SECTION("WebSocket schemes map to their HTTP twins; anything else keeps https") {
    CHECK(public_base_url("", via_trusted_proxy("bridge", "WS", "")) == "http://bridge");
    CHECK(public_base_url("", via_trusted_proxy("bridge", "wss", "")) == "https://bridge");
    CHECK(public_base_url("", via_trusted_proxy("bridge", "gopher", "")) == "https://bridge");
  }
  SECTION("no X-Forwarded-Host: the Host header") {
    CHECK(public_base_url("", via_trusted_proxy("bridge:8080", "http", "")) == "http://bridge:8080");
  }
}

TEST_CASE("public url: an implausible host gives no URL", "[protocol][public_url]") {
  CHECK(public_base_url("", direct("")) == std::nullopt);
  CHECK(public_base_url("", direct("voice.example.com/evil")) == std::nullopt);
  CHECK(public_base_url("", direct("voice.example.com:")) == std::nullopt);
  CHECK(public_base_url("", direct("voice.example.com:123456")) == std::nullopt);
  CHECK(public_base_url("", direct("[::1")) == std::nullopt);
  CHECK(public_base_url("", via_trusted_proxy("bridge", "https", "a b")) == std::nullopt);
}

TEST_CASE("public url: the stream URL is the WebSocket twin of the public URL", "[protocol][public_url]") {
  CHECK(websocket_url("https://voice.example.com", "/media-stream") == "wss://voice.example.com/media-stream");
  CHECK(websocket_url("http://127.0.0.1:8080", "/media-stream") == "ws://127.0.0.1:8080/media-stream");
}
