// The operator's API (docs/tools.md, operator controls): hang-up, transfer and messages for a live
// call, and the agent list the dashboard offers them from, against a real server over loopback.

#include <catch2/catch.hpp>

#include <future>

#include <boost/json.hpp>

#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/listener_client.hpp"
#include "tests/integration/support/raw_stream.hpp"
#include "tests/integration/support/temp_dir.hpp"
#include "tests/integration/support/transcript_lines.hpp"

using namespace mb;
using tools::twilio::audio_kind;
using events_t = test::listener_client::events_t;
using headers_t = std::vector<std::pair<std::string, std::string>>;

namespace {

const std::string token = "operator-test-token";
const headers_t auth{{"Authorization", "Bearer " + token}};
const headers_t auth_json{{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};

void with_token(config::settings& s, bridge::bridge_context&) { s.api_token = config::secret(token); }

std::size_t call_control_events(test::bridge_harness& h) {
  std::size_t n = 0;
  for (const auto& e : h.events().events()) n += std::holds_alternative<call::call_control>(e.event);
  return n;
}

}  // namespace

TEST_CASE("operator commands: authorised, validated, 202 for a live call and 404 once it has ended",
          "[integration][operator]") {
  test::bridge_harness h({.tweak = with_token, .listeners = true});
  const auto base = "http://127.0.0.1:" + std::to_string(h.port());
  const auto sid = test::test_call_sid(31);
  const auto url = base + "/v1/calls/" + sid;
  test::listener_client listener({.port = h.port(), .target = "/v1/events?token=" + token});
  REQUIRE(listener.wait_connected());

  auto options = h.call({{audio_kind::speech, 300}, {audio_kind::silence, 6000}});
  options.call_sid = sid;
  auto pending = std::async(std::launch::async, [&h, options] { return h.run({options}); });
  REQUIRE(listener.wait_for([&](const events_t& ev) { return test::has_event(ev, "call.started", sid); }));

  // Refused: no credential, a wrong one, another method, a bad body, a call that is not live.
  CHECK(test::http("POST", url + "/hangup", {}, "").status == 401);
  CHECK(test::http("POST", url + "/hangup", {{"Authorization", "Bearer wrong"}}, "").status == 401);
  CHECK(test::http("GET", url + "/hangup", auth, "").status == 405);
  CHECK(test::http("POST", url + "/hangup", auth_json, "[1]").status == 400);
  CHECK(test::http("POST", url + "/messages", auth_json, "{\"text\":").status == 400);
  CHECK(test::http("POST", url + "/messages", auth_json, R"({"text":""})").status == 400);
  CHECK(test::http("POST", url + "/messages", auth_json, R"({"text":" \n "})").status == 400);
  CHECK(test::http("POST", url + "/messages", auth_json, R"({"text":42})").status == 400);
  CHECK(test::http("POST", url + "/messages", auth_json, "{\"text\":\"" + std::string(2001, 'a') + "\"}").status == 400);
  CHECK(test::http("POST", url + "/messages", auth_json, "{\"text\":\"\xff\"}").status == 400);  // not UTF-8
  CHECK(test::http("POST", url + "/messages", auth_json, "{\"text\":\"" + std::string(17000, 'a') + "\"}").status ==
        413);
  CHECK(test::http("POST", url + "/transfer", auth_json, "{}").status == 400);
  CHECK(test::http("POST", url + "/transfer", auth_json, R"({"destination":"sa\nles"})").status == 400);
  CHECK(test::http("POST", url + "/transfer", auth_json, "{\"destination\":\"" + std::string(65, 's') + "\"}").status ==
        400);
  CHECK(test::http("POST", base + "/v1/calls/" + test::test_call_sid(32) + "/hangup", auth, "").status == 404);
  CHECK(h.logs().contains("api: refused an operator message for call " + sid));
  // None of them reached the call: it runs on, and it published no call.control.
  CHECK(h.registry().active() == 1);
  CHECK(call_control_events(h) == 0);
  CHECK_FALSE(h.logs().contains("api: operator"));

  // Accepted: 2000 characters (two bytes each in UTF-8) are a message; the call takes each command.
  std::string longest;
  for (int i = 0; i < 2000; ++i) longest += "\xc3\xa9";  // é
  for (const auto& [path, body] : {std::pair{"/messages", "{\"text\":\"" + longest + "\"}"},
                                   std::pair{"/messages", std::string(R"({"text":"The caller's order shipped."})")},
                                   std::pair{"/transfer", std::string(R"({"destination":"sales"})")},
                                   std::pair{"/hangup", std::string()}}) {
    INFO(path);
    const auto r = test::http("POST", url + path, auth_json, body);
    CHECK(r.status == 202);
    CHECK(r.body == R"({"status":"requested"})");
  }
  CHECK(h.logs().contains("api: operator hang-up requested for call " + sid));

  const auto reports = pending.get();
  INFO(reports.at(0).failure);
  REQUIRE(listener.wait_for([&](const events_t& ev) { return test::has_event(ev, "call.ended", sid); }));
  CHECK(test::http("POST", url + "/hangup", auth, "").status == 404);
}

TEST_CASE("GET /v1/agents lists the profiles, the default one marked", "[integration][operator]") {
  test::temp_dir dir;
  const auto agents_file =
      dir.write("agents.json", R"({"agents": {"sales": {"instructions": "Sales."}, "support": {"instructions": "Help."}}})");
  test::bridge_harness h({.tweak = [&](config::settings& s, bridge::bridge_context& b) {
    with_token(s, b);
    s.agents_file = agents_file;
    s.default_agent = "support";
  }});
  const auto url = "http://127.0.0.1:" + std::to_string(h.port()) + "/v1/agents";
  CHECK(test::http("GET", url, {}, "").status == 401);
  CHECK(test::http("POST", url, auth, "").status == 405);

  const auto r = test::http("GET", url, auth, "");
  REQUIRE(r.status == 200);
  std::vector<std::pair<std::string, bool>> listed;
  const auto body = boost::json::parse(r.body);
  for (const auto& a : body.at("agents").as_array()) {
    listed.emplace_back(a.at("name").as_string(), a.at("default").as_bool());
    CHECK(a.at("transfers").as_array().empty());  // none of these profiles has transfer destinations
  }
  CHECK(listed == std::vector<std::pair<std::string, bool>>{{"default", false}, {"sales", false}, {"support", true}});
}
