#include "routing/route.hpp"

#include <catch2/catch.hpp>

using namespace mb::routing;

namespace {

route get(std::string_view path, bool live_events = true) { return route_request({"GET", path, false}, live_events); }
route upgrade(std::string_view path, bool live_events = true) {
  return route_request({"GET", path, true}, live_events);
}

}  // namespace

TEST_CASE("route: the call streams need their upgrade", "[routing]") {
  CHECK(std::holds_alternative<media_stream>(upgrade(media_stream_path)));
  CHECK(std::holds_alternative<softphone_stream>(upgrade(softphone_stream_path)));
  // Without it: 426, whatever the method.
  CHECK(std::holds_alternative<upgrade_required>(get(media_stream_path)));
  CHECK(std::holds_alternative<upgrade_required>(route_request({"POST", media_stream_path, false}, true)));
  CHECK(std::holds_alternative<upgrade_required>(get(softphone_stream_path)));
  // Exact paths only: a trailing slash or a prefix is another path.
  CHECK(std::holds_alternative<unknown_upgrade>(upgrade("/media-stream/")));
  CHECK(std::holds_alternative<unknown_upgrade>(upgrade("/media-streams")));
  CHECK(std::holds_alternative<unknown_upgrade>(upgrade("/voice")));
  CHECK(std::holds_alternative<unknown_upgrade>(upgrade("/")));
}

TEST_CASE("route: a pre-warmed call's stream names its worker thread", "[routing][prewarm]") {
  CHECK(media_stream_path_for_worker(3) == "/media-stream/3");
  const auto named = upgrade(media_stream_path_for_worker(1));
  REQUIRE(std::holds_alternative<media_stream>(named));
  CHECK(std::get<media_stream>(named).worker == 1u);
  CHECK_FALSE(std::get<media_stream>(upgrade(media_stream_path)).worker.has_value());
  CHECK(std::holds_alternative<upgrade_required>(get("/media-stream/0")));
  // Digits only, at most four.
  CHECK(std::holds_alternative<unknown_upgrade>(upgrade("/media-stream/x1")));
  CHECK(std::holds_alternative<unknown_upgrade>(upgrade("/media-stream/12345")));
  CHECK(std::holds_alternative<unknown_upgrade>(upgrade("/media-stream/-1")));
  CHECK(std::holds_alternative<unknown_upgrade>(upgrade("/media-stream/1/2")));
}

TEST_CASE("route: live events by WebSocket or Server-Sent Events, when enabled", "[routing]") {
  const auto all_ws = upgrade("/v1/events");
  REQUIRE(std::holds_alternative<listener_websocket>(all_ws));
  CHECK(std::get<listener_websocket>(all_ws).call_sid.empty());
  const auto one_sse = get("/v1/calls/CA0123456789abcdef/events");
  REQUIRE(std::holds_alternative<listener_sse>(one_sse));
  CHECK(std::get<listener_sse>(one_sse).call_sid == "CA0123456789abcdef");
  CHECK(std::get<listener_websocket>(upgrade("/v1/calls/CA1/events")).call_sid == "CA1");

  // Another method, or listeners disabled: the API answers (405, 404), after its credential check.
  for (const auto& r : {route_request({"HEAD", "/v1/events", false}, true),
                        route_request({"POST", "/v1/events", false}, true), get("/v1/events", false),
                        upgrade("/v1/events", false)}) {
    REQUIRE(std::holds_alternative<api_request>(r));
    CHECK(std::get<api_request>(r).target.what == api_target::kind::events);
  }
}

TEST_CASE("route: the history API", "[routing]") {
  const auto list = get("/v1/calls");
  REQUIRE(std::holds_alternative<api_request>(list));
  CHECK(std::get<api_request>(list).target.what == api_target::kind::calls);
  const auto one = route_request({"DELETE", "/v1/calls/CA42", false}, true);
  REQUIRE(std::holds_alternative<api_request>(one));
  CHECK(std::get<api_request>(one).target.what == api_target::kind::call);
  CHECK(std::get<api_request>(one).target.call_sid == "CA42");
  // An upgrade to an API path is still the API's (it answers, and the connection closes).
  CHECK(std::holds_alternative<api_request>(upgrade("/v1/calls")));
}

