#include "config/cidr.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using mb::config::cidr;

namespace {

std::string normalised(std::string_view text) {
  const auto network = cidr::parse(text);
  return network ? network->to_string() : "<invalid>";
}

cidr network(std::string_view text) {
  const auto parsed = cidr::parse(text);
  REQUIRE(parsed);
  return *parsed;
}

}  // namespace

TEST_CASE("cidr: parses networks and prints them canonically", "[config]") {
  CHECK(normalised("10.0.0.0/8") == "10.0.0.0/8");
  CHECK(normalised("0.0.0.0/0") == "0.0.0.0/0");
  CHECK(normalised("192.168.1.7/24") == "192.168.1.0/24");  // host bits cleared
  CHECK(normalised("10.1.2.3/31") == "10.1.2.2/31");
  CHECK(normalised("172.16.0.0/12") == "172.16.0.0/12");
  CHECK(normalised("fd00::/8") == "fd00::/8");
  CHECK(normalised("FD00:0:0::/8") == "fd00::/8");
  CHECK(normalised("2001:db8:abcd:1234::1/32") == "2001:db8::/32");
  CHECK(normalised("::/0") == "::/0");
  CHECK(normalised("10.0.0.0/008") == "10.0.0.0/8");
}

TEST_CASE("cidr: a bare address is a host network", "[config]") {
  CHECK(normalised("127.0.0.1") == "127.0.0.1/32");
  CHECK(normalised("::1") == "::1/128");
  CHECK(normalised("2001:db8::5") == "2001:db8::5/128");
}

TEST_CASE("cidr: IPv4-mapped networks become IPv4", "[config]") {
  CHECK(normalised("::ffff:10.0.0.0/104") == "10.0.0.0/8");
  CHECK(normalised("::ffff:1.2.3.4") == "1.2.3.4/32");
  CHECK(normalised("::ffff:0:0/96") == "0.0.0.0/0");
  CHECK(normalised("::ffff:a00:0/104") == "10.0.0.0/8");  // hex spelling of the mapped address
  CHECK(network("::ffff:10.0.0.0/104") == network("10.0.0.0/8"));
}

TEST_CASE("cidr: malformed text is rejected", "[config]") {
  const std::vector<std::string> invalid{
      "",
      "/8",
      "10.0.0.0/",
      "10.0.0.0/33",
      "::/129",
      "10.0.0.0/-1",
      "10.0.0.0/+8",
      "10.0.0.0/0x8",
      "10.0.0.0/1000",
      "10.0.0.0/ 8",
      "10.0.0.0/8 ",
      " 10.0.0.0/8",
      "10.0.0.0/8/8",
      "10.0.0/8",
      "10.0.0.0.0",
      "256.0.0.1",
      "1.2.3.-4",
      "01.2.3.4",
      "0x0a.0.0.1",
      "localhost",
      "garbage",
      ":::1",
      "1::2::3",
      "12345::",
      "fe80::1%eth0",
      "[::1]",
      std::string("10.0.0.0\0/8", 11),
      std::string("10.0.0.1\0garbage", 16),
      std::string(200, '1'),
  };
  for (const auto& text : invalid) {
    INFO(text);
    CHECK_FALSE(cidr::parse(text));
  }
}

TEST_CASE("cidr: IPv4 containment", "[config]") {
  const cidr ten = network("10.0.0.0/8");
  CHECK(ten.contains("10.0.0.0"));
  CHECK(ten.contains("10.255.255.255"));
  CHECK(ten.contains("10.1.2.3"));
  CHECK_FALSE(ten.contains("11.0.0.0"));
  CHECK_FALSE(ten.contains("9.255.255.255"));

  const cidr odd = network("192.168.0.0/22");  // boundary inside a byte
  CHECK(odd.contains("192.168.3.255"));
  CHECK_FALSE(odd.contains("192.168.4.0"));
  CHECK_FALSE(odd.contains("192.167.255.255"));

  const cidr host = network("127.0.0.1");
  CHECK(host.contains("127.0.0.1"));
  CHECK_FALSE(host.contains("127.0.0.2"));

  const cidr all = network("0.0.0.0/0");
  CHECK(all.contains("255.255.255.255"));
  CHECK(all.contains("1.2.3.4"));
  CHECK_FALSE(all.contains("::1"));
}

