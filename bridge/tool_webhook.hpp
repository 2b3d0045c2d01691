#pragma once
// A tool call's webhook (docs/tools.md), posted beside the call that asked for it: signed
// (X-Mediabridge-Signature) when a secret is set, bounded as a whole by the tool's timeout, and
// abandoned when the call ends. Shared by Media Streams and SIP calls.

#include <functional>
#include <memory>
#include <string>

#include "call/call_tools.hpp"
#include "net/asio.hpp"

namespace mb::net {
class tls_client_context;
}

namespace mb::bridge {

// Runs on the calling call's executor. `signing_secret` empty: unsigned; never logged.
// `running`: a timer that never expires, cancelled at the call's end, which abandons the request
// (`on_response` is then not called). `on_response` runs on `ex` and owns nothing of the call: it
// must find out for itself whether the call still runs.
void post_tool_webhook(asio::any_io_executor ex, const call::webhook_tool& tool, std::string body,
                       const std::string& signing_secret, std::shared_ptr<net::tls_client_context> tls,
                       std::shared_ptr<asio::steady_timer> running,
                       std::function<void(const call::webhook_response&)> on_response);

}  // namespace mb::bridge