TEST_CASE("route: operator commands and the agent list are the API's", "[routing]") {
  for (const auto& [path, kind] : {std::pair{"/v1/calls/CA42/hangup", api_target::kind::hang_up},
                                   std::pair{"/v1/calls/CA42/transfer", api_target::kind::transfer},
                                   std::pair{"/v1/calls/CA42/messages", api_target::kind::message}}) {
    INFO(path);
    const auto r = route_request({"POST", path, false}, true);
    REQUIRE(std::holds_alternative<api_request>(r));
    CHECK(std::get<api_request>(r).target.what == kind);
    CHECK(std::get<api_request>(r).target.call_sid == "CA42");
  }
  const auto agents = get("/v1/agents");
  REQUIRE(std::holds_alternative<api_request>(agents));
  CHECK(std::get<api_request>(agents).target.what == api_target::kind::agents);
  CHECK(std::get<api_request>(agents).target.call_sid.empty());
  const auto probes = get("/v1/probes");
  REQUIRE(std::holds_alternative<api_request>(probes));
  CHECK(std::get<api_request>(probes).target.what == api_target::kind::probes);
}

TEST_CASE("route: malformed API paths are not the API's", "[routing]") {
  for (const auto path : {"/v1/calls/", "/v1/callsX", "/v1/calls/CA1/", "/v1/calls/../etc/events", "/v1/calls/CA 1",
                          "/v1/calls//events", "/v1/events/", "/v1/calls/CA1/hangup/",
                          "/v1/calls/CA1/hangup/events", "/v1/calls/CA 1/messages", "/v1/agents/",
                          "/v1/probes/"}) {
    INFO(path);
    CHECK_FALSE(parse_api_target(path));
    CHECK(std::holds_alternative<plain_http>(get(path)));
    CHECK(std::holds_alternative<unknown_upgrade>(upgrade(path)));
  }
}

TEST_CASE("route: everything else is plain HTTP", "[routing]") {
  for (const auto path : {"/voice", "/healthz", "/readyz", "/metrics", "/", "/static/app.js", "/v1/softphone/calls",
                          "/nowhere"}) {
    INFO(path);
    CHECK(std::holds_alternative<plain_http>(get(path)));
    CHECK(std::holds_alternative<plain_http>(route_request({"POST", path, false}, false)));
  }
}

TEST_CASE("route: campaigns under the API", "[routing]") {
  CHECK(std::get<api_request>(get("/v1/campaigns")).target.what == api_target::kind::campaigns);
  const auto one = std::get<api_request>(get("/v1/campaigns/0a1b2c")).target;
  CHECK(one.what == api_target::kind::campaign);
  CHECK(one.campaign_id == "0a1b2c");
  const auto cancel = std::get<api_request>(route_request({"POST", "/v1/campaigns/0a1b2c/cancel", false}, true)).target;
  CHECK(cancel.what == api_target::kind::campaign_cancel);
  CHECK(cancel.campaign_id == "0a1b2c");
  for (const auto path : {"/v1/campaigns/", "/v1/campaignsX", "/v1/campaigns/AB", "/v1/campaigns/a/b", "/v1/campaigns//cancel",
                          "/v1/campaigns/../cancel"}) {
    INFO(path);
    CHECK_FALSE(parse_api_target(path));
  }
}

TEST_CASE("route: OpenAI's webhook is its own route, outside the API's credential", "[routing]") {
  CHECK(std::holds_alternative<openai_webhook>(route_request({"POST", openai_webhook_path, false}, true)));
  CHECK(std::holds_alternative<openai_webhook>(get(openai_webhook_path)));  // answered 405 by the endpoint
  CHECK(std::holds_alternative<unknown_upgrade>(upgrade(openai_webhook_path)));
  CHECK(std::holds_alternative<plain_http>(route_request({"POST", "/openai/webhook/x", false}, true)));
}

TEST_CASE("route: client secrets under the API, whatever the method", "[routing][client_secrets]") {
  CHECK(std::get<api_request>(route_request({"POST", "/v1/realtime/client_secrets", false}, true)).target.what ==
        api_target::kind::client_secrets);
  CHECK(std::get<api_request>(get("/v1/realtime/client_secrets")).target.what == api_target::kind::client_secrets);
  CHECK_FALSE(parse_api_target("/v1/realtime/client_secrets/"));
  CHECK_FALSE(parse_api_target("/v1/realtime"));
}