TEST_CASE("cidr: IPv4-mapped IPv6 addresses count as IPv4", "[config]") {
  const cidr ten = network("10.0.0.0/8");
  CHECK(ten.contains("::ffff:10.1.2.3"));
  CHECK(ten.contains("::FFFF:a01:203"));   // 10.1.2.3, hex spelling
  CHECK_FALSE(ten.contains("::ffff:11.1.2.3"));
  CHECK_FALSE(ten.contains("::a01:203"));  // IPv4-compatible, not mapped: an IPv6 address
  CHECK_FALSE(ten.contains("::ffff:0:a01:203"));  // IPv4-translated (RFC 2765), not mapped

  const cidr mapped = network("::ffff:10.0.0.0/104");
  CHECK(mapped.contains("10.200.0.1"));
  CHECK(mapped.contains("::ffff:10.200.0.1"));
  CHECK_FALSE(mapped.contains("11.0.0.1"));
}

TEST_CASE("cidr: IPv6 containment", "[config]") {
  const cidr ula = network("fd00::/8");
  CHECK(ula.contains("fd12:3456:789a::1"));
  CHECK(ula.contains("FDFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF"));
  CHECK_FALSE(ula.contains("fe80::1"));
  CHECK_FALSE(ula.contains("fc00::1"));

  const cidr half = network("2001:db8:0:0:8000::/65");
  CHECK(half.contains("2001:db8::8000:0:0:1"));
  CHECK(half.contains("2001:db8::ffff:ffff:ffff:ffff"));
  CHECK_FALSE(half.contains("2001:db8::7fff:ffff:ffff:ffff"));

  const cidr loopback = network("::1");
  CHECK(loopback.contains("::1"));
  CHECK(loopback.contains("0:0:0:0:0:0:0:1"));
  CHECK_FALSE(loopback.contains("::2"));

  const cidr any6 = network("::/0");
  CHECK(any6.contains("2001:db8::1"));
  CHECK(any6.contains("::"));
  CHECK_FALSE(any6.contains("1.2.3.4"));
  CHECK_FALSE(any6.contains("::ffff:1.2.3.4"));

  // A mapped network below /96 stays IPv6, so IPv4 addresses never fall inside it.
  const cidr short_mapped = network("::ffff:0:0/80");
  CHECK(short_mapped.contains("::1"));
  CHECK_FALSE(short_mapped.contains("1.2.3.4"));
}

TEST_CASE("cidr: contains rejects anything but a bare address", "[config]") {
  const cidr all = network("0.0.0.0/0");
  const cidr any6 = network("::/0");
  for (const std::string text : {"", "10.0.0.1/32", "10.0.0.1 ", "host.example", "::1/128", "[::1]", "fe80::1%lo"}) {
    INFO(text);
    CHECK_FALSE(all.contains(text));
    CHECK_FALSE(any6.contains(text));
  }
  CHECK_FALSE(all.contains(std::string("1.2.3.4\0", 8)));
}

TEST_CASE("cidr: to_string round-trips through parse", "[config]") {
  for (const char* text : {"10.0.0.0/8", "192.168.1.0/24", "1.2.3.4/32", "0.0.0.0/0", "fd00::/8", "2001:db8::/32",
                           "::1/128", "::/0", "2001:db8:0:0:8000::/65"}) {
    INFO(text);
    const cidr parsed = network(text);
    CHECK(parsed.to_string() == text);
    CHECK(cidr::parse(parsed.to_string()) == parsed);
  }
  CHECK(network("10.1.2.3/8") == network("10.0.0.0/8"));
  CHECK_FALSE(network("10.0.0.0/8") == network("10.0.0.0/9"));
  CHECK_FALSE(network("0.0.0.0/0") == network("::/0"));
}
