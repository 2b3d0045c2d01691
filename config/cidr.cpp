#include "config/cidr.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace mb::config {
namespace {

struct ip_address {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4
};

constexpr std::size_t mapped_prefix_bytes = 12;  // ::ffff:0:0/96, RFC 4291 section 2.5.5.2
constexpr std::array<std::uint8_t, mapped_prefix_bytes> mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

std::optional<ip_address> parse_address(std::string_view text) {
  // inet_pton wants a C string; an embedded NUL would silently cut the input short.
  std::array<char, INET6_ADDRSTRLEN> buffer{};
  if (text.empty() || text.size() >= buffer.size() || text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::copy(text.begin(), text.end(), buffer.begin());
  ip_address address;
  if (inet_pton(AF_INET, buffer.data(), address.bytes.data()) == 1) return address;
  if (inet_pton(AF_INET6, buffer.data(), address.bytes.data()) == 1) {
    address.v6 = true;
    return address;
  }
  return std::nullopt;
}

bool is_v4_mapped(const ip_address& address) {
  return address.v6 && std::equal(mapped_prefix.begin(), mapped_prefix.end(), address.bytes.begin());
}

ip_address unmap(const ip_address& mapped) {
  ip_address v4;
  std::copy_n(mapped.bytes.begin() + mapped_prefix_bytes, 4, v4.bytes.begin());
  return v4;
}

std::optional<int> parse_prefix(std::string_view text, int max) {
  if (text.empty() || text.size() > 3 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int prefix = 0;
  std::from_chars(text.data(), text.data() + text.size(), prefix);
  if (prefix > max) return std::nullopt;
  return prefix;
}

// Compares the first `bits` bits.
bool same_prefix(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b, int bits) {
  const auto whole = static_cast<std::size_t>(bits / 8);
  if (!std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(whole), b.begin())) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

std::optional<cidr> cidr::parse(std::string_view text) {
  const std::size_t slash = text.find('/');
  auto address = parse_address(text.substr(0, slash));
  if (!address) return std::nullopt;
  const int max_prefix = address->v6 ? 128 : 32;
  int prefix = max_prefix;
  if (slash != std::string_view::npos) {
    const auto parsed = parse_prefix(text.substr(slash + 1), max_prefix);
    if (!parsed) return std::nullopt;
    prefix = *parsed;
  }
  if (is_v4_mapped(*address) && prefix >= 96) {
    address = unmap(*address);
    prefix -= 96;
  }

  cidr network;
  network.v6_ = address->v6;
  network.prefix_ = prefix;
  // Keep only the network bits so equal networks compare equal and print canonically.
  for (std::size_t i = 0; i < network.bytes_.size(); ++i) {
    const int bits = std::clamp(prefix - static_cast<int>(i) * 8, 0, 8);
    network.bytes_[i] = static_cast<std::uint8_t>(address->bytes[i] & (0xFF00 >> bits));
  }
  return network;
}

bool cidr::contains(std::string_view address_text) const {
  auto address = parse_address(address_text);
  if (!address) return false;
  if (is_v4_mapped(*address)) address = unmap(*address);
  return address->v6 == v6_ && same_prefix(address->bytes, bytes_, prefix_);
}

std::string cidr::to_string() const {
  std::array<char, INET6_ADDRSTRLEN> buffer{};
  inet_ntop(v6_ ? AF_INET6 : AF_INET, bytes_.data(), buffer.data(), static_cast<socklen_t>(buffer.size()));
  return std::string(buffer.data()) + '/' + std::to_string(prefix_);
}

}  // namespace mb::config
