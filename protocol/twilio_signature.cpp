#include "protocol/twilio_signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

#include "protocol/base64.hpp"

namespace mb::protocol {
namespace {

constexpr std::string_view upper_hex = "0123456789ABCDEF";  // WHATWG percent-encodes in upper case

std::string hmac_sha1_base64(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  std::size_t digest_size = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA1", nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data(), digest.size(),
                &digest_size) == nullptr) {
    throw std::runtime_error("HMAC-SHA1 failed");
  }
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest_size));
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The WHATWG URL Standard's special-query percent-encode set: C0 controls, space, '"', '#', '<', '>',
// '\'' and everything above '~'. Only the query changes: from the first '?' to the fragment.
std::string whatwg_query_encoded(std::string_view url) {
  const std::size_t query = url.find('?');
  if (query == std::string_view::npos) return std::string(url);
  const std::size_t fragment = std::min(url.find('#', query), url.size());
  std::string out(url.substr(0, query + 1));
  for (const char c : url.substr(query + 1, fragment - query - 1)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte > 0x7E || c == '"' || c == '\'' || c == '<' || c == '>') {
      out += '%';
      out += upper_hex[byte >> 4];
      out += upper_hex[byte & 0xF];
    } else {
      out += c;
    }
  }
  out += url.substr(fragment);
  return out;
}

std::optional<std::uint16_t> signing_default_port(boost::urls::scheme scheme) {
  switch (scheme) {
    case boost::urls::scheme::http:
    case boost::urls::scheme::ws: return 80;
    case boost::urls::scheme::https:
    case boost::urls::scheme::wss: return 443;
    default: return std::nullopt;
  }
}

void add_unique(std::vector<std::string>& urls, std::string url) {
  if (std::find(urls.begin(), urls.end(), url) == urls.end()) urls.push_back(std::move(url));
}

// The URL as given, or with the default port toggled.
void add_port_variants(std::vector<std::string>& urls, const std::string& url) {
  add_unique(urls, url);
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return;
  const auto port = signing_default_port(parsed->scheme_id());
  if (!port) return;
  boost::urls::url toggled(*parsed);
  if (toggled.has_port()) {
    toggled.remove_port();
  } else {
    toggled.set_port_number(*port);
  }
  add_unique(urls, std::string(toggled.buffer()));
}

void add_signed_url_candidates(std::vector<std::string>& urls, std::string_view url) {
  add_port_variants(urls, std::string(url));
  add_port_variants(urls, whatwg_query_encoded(url));
}

bool matches_any(std::string_view auth_token, const std::vector<std::string>& urls, const form_fields& params,
                 std::string_view signature_header) {
  if (auth_token.empty() || signature_header.empty()) return false;
  return std::any_of(urls.begin(), urls.end(), [&](const std::string& url) {
    return constant_time_equal(twilio_signature(auth_token, url, params), signature_header);
  });
}

// "wss://h/media" -> "wss://h/media/"; the slash goes before any query or fragment.
std::string with_trailing_slash(std::string_view url) {
  const std::size_t path_end = std::min(url.find_first_of("?#"), url.size());
  std::string out(url);
  if (path_end == 0 || url[path_end - 1] != '/') out.insert(path_end, 1, '/');
  return out;
}

}  // namespace

std::string twilio_signature(std::string_view auth_token, std::string_view url, const form_fields& params) {
  std::vector<std::pair<std::string_view, std::string_view>> sorted(params.begin(), params.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string data(url);
  for (const auto& [name, value] : sorted) {
    data += name;
    data += value;
  }
  return hmac_sha1_base64(auth_token, data);
}

bool validate_twilio_signature(std::string_view auth_token, std::string_view url, const form_fields& params,
                               std::string_view signature_header) {
  std::vector<std::string> urls;
  add_signed_url_candidates(urls, url);
  return matches_any(auth_token, urls, params, signature_header);
}

bool validate_twilio_stream_signature(std::string_view auth_token, std::string_view wss_url,
                                      std::string_view signature_header) {
  std::vector<std::string> urls;
  add_signed_url_candidates(urls, wss_url);
  add_signed_url_candidates(urls, with_trailing_slash(wss_url));
  return matches_any(auth_token, urls, {}, signature_header);
}

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &digest_size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  constexpr std::string_view lower_hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * digest_size);
  for (unsigned i = 0; i < digest_size; ++i) {
    out += lower_hex[digest[i] >> 4];
    out += lower_hex[digest[i] & 0xF];
  }
  return out;
}

}  // namespace mb::protocol
