#include "tests/integration/support/sim_client.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "codec/g711.hpp"
#include "protocol/base64.hpp"
#include "simulator/audio_pattern.hpp"

namespace mb::test {

namespace json = boost::json;
using namespace std::chrono_literals;

running_simulator::running_simulator(simulator::simulator_options options) : simulator(ioc, std::move(options)) {
  simulator.listen("127.0.0.1", 0);
  thread = std::thread([this] { ioc.run(); });
}

running_simulator::~running_simulator() {
  simulator.stop();
  simulator.wait_until(
      [](const auto& sessions) {
        for (const auto& s : sessions)
          if (!s.closed) return false;
        return true;
      },
      5s);
  ioc.stop();
  thread.join();
}

std::string running_simulator::realtime_url() const {
  return simulator.url_for(upstream::provider_kind::openai_realtime) + "?model=gpt-realtime";
}

std::string running_simulator::live_url() const { return simulator.url_for(upstream::provider_kind::openai_live); }

std::string running_simulator::gemini_url() const { return simulator.url_for(upstream::provider_kind::gemini_live); }

net::awaitable<void> sim_client::send(const json::value& event) {
  const std::string text = json::serialize(event);
  const auto ec = co_await net::write_message(*ws, text);
  REQUIRE_FALSE(ec);
}

net::awaitable<void> sim_client::send_text(std::string_view text) {
  const auto ec = co_await net::write_message(*ws, text);
  REQUIRE_FALSE(ec);
}

net::awaitable<void> sim_client::append_audio(std::string_view type, const std::string& audio) {
  for (std::size_t at = 0; at < audio.size(); at += 160) {
    const json::object event{{"type", type}, {"audio", protocol::base64_encode(std::string_view(audio).substr(at, 160))}};
    co_await send(event);
  }
}

net::awaitable<std::string> sim_client::next_text() {
  const auto r = co_await ws->read(buffer, 0);
  REQUIRE(r.status == net::read_status::message);
  co_return buffer;
}

net::awaitable<json::object> sim_client::next() {
  const auto r = co_await ws->read(buffer, 0);
  REQUIRE(r.status == net::read_status::message);
  json::value v = json::parse(buffer);
  REQUIRE(v.is_object());
  events.push_back(v.as_object());
  co_return v.as_object();
}

net::awaitable<json::object> sim_client::until(std::string_view type) {
  for (;;) {
    json::object e = co_await next();
    if (e.at("type").as_string() == type) co_return e;
  }
}

net::awaitable<std::uint16_t> sim_client::closed_by_peer() {
  const auto r = co_await ws->read(buffer, 0);
  INFO(buffer);
  REQUIRE(r.status == net::read_status::closed);
  co_return ws->peer_close_reason().code;
}

long sim_client::index_of(std::string_view type) const {
  for (std::size_t i = 0; i < events.size(); ++i)
    if (events[i].at("type").as_string() == type) return static_cast<long>(i);
  return -1;
}

std::size_t sim_client::count(std::string_view type) const {
  std::size_t n = 0;
  for (const auto& e : events) n += e.at("type").as_string() == type;
  return n;
}

net::awaitable<sim_client> open_client(const std::string& url, bool with_key) {
  upgrade_headers headers;
  if (with_key) headers = {{"Authorization", "Bearer sk-test"}};
  co_return co_await open_client(url, std::move(headers));
}

namespace {

net::awaitable<net::connect_result> connect(const std::string& url, upgrade_headers headers) {
  net::connect_request request;
  request.url = url;
  request.headers = std::move(headers);
  request.connect_timeout_ms = 3000;
  co_return co_await net::connect_websocket(request, nullptr);
}

}  // namespace

net::awaitable<sim_client> open_client(const std::string& url, upgrade_headers headers) {
  auto result = co_await connect(url, std::move(headers));
  INFO(result.failure);
  REQUIRE(result.socket);
  co_return sim_client{std::move(result.socket), {}, {}};
}

net::awaitable<int> refused_status(const std::string& url, upgrade_headers headers) {
  const auto result = co_await connect(url, std::move(headers));
  co_return result.socket ? 0 : result.http_status;
}

std::string ulaw(int ms, bool loud) {
  std::string out(static_cast<std::size_t>(ms) * 8, static_cast<char>(codec::ulaw_silence));
  if (loud)
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<char>(codec::linear_to_ulaw(static_cast<std::int16_t>(
          std::lround(10000 * std::sin(2 * std::numbers::pi * 440 * static_cast<double>(i) / 8000.0)))));
  return out;
}

std::string pcm16(int ms, bool loud, std::uint32_t rate_hz) {
  std::string out(static_cast<std::size_t>(ms) * rate_hz / 1000 * 2, '\0');
  if (loud)
    for (std::size_t i = 0; i < out.size() / 2; ++i) {
      const auto s = static_cast<std::uint16_t>(static_cast<std::int16_t>(
          std::lround(10000 * std::sin(2 * std::numbers::pi * 440 * static_cast<double>(i) / rate_hz))));
      out[2 * i] = static_cast<char>(s & 0xff);
      out[2 * i + 1] = static_cast<char>(s >> 8);
    }
  return out;
}

std::string decode_delta(const json::object& event) {
  auto bytes = protocol::base64_decode(event.at("delta").as_string());
  REQUIRE(bytes);
  return *bytes;
}

bool matches_pattern(std::uint32_t response, std::uint64_t offset, const std::string& bytes) {
  return simulator::is_assistant_audio(response, offset,
                                       {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}

}  // namespace mb::test
