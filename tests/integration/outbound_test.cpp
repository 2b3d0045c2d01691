// Outbound calls and campaigns against the Twilio REST simulator: what Calls.json receives, signed
// status callbacks moving each call, forged ones refused, and a campaign's pacing and concurrency.

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include <boost/json.hpp>

#include "net/http_client.hpp"
#include "protocol/twilio_signature.hpp"
#include "server/bridge_setup.hpp"
#include "telephony/twilio_client.hpp"
#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/temp_dir.hpp"
#include "tools/twilio_rest_sim/rest_simulator.hpp"

using namespace mb;
using namespace std::chrono_literals;
namespace rest = tools::twilio_rest;

namespace {

constexpr const char* account_sid = "AC0123456789abcdef0123456789abcdef";
constexpr const char* auth_token = "twilio-test-token";
constexpr const char* caller_id = "+15550001111";
constexpr const char* profiles = R"({"agents": {"sales": {"instructions": "You call {{name}} about {{topic}}."}}})";

net::http_response request(const std::string& method, const std::string& url, std::string body,
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
  asio::io_context ioc;
  net::http_response response;
  asio::co_spawn(ioc, net::http_request(method, url, std::move(headers), std::move(body), nullptr, 5000),
                 [&](std::exception_ptr, net::http_response r) { response = std::move(r); });
  ioc.run_for(10s);
  return response;
}

boost::json::object json_of(const net::http_response& r) {
  INFO(r.status << " " << r.body << " " << r.failure);
  return boost::json::parse(r.body).as_object();
}

struct fixture {
  rest::rest_simulator sim{{.account_sid = account_sid, .auth_token = auth_token}};
  std::uint16_t sim_port = sim.start();
  std::optional<telephony::twilio_client> client;
  test::temp_dir dir;
  std::string agents_file = dir.write("agents.json", profiles);
  test::bridge_harness h{{.tweak = [this](config::settings& s, bridge::bridge_context& b) {
    s.agents_file = agents_file;
    s.twilio_account_sid = account_sid;
    s.twilio_auth_token = config::secret(auth_token);
    s.twilio_api_base_url = sim.base_url();
    s.twilio_rest_retries = 0;
    s.outbound_from_number = caller_id;
    client.emplace(server::twilio_client_options_from(s), b.tls);
    b.twilio_rest = &*client;
  }}};

  std::string base() const { return "http://127.0.0.1:" + std::to_string(h.port()); }

  net::http_response post_json(const std::string& path, const std::string& body) {
    return request("POST", base() + path, body, {{"Content-Type", "application/json"}});
  }

  // The outbound status GET /v1/calls/{sid} shows.
  std::string outbound_status(const std::string& sid) {
    const auto r = request("GET", base() + "/v1/calls/" + sid, {});
    if (r.status != 200) return "(HTTP " + std::to_string(r.status) + ")";
    const auto body = json_of(r);
    const auto& outbound = body.at("outbound");
    return outbound.is_object() ? std::string(outbound.at("status").as_string()) : "(none)";
  }

  // Polls the API (there is no event to wait on) until `done` holds, bounded.
  template <class F>
  bool poll(F done, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return done();
  }

