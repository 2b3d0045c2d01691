#include "call/call_state.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

using namespace mb::call;
namespace proto = mb::protocol;

namespace {

template <class T>
std::vector<T> only(const std::vector<action>& actions) {
  std::vector<T> out;
  for (const auto& a : actions)
    if (const auto* x = std::get_if<T>(&a)) out.push_back(*x);
  return out;
}

}  // namespace

TEST_CASE("configure() gives a call its agent's session, greeting and name", "[call]") {
  proto::session_config defaults;
  defaults.instructions = "process-wide instructions";
  call_options options;
  options.greeting = "process-wide greeting";
  call_state state(defaults, options);

  proto::session_config session;
  session.instructions = "You sell widgets for Acme.";
  session.voice = "cedar";
  state.configure(session, "Greet the caller by name.", "sales");

  proto::twilio_start start;
  start.stream_sid = "MZ0123456789abcdef0123456789abcdef";
  start.call_sid = "CA0123456789abcdef0123456789abcdef";
  start.custom_parameters = {{"agent", "sales"}};
  start.encoding = "audio/x-mulaw";
  start.sample_rate = 8000;
  start.channels = 1;
  proto::twilio_message msg;
  msg.event = proto::twilio_event::start;
  msg.start = start;
  std::vector<action> out;
  state.on_twilio(msg, 1000, out);
  const auto published = only<publish>(out);
  REQUIRE(published.size() == 1);
  const auto& started = std::get<call_started>(published[0].event);
  CHECK(started.agent == "sales");
  CHECK(started.parameters == start.custom_parameters);

  out.clear();
  state.on_upstream_connected(out);
  const auto update = boost::json::parse(only<send_upstream_event>(out).at(0).json).as_object();
  CHECK(update.at("session").at("instructions").as_string() == "You sell widgets for Acme.");
  CHECK(boost::json::serialize(update).find(R"("voice":"cedar")") != std::string::npos);

  out.clear();
  mb::upstream::event updated;
  updated.kind = mb::upstream::event_kind::session_ready;
  updated.input_format = "audio/pcmu";
  updated.output_format = "audio/pcmu";
  state.on_upstream(updated, 1100, out);
  const auto create = boost::json::parse(only<send_upstream_event>(out).at(0).json).as_object();
  CHECK(create.at("type").as_string() == "response.create");
  CHECK(create.at("response").at("instructions").as_string() == "Greet the caller by name.");
}
