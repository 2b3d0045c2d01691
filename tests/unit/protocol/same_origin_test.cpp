#include <catch2/catch.hpp>

#include "protocol/public_url.hpp"

using namespace mb::protocol;

TEST_CASE("is_same_origin: the Origin must name the host the request was sent to", "[protocol][same_origin]") {
  const request_origin direct{"voice.example.com:8080", {}, {}, false};
  CHECK(is_same_origin("http://voice.example.com:8080", direct));
  CHECK(is_same_origin("HTTP://Voice.Example.COM:8080", direct));
  // The listener cannot know the browser's scheme without a trusted proxy: the host and port decide.
  CHECK(is_same_origin("https://voice.example.com:8080", direct));
  for (const char* origin : {"http://evil.example.com:8080", "http://voice.example.com", "http://voice.example.com:8081",
                             "http://voice.example.com.evil.com:8080", "null", "", "file://voice.example.com:8080",
                             "http://user@voice.example.com:8080", "http://voice.example.com:8080/path",
                             "voice.example.com:8080", "ws://voice.example.com:8080"}) {
    INFO(origin);
    CHECK_FALSE(is_same_origin(origin, direct));
  }
}

TEST_CASE("is_same_origin: default ports may be left out on either side", "[protocol][same_origin]") {
  CHECK(is_same_origin("https://voice.example.com", {"voice.example.com:443", {}, {}, false}));
  CHECK(is_same_origin("https://voice.example.com:443", {"voice.example.com", {}, {}, false}));
  CHECK(is_same_origin("http://voice.example.com", {"voice.example.com:80", {}, {}, false}));
  CHECK_FALSE(is_same_origin("http://voice.example.com", {"voice.example.com:443", {}, {}, false}));
  CHECK(is_same_origin("http://[::1]:8080", {"[::1]:8080", {}, {}, false}));
  CHECK(is_same_origin("http://127.0.0.1:8080", {"127.0.0.1:8080", {}, {}, false}));
  // A loopback alias is another origin, as the browser sees it.
  CHECK_FALSE(is_same_origin("http://localhost:8080", {"127.0.0.1:8080", {}, {}, false}));
}

TEST_CASE("is_same_origin: a trusted proxy's forwarded host and scheme count, an untrusted one's do not",
          "[protocol][same_origin]") {
  const request_origin trusted{"127.0.0.1:8080", "https", "voice.example.com", true};
  CHECK(is_same_origin("https://voice.example.com", trusted));
  CHECK_FALSE(is_same_origin("http://voice.example.com", trusted));  // the proxy says the browser used TLS
  CHECK_FALSE(is_same_origin("https://127.0.0.1:8080", trusted));
  const request_origin untrusted{"127.0.0.1:8080", "https", "voice.example.com", false};
  CHECK_FALSE(is_same_origin("https://voice.example.com", untrusted));
  CHECK(is_same_origin("http://127.0.0.1:8080", untrusted));
  CHECK_FALSE(is_same_origin("https://voice.example.com", {"", {}, {}, false}));
}
