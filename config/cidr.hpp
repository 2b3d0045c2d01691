#pragma once
// An IPv4 or IPv6 network (address/prefix), for TRUSTED_PROXIES.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mb::config {

class cidr {
 public:
  // Accepts "10.0.0.0/8", "127.0.0.1" (a /32), "::1" (a /128), "fd00::/8". Returns nullopt when
  // malformed: addresses as inet_pton reads them (dotted-quad IPv4, RFC 4291 IPv6, no zone ids, no
  // surrounding whitespace), prefixes as plain decimal up to 32 or 128. Host bits are cleared, so
  // "192.168.1.7/24" is the network 192.168.1.0/24. An IPv4-mapped network with prefix >= 96
  // (::ffff:10.0.0.0/104) becomes the IPv4 network it maps (10.0.0.0/8).
  static std::optional<cidr> parse(std::string_view text);
  // True when `address` (textual IPv4 or IPv6; IPv4-mapped IPv6 like ::ffff:1.2.3.4 counts as IPv4) is inside.
  // IPv4 addresses belong only to IPv4 networks: ::/0 does not contain 1.2.3.4. Malformed: false.
  [[nodiscard]] bool contains(std::string_view address) const;
  // "10.0.0.0/8", "fd00::/8": the network address in inet_ntop form and the prefix, always both.
  [[nodiscard]] std::string to_string() const;

  bool operator==(const cidr&) const = default;

 private:
  bool v6_ = false;
  std::array<std::uint8_t, 16> bytes_{};
  int prefix_ = 0;
};

}  // namespace mb::config
