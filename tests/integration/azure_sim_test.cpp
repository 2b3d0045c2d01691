// The simulator as an Azure OpenAI resource, over real loopback WebSockets: the Realtime API on
// /openai/v1/realtime?model=<deployment> and GPT-Live on /openai/v1/live and /openai/v1/live/sessions,
// each needing an api-key header or a bearer token (recorded, so tests can tell the key went in a
// header and not the URL), and GPT-Live confirming 24 kHz PCM16 instead of μ-law when told to.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include "protocol/base64.hpp"
#include "simulator/audio_pattern.hpp"
#include "simulator/upstream_simulator.hpp"
#include "tests/integration/support/sim_client.hpp"

namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
namespace sim = mb::simulator;
namespace test = mb::test;
using mb::net::awaitable;
using mb::upstream::provider_kind;

using headers = test::upgrade_headers;
const headers no_credentials;
const headers api_key = {{"api-key", "azure-key"}};
const headers bearer_token = {{"Authorization", "Bearer entra-token"}};
const headers empty_bearer_token = {{"Authorization", "Bearer "}};

constexpr std::string_view pcm_start = R"({"type":"session.start","session":{"model":"gpt-live-1",
  "audio":{"format":{"type":"audio/pcmu","rate":8000}}}})";

// `ms` of 24 kHz PCM16 LE, a loud tone or silence, in 20 ms appends.
awaitable<void> speak_pcm24(test::sim_client& c, int ms, bool loud) {
  const std::string audio = test::pcm16(ms, loud, 24000);
  for (std::size_t at = 0; at < audio.size(); at += 960) {
    const std::string text = R"({"type":"session.input_audio.append","audio":")" +
                             mb::protocol::base64_encode(std::string_view(audio).substr(at, 960)) + R"("})";
    co_await c.send_text(text);
  }
}

}  // namespace

TEST_CASE("azure sim: Realtime on /openai/v1/realtime?model=<deployment>, by api-key or bearer, never without",
          "[integration][sim][azure_sim]") {
  test::running_simulator rs;
  const std::string base = rs.simulator.endpoint();
  CHECK(base.starts_with("http://127.0.0.1:"));
  const std::string url = rs.simulator.url_for(provider_kind::azure_realtime) + "?model=my-realtime";
  CHECK(url == "ws://" + base.substr(7) + "/openai/v1/realtime?model=my-realtime");
  test::run_client([&]() -> awaitable<void> {
    const int none = co_await test::refused_status(url, no_credentials);
    CHECK(none == 401);
    const int empty_bearer = co_await test::refused_status(url, empty_bearer_token);
    CHECK(empty_bearer == 401);
    auto by_key = co_await test::open_client(url, api_key);
    const auto created = co_await by_key.until("session.created");
    CHECK(created.at("session").at("model").as_string() == "my-realtime");
    auto by_token = co_await test::open_client(url, bearer_token);
    co_await by_token.until("session.created");
    // The key in the query is what the bridge must never do; the simulator notes it.
    auto in_url = co_await test::open_client(url + "&api-key=azure-key", api_key);
    co_await in_url.until("session.created");
  });
  REQUIRE(rs.simulator.wait_until([](const auto& s) { return s.size() == 3; }, 3s));
  const auto s = rs.simulator.sessions();
  CHECK(rs.simulator.stats().refused_upgrades == 2);
  for (const auto& session : s) CHECK(session.provider == provider_kind::azure_realtime);
  CHECK(s[0].credentials == "api-key");
  CHECK_FALSE(s[0].had_authorization);
  CHECK_FALSE(s[0].key_in_query);
  CHECK(s[0].model == "my-realtime");
  CHECK(s[1].credentials == "bearer");
  CHECK(s[1].had_authorization);
  CHECK(s[2].key_in_query);
}

TEST_CASE("azure sim: GPT-Live on /openai/v1/live and /openai/v1/live/sessions", "[integration][sim][azure_sim]") {
  test::running_simulator rs;
  const std::string live = rs.simulator.url_for(provider_kind::azure_live);
  CHECK(live.ends_with("/openai/v1/live"));
  CHECK(sim::provider_for_target("/openai/v1/live/sessions") == provider_kind::azure_live);
  test::run_client([&]() -> awaitable<void> {
    const int none = co_await test::refused_status(live + "/sessions", no_credentials);
    CHECK(none == 401);
    const std::vector<std::string> urls = {live, live + "/sessions"};
    for (const auto& url : urls) {
      auto c = co_await test::open_client(url, api_key);
      co_await c.send_text(pcm_start);
      const auto started = co_await c.next();
      CHECK(started.at("type").as_string() == "session.started");
      CHECK(started.at("session").at("audio").at("format") == json::parse(R"({"type":"audio/pcmu","rate":8000})"));
    }
  });
  REQUIRE(rs.simulator.wait_until([](const auto& s) { return s.size() == 2; }, 3s));
  for (const auto& s : rs.simulator.sessions()) {
    CHECK(s.provider == provider_kind::azure_live);
    CHECK(s.credentials == "api-key");
  }
  CHECK(rs.simulator.stats().live_sessions == 2);
}

TEST_CASE("azure sim: GPT-Live told to confirm audio/pcm sends and hears 24 kHz PCM16 (the transcoding fallback)",
          "[integration][sim][azure_sim]") {
  sim::simulator_options options;
  options.force_output_format = "audio/pcm";
  options.response_ms = 500;
  options.speed = 20;
  test::running_simulator rs(options);
  std::string audio;
  test::run_client([&]() -> awaitable<void> {
    auto c = co_await test::open_client(rs.simulator.url_for(provider_kind::azure_live), bearer_token);
    co_await c.send_text(pcm_start);
    const auto started = co_await c.next();
    CHECK(started.at("session").at("audio").at("format") == json::parse(R"({"type":"audio/pcm","rate":24000})"));
    co_await speak_pcm24(c, 300, true);
    co_await speak_pcm24(c, 600, false);
    const auto heard = co_await c.until("session.input_transcript.delta");
    CHECK(heard.at("delta").as_string() == "Caller");
    while (audio.size() < 24000) {  // 500 ms at 24 kHz, two bytes a sample
      const auto delta = co_await c.until("session.output_audio.delta");
      audio += test::decode_delta(delta);
    }
  });
  CHECK(audio.size() == 24000);
  CHECK(sim::is_assistant_pcm16(0, 0, 24000, {reinterpret_cast<const std::uint8_t*>(audio.data()), audio.size()}));
  const auto s = rs.simulator.sessions().at(0);
  CHECK(s.output_format == "audio/pcm");
  REQUIRE(s.speech.size() == 1);
  CHECK(s.speech[0].audio_start_ms == 0);
  CHECK(s.speech[0].audio_end_ms == 800);
}
