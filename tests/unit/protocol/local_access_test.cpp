#include <catch2/catch.hpp>

#include "protocol/local_access.hpp"

using namespace mb::protocol;

TEST_CASE("loopback peer addresses", "[protocol][local_access]") {
  for (const char* address : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"}) {
    INFO(address);
    CHECK(is_loopback_address(address));
  }
  for (const char* address : {"", "10.0.0.1", "128.0.0.1", "::2", "::ffff:10.0.0.1", "localhost", "127.0.0.1:80"}) {
    INFO(address);
    CHECK_FALSE(is_loopback_address(address));
  }
}

TEST_CASE("loopback Host headers", "[protocol][local_access]") {
  for (const char* host : {"localhost", "LocalHost:8080", "127.0.0.1", "127.0.0.1:8080", "[::1]", "[::1]:443"}) {
    INFO(host);
    CHECK(is_loopback_host(host));
  }
  // A DNS-rebinding name resolves to 127.0.0.1 but is not a loopback host by name.
  for (const char* host : {"", "example.com", "localhost.example.com", "evil.localhost", "10.0.0.1:8080",
                           "user@localhost", "[::2]", "127.0.0.1.nip.io"}) {
    INFO(host);
    CHECK_FALSE(is_loopback_host(host));
  }
}

TEST_CASE("loopback Origin headers", "[protocol][local_access]") {
  for (const char* origin : {"http://localhost:8080", "https://127.0.0.1", "HTTP://[::1]:8080"}) {
    INFO(origin);
    CHECK(is_loopback_origin(origin));
  }
  for (const char* origin : {"", "null", "https://example.com", "file://localhost", "http://", "localhost:8080",
                             "http://localhost.evil.com"}) {
    INFO(origin);
    CHECK_FALSE(is_loopback_origin(origin));
  }
}

TEST_CASE("a local request needs a loopback peer, Host and Origin, and no proxy", "[protocol][local_access]") {
  const local_request curl{.peer_address = "127.0.0.1", .host = "127.0.0.1:8080", .origin = "", .forwarded = false};
  CHECK(is_local_request(curl));
  const local_request dashboard{.peer_address = "::1", .host = "localhost:8080", .origin = "http://localhost:8080"};
  CHECK(is_local_request(dashboard));

  auto other_site = dashboard;
  other_site.origin = "https://attacker.example";  // a page elsewhere opening ws://localhost:8080/v1/events
  CHECK_FALSE(is_local_request(other_site));
  auto rebinding = curl;
  rebinding.host = "attacker.example:8080";
  rebinding.origin = "http://attacker.example:8080";
  CHECK_FALSE(is_local_request(rebinding));
  auto proxied = curl;
  proxied.forwarded = true;
  CHECK_FALSE(is_local_request(proxied));
  auto remote = curl;
  remote.peer_address = "192.0.2.7";
  CHECK_FALSE(is_local_request(remote));
}
