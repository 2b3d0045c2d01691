#pragma once
// Outbound calls and campaigns (docs/tools.md, "Outbound calls and campaigns"): POST /v1/calls places
// one call through Twilio's REST API (telephony::twilio_client); campaigns place a CSV's rows paced by
// campaign::pacer; Twilio's status callbacks (POST /twilio/status, checked in server/routes.cpp) move
// each call's status. The agent and the {{variables}} reach the call through the voice webhook's URL
// (?agent=&var.<name>=), which Twilio's signature covers.
//
// Campaigns and call statuses live in memory only: a restart forgets them (calls already placed go on
// at Twilio). At most max_campaigns are kept, finished ones evicted oldest first; at most
// max_single_calls single calls' statuses, oldest first.
//
// @par Thread Safety
// Every member function may be called from any thread: the state lives on one strand, and the
// coroutines resume on their caller's executor.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "campaign/call_status.hpp"
#include "net/asio.hpp"
#include "routing/route.hpp"
#include "server/routes.hpp"

namespace mb::server {

inline constexpr std::size_t max_campaigns = 100;
inline constexpr std::size_t max_single_calls = 1000;
// Twilio's voice URL with the variables in its query.
inline constexpr std::size_t max_voice_url_bytes = 4096;
inline constexpr std::string_view status_callback_path = "/twilio/status";

class outbound_service {
 public:
  // `ctx` must outlive the service and the io_context behind `executor`: running campaigns' coroutines
  // hold the state until they finish or that io_context is destroyed.
  outbound_service(const asio::any_io_executor& executor, server_context& ctx);
  ~outbound_service();
  outbound_service(const outbound_service&) = delete;
  outbound_service& operator=(const outbound_service&) = delete;

  // POST /v1/calls: 201, 400 for bad input, 503 without REST credentials, From, room or while draining,
  // 502 when Twilio refuses or cannot be reached.
  net::awaitable<http_reply> place_call(const http_request_view& request);
  // /v1/campaigns, /v1/campaigns/{id}, /v1/campaigns/{id}/cancel.
  net::awaitable<http_reply> handle_campaigns(const http_request_view& request, const routing::api_target& target);
  // A status callback whose signature was checked: applied on the strand. An unknown call SID changes
  // nothing and creates no state.
  void on_status(std::string call_sid, campaign::call_status status);
  // The outbound call's "outbound" object for GET /v1/calls/{sid}; nullopt when it is not one of ours.
  net::awaitable<std::optional<boost::json::object>> describe_call(std::string call_sid);

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace mb::server
