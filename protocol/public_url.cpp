#include "protocol/public_url.hpp"

#include <cctype>

#include <boost/url/parse.hpp>

namespace mb::protocol {
namespace {

std::string_view first_of_list(std::string_view list) {
  const auto comma = list.find(',');
  auto v = list.substr(0, comma);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return v;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view default_port(std::string_view scheme) { return scheme == "https" ? "443" : "80"; }

// "host:port" in lower case with the port made explicit; nullopt unless `url` is scheme://host[:port].
std::optional<std::string> origin_authority(std::string_view url) {
  const auto u = boost::urls::parse_absolute_uri(url);
  if (!u || !u->has_authority() || u->has_userinfo() || !u->encoded_path().empty() || u->has_query() ||
      u->encoded_host().empty())
    return std::nullopt;
  const auto scheme = lower(u->scheme());
  if (scheme != "http" && scheme != "https") return std::nullopt;
  const std::string_view port = u->has_port() ? std::string_view(u->port()) : default_port(scheme);
  return lower(u->encoded_host()) + ":" + std::string(port);
}

}  // namespace

bool is_same_origin(std::string_view origin, const request_origin& request) {
  const auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return false;
  std::string scheme = lower(origin.substr(0, scheme_end));
  std::string_view host = request.host;
  if (request.from_trusted_proxy) {
    const auto proto = lower(first_of_list(request.forwarded_proto));
    if (proto == "http" || proto == "ws") scheme = "http";
    else if (proto == "https" || proto == "wss") scheme = "https";
    if (const auto fh = first_of_list(request.forwarded_host); !fh.empty()) host = fh;
  }
  if (!is_plausible_host(host)) return false;
  const auto presented = origin_authority(origin);
  const auto expected = origin_authority(scheme + "://" + std::string(host));
  return presented && expected && *presented == *expected &&
         lower(origin.substr(0, scheme_end)) == scheme;
}

bool is_plausible_host(std::string_view host) {
  if (host.empty() || host.size() > 261) return false;
  std::string_view name = host;
  std::string_view port;
  if (host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    for (char c : host.substr(1, close - 1))
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')) return false;
    const auto rest = host.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    port = rest.empty() ? rest : rest.substr(1);
    if (!rest.empty() && port.empty()) return false;
    name = {};
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
    if (port.empty()) return false;
  }
  if (port.size() > 5) return false;
  for (char c : port)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  if (host.front() != '[' && name.empty()) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')) return false;
  return true;
}

std::optional<std::string> public_base_url(std::string_view configured_public_url, const request_origin& origin) {
  if (!configured_public_url.empty()) {
    while (!configured_public_url.empty() && configured_public_url.back() == '/') configured_public_url.remove_suffix(1);
    return std::string(configured_public_url);
  }
  std::string scheme = "https";
  std::string_view host = origin.host;
  if (origin.from_trusted_proxy) {
    const auto proto = lower(first_of_list(origin.forwarded_proto));
    if (proto == "http" || proto == "https") scheme = proto;
    else if (proto == "ws") scheme = "http";
    else if (proto == "wss") scheme = "https";
    if (const auto fh = first_of_list(origin.forwarded_host); !fh.empty()) host = fh;
  }
  if (!is_plausible_host(host)) return std::nullopt;
  return scheme + "://" + lower(host);
}

std::string websocket_url(std::string_view base_url, std::string_view path) {
  std::string url;
  if (base_url.substr(0, 8) == "https://") url = "wss://" + std::string(base_url.substr(8));
  else if (base_url.substr(0, 7) == "http://") url = "ws://" + std::string(base_url.substr(7));
  else url = std::string(base_url);
  url += path;
  return url;
}

}  // namespace mb::protocol