  net::http_response status_callback(const std::string& sid, const std::string& status, const std::string& signature) {
    const std::string body = "CallSid=" + sid + "&CallStatus=" + status + "&AccountSid=" + account_sid;
    return request("POST", base() + "/twilio/status", body,
                   {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Twilio-Signature", signature}});
  }
};

bool all_callbacks_answered(const rest::call_record& c, std::size_t count) {
  return c.callbacks.size() == count &&
         std::all_of(c.callbacks.begin(), c.callbacks.end(), [](const auto& cb) { return cb.http_status == 204; });
}

}  // namespace

TEST_CASE("outbound: POST /v1/calls places the call with the agent and variables, and signed status callbacks move it",
          "[integration][outbound]") {
  fixture f;
  f.sim.script_number("+15551230001", {.fetch_voice_url = true});
  const auto r = f.post_json("/v1/calls",
                             R"({"to":"+15551230001","agent":"sales","variables":{"name":"Ann Lee","topic":"renewal"}})");
  REQUIRE(r.status == 201);
  const auto created = json_of(r);
  CHECK(created.at("status").as_string() == "queued");
  const std::string sid(created.at("call_sid").as_string());

  REQUIRE(f.sim.wait_until(
      [&](const rest::rest_sim_state& s) {
        const auto* c = s.call(sid);
        return c && c->status == "completed" && all_callbacks_answered(*c, 4);
      },
      10s));
  const auto state = f.sim.snapshot();
  REQUIRE(state.count("POST", "/2010-04-01/Accounts/" + std::string(account_sid) + "/Calls.json") == 1);
  const auto& create = state.requests.front();
  CHECK(create.authorised);
  CHECK(create.auth_user == account_sid);
  const auto call = *f.sim.call(sid);
  CHECK(call.to == "+15551230001");
  CHECK(call.from == caller_id);
  CHECK(call.url == f.base() + "/voice?agent=sales&var.name=Ann%20Lee&var.topic=renewal");
  CHECK(call.status_callback == f.base() + "/twilio/status");
  std::vector<std::string> sent;
  for (const auto& cb : call.callbacks) sent.push_back(cb.call_status);
  CHECK(sent == std::vector<std::string>{"initiated", "ringing", "in-progress", "completed"});
  // On answer Twilio fetched the signed voice URL: the variables became the stream's parameters.
  CHECK(call.voice_status == 200);
  CHECK(call.voice_twiml.find(R"(<Parameter name="agent" value="sales"/>)") != std::string::npos);
  CHECK(call.voice_twiml.find(R"(<Parameter name="name" value="Ann Lee"/>)") != std::string::npos);
  CHECK(call.voice_twiml.find(R"(<Parameter name="topic" value="renewal"/>)") != std::string::npos);
  CHECK(f.poll([&] { return f.outbound_status(sid) == "completed"; }));
}

TEST_CASE("outbound: a forged status callback changes nothing, the signed one moves the call", "[integration][outbound]") {
  fixture f;
  f.sim.script_number("+15551230002", {.complete_after_ms = -1});  // stays in progress until hung up
  const auto r = f.post_json("/v1/calls", R"({"to":"+15551230002","agent":"sales"})");
  REQUIRE(r.status == 201);
  const std::string sid(json_of(r).at("call_sid").as_string());
  REQUIRE(f.poll([&] { return f.outbound_status(sid) == "in-progress"; }));

  CHECK(f.status_callback(sid, "completed", "forged").status == 403);
  CHECK(f.status_callback(sid, "completed", "").status == 403);
  CHECK(f.outbound_status(sid) == "in-progress");

  // Unknown calls are answered and ignored: no state appears for them.
  const std::string stranger = "CA00000000000000000000000000000000";
  const auto url = f.base() + "/twilio/status";
  const protocol::form_fields unknown{{"CallSid", stranger}, {"CallStatus", "completed"}, {"AccountSid", account_sid}};
  CHECK(f.status_callback(stranger, "completed", protocol::twilio_signature(auth_token, url, unknown)).status == 204);
  CHECK(request("GET", f.base() + "/v1/calls/" + stranger, {}).status == 503);  // no history, not ours

  const protocol::form_fields fields{{"CallSid", sid}, {"CallStatus", "completed"}, {"AccountSid", account_sid}};
  CHECK(f.status_callback(sid, "completed", protocol::twilio_signature(auth_token, url, fields)).status == 204);
  CHECK(f.poll([&] { return f.outbound_status(sid) == "completed"; }));
}

TEST_CASE("outbound: bad requests are refused before any call is placed", "[integration][outbound]") {
  fixture f;
  CHECK(f.post_json("/v1/calls", R"({"to":"5551230000","agent":"sales"})").status == 400);
  CHECK(f.post_json("/v1/calls", R"({"to":"+15551230000","agent":"nobody"})").status == 400);
  CHECK(f.post_json("/v1/calls", R"({"to":"+15551230000","variables":{"bad name":"x"}})").status == 400);
  CHECK(f.post_json("/v1/calls", R"({"to":"+15551230000","variables":{"name":1}})").status == 400);
  CHECK(f.post_json("/v1/calls", "not json").status == 400);
  CHECK(f.post_json("/v1/campaigns", R"({"agent":"sales","csv":"phone\n+15551230000\n"})").status == 400);
  CHECK(f.post_json("/v1/campaigns", R"({"agent":"sales","csv":"number\n","calls_per_second":0})").status == 400);
  CHECK(f.sim.snapshot().requests.empty());
}

TEST_CASE("outbound: a 20-row campaign is paced, holds max_active, reports bad rows and ends every row",
          "[integration][outbound]") {
  fixture f;
  constexpr double calls_per_second = 10;
  constexpr std::size_t max_active = 3;
  // Each call lasts ~200 ms at the simulator: longer than the spacing, so max_active is what holds it.
  const rest::call_script completes{.ringing_after_ms = 10, .answer_after_ms = 40, .complete_after_ms = 150};
  const rest::call_script busy{.outcome = rest::call_script::end::busy, .ringing_after_ms = 10, .answer_after_ms = 190};
  const rest::call_script no_answer{.outcome = rest::call_script::end::no_answer, .ringing_after_ms = 10,
                                    .answer_after_ms = 190};
  std::string csv = "number,name\n";
  std::map<std::string, std::string> expected;  // number -> final status
  const std::vector<std::int64_t> bad_lines = {5, 12, 21};
  for (std::size_t line = 2; line <= 21; ++line) {  // 20 rows
    const auto number = "+1555123" + std::to_string(1000 + line);
    if (line == 5) {
      csv += "555-0100,Bad\n";  // not E.164
    } else if (line == 12) {
      csv += number + ",Too,Many\n";
    } else if (line == 21) {
      csv += number + ",\"unclosed\n";
    } else {
      const auto kind = line % 3;
      f.sim.script_number(number, kind == 0 ? completes : kind == 1 ? busy : no_answer);
      expected[number] = kind == 0 ? "completed" : kind == 1 ? "busy" : "no-answer";
      csv += number + ",Person " + std::to_string(line) + "\n";
    }
  }
  REQUIRE(expected.size() == 17);

  boost::json::object body{{"agent", "sales"}, {"csv", csv}, {"calls_per_second", calls_per_second},
                           {"max_active", max_active}};
  const auto r = f.post_json("/v1/campaigns", boost::json::serialize(body));
  REQUIRE(r.status == 201);
  const auto created = json_of(r);
  const std::string id(created.at("id").as_string());
  CHECK(created.at("rows").as_int64() == 17);
  std::vector<std::int64_t> rejected_lines;
  for (const auto& row : created.at("rejected").as_array()) {
    rejected_lines.push_back(row.at("line").as_int64());
    CHECK_FALSE(row.at("error").as_string().empty());
  }
  CHECK(rejected_lines == bad_lines);

  REQUIRE(f.sim.wait_until(
      [&](const rest::rest_sim_state& s) {
        return s.calls.size() == expected.size() && std::all_of(s.calls.begin(), s.calls.end(), [](const auto& c) {
                 return !c.callbacks.empty() && c.callbacks.back().http_status == 204 &&
                        (c.status == "completed" || c.status == "busy" || c.status == "no-answer");
               });
      },
      20s));
  REQUIRE(f.poll([&] {
    return json_of(request("GET", f.base() + "/v1/campaigns/" + id, {})).at("state").as_string() == "done";
  }));

  const auto state = f.sim.snapshot();
  // Pacing: Calls.json requests at least 1/calls_per_second apart (less a margin for delivery jitter).
  std::vector<rest::sim_clock::time_point> placed;
  for (const auto& req : state.requests)
    if (req.method == "POST" && req.path.ends_with("/Calls.json")) placed.push_back(req.at);
  REQUIRE(placed.size() == expected.size());
  for (std::size_t i = 1; i < placed.size(); ++i) {
    INFO("request " << i);
    CHECK(placed[i] - placed[i - 1] >= 70ms);
  }
  // Concurrency: a call is active at the simulator from its creation request to its final callback; the
  // server counts it from before the request until it takes that callback, so the simulator sees no
  // more. The simulator stamps the callback when our answer has come back, which may be after the
  // server placed the next call: 5 ms of margin cover that.
  std::vector<std::pair<rest::sim_clock::time_point, int>> edges;
  for (const auto& c : state.calls) {
    const auto created_at = std::find_if(state.requests.begin(), state.requests.end(), [&](const auto& req) {
      return req.path.ends_with("/Calls.json") && protocol::form_value(req.form, "To") == c.to;
    });
    REQUIRE(created_at != state.requests.end());
    edges.emplace_back(created_at->at, +1);
    edges.emplace_back(c.callbacks.back().at - 5ms, -1);
  }
  std::sort(edges.begin(), edges.end(), [](const auto& a, const auto& b) {
    return a.first < b.first || (a.first == b.first && a.second < b.second);
  });
  int active = 0;
  int most = 0;
  for (const auto& [at, step] : edges) most = std::max(most, active += step);
  CHECK(most <= static_cast<int>(max_active));
  CHECK(most >= 2);  // the calls did overlap: the limit, not the spacing alone, was tested

  // Every dialable row shows its call and final status; the bad ones were never dialled.
  const auto detail = json_of(request("GET", f.base() + "/v1/campaigns/" + id, {}));
  CHECK(detail.at("agent").as_string() == "sales");
  CHECK(detail.at("rejected") == created.at("rejected"));
  const auto& rows = detail.at("rows").as_array();
  REQUIRE(rows.size() == expected.size());
  for (const auto& v : rows) {
    const auto& row = v.as_object();
    const std::string number(row.at("number").as_string());
    INFO(number);
    CHECK(row.at("status").as_string() == expected.at(number));
    const auto* call = state.call(row.at("call_sid").as_string());
    REQUIRE(call);
    CHECK(call->to == number);
    CHECK(call->url.find("var.name=Person%20") != std::string::npos);
    CHECK(row.at("error").is_null());
  }
  for (const auto& c : state.calls) CHECK(expected.count(c.to) == 1);

  const auto list = json_of(request("GET", f.base() + "/v1/campaigns", {}));
  REQUIRE(list.at("campaigns").as_array().size() == 1);
  const auto& summary = list.at("campaigns").as_array()[0].as_object();
  CHECK(summary.at("id").as_string() == id);
  CHECK(summary.at("state").as_string() == "done");
  const auto& counts = summary.at("counts").as_object();
  std::int64_t total = 0;
  for (const auto& [status, n] : counts) total += n.as_int64();
  CHECK(total == 17);
  CHECK(counts.at("completed").as_int64() == std::count_if(expected.begin(), expected.end(), [](const auto& e) {
          return e.second == "completed";
        }));
}

TEST_CASE("outbound: cancelling a campaign stops dialling and its pending rows are canceled", "[integration][outbound]") {
  fixture f;
  const auto r = f.post_json("/v1/campaigns",
                             R"({"agent":"sales","csv":"number\n+15551230101\n+15551230102\n+15551230103\n","calls_per_second":0.2})");
  REQUIRE(r.status == 201);
  const std::string id(json_of(r).at("id").as_string());
  REQUIRE(f.sim.wait_until([](const rest::rest_sim_state& s) { return s.calls.size() == 1; }, 5s));
  const auto cancelled = f.post_json("/v1/campaigns/" + id + "/cancel", "");
  REQUIRE(cancelled.status == 200);
  const auto detail = json_of(cancelled);
  CHECK(detail.at("state").as_string() == "cancelled");
  CHECK(detail.at("rows").as_array()[1].at("status").as_string() == "canceled");
  CHECK(detail.at("rows").as_array()[2].at("status").as_string() == "canceled");
  CHECK(f.post_json("/v1/campaigns/0123abcd/cancel", "").status == 404);
  CHECK(f.sim.snapshot().calls.size() == 1);
}
