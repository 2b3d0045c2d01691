#pragma once
// OpenAI's SIP control plane over HTTPS (docs/sip.md, docs/protocols.md J2): accept a call with its
// session's configuration, reject it with a SIP status, refer it elsewhere, hang it up. The requests are
// pure (protocol/openai_sip); this carries them out with net::http_request. Only accept is retried
// (protocol::accept_retryable): it is known to be slow and to fail with call_id_not_found at first.
//
// @par Thread safety
// Immutable after construction: one client serves every call; each request runs on the calling
// coroutine's executor.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/asio.hpp"
#include "protocol/openai_sip.hpp"
#include "telephony/rest_post.hpp"

namespace mb::net {
class tls_client_context;
}

namespace mb::telephony {

// Where one call's requests go, and with which credential.
struct openai_call_target {
  std::string base_url;  // protocol::sip_control_base of the profile's provider URL
  std::vector<std::pair<std::string, std::string>> credential;  // Authorization: Bearer …; never logged
  protocol::sip_runtime runtime = protocol::sip_runtime::realtime;
  std::string call_id;
};

struct openai_calls_options {
  int timeout_ms = 10000;  // per attempt (SIP_ACCEPT_TIMEOUT_MS)
  int accept_retries = 3;  // SIP_ACCEPT_RETRIES
  int base_backoff_ms = 250;
};

class openai_calls {
 public:
  openai_calls(openai_calls_options options, std::shared_ptr<net::tls_client_context> tls);

  // rest_result::elapsed_ms measures the whole accept, retries included.
  [[nodiscard]] net::awaitable<rest_result> accept(const openai_call_target& target, std::string body) const;
  [[nodiscard]] net::awaitable<rest_result> reject(const openai_call_target& target, int status_code) const;
  [[nodiscard]] net::awaitable<rest_result> refer(const openai_call_target& target, std::string target_uri) const;
  [[nodiscard]] net::awaitable<rest_result> hang_up(const openai_call_target& target) const;

 private:
  [[nodiscard]] net::awaitable<rest_result> send_once(const openai_call_target& target,
                                                      protocol::sip_control_request request,
                                                      std::string_view what) const;

  openai_calls_options options_;
  std::shared_ptr<net::tls_client_context> tls_;
};

}  // namespace mb::telephony
