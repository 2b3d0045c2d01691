#include "protocol/local_access.hpp"

#include <strings.h>

#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>

namespace mb::protocol {

namespace urls = boost::urls;

bool is_loopback_address(std::string_view address) {
  if (auto v4 = urls::parse_ipv4_address(address)) return v4->is_loopback();
  if (auto v6 = urls::parse_ipv6_address(address)) {
    if (v6->is_loopback()) return true;
    return v6->is_v4_mapped() && v6->to_bytes()[12] == 127;  // ::ffff:127.x.y.z
  }
  return false;
}

bool is_loopback_host(std::string_view host) {
  const auto authority = urls::parse_authority(host);
  if (!authority || authority->has_userinfo()) return false;
  switch (authority->host_type()) {
    case urls::host_type::ipv4:
      return authority->host_ipv4_address().is_loopback();
    case urls::host_type::ipv6:
      return authority->host_ipv6_address().is_loopback();
    case urls::host_type::name: {
      const std::string_view name = authority->encoded_host();
      return name.size() == 9 && ::strncasecmp(name.data(), "localhost", 9) == 0;
    }
    default:
      return false;
  }
}

bool is_loopback_origin(std::string_view origin) {
  for (const std::string_view scheme : {"http://", "https://"}) {
    if (origin.size() > scheme.size() && ::strncasecmp(origin.data(), scheme.data(), scheme.size()) == 0)
      return is_loopback_host(origin.substr(scheme.size()));
  }
  return false;
}

bool is_local_request(const local_request& request) {
  return !request.forwarded && is_loopback_address(request.peer_address) && is_loopback_host(request.host) &&
         (request.origin.empty() || is_loopback_origin(request.origin));
}

}  // namespace mb::protocol
