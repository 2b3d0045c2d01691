#pragma once
// The simulated GPT-Live session: what session.start may carry, checked as strictly as the service
// checks it (unknown fields are errors), the session object session.started and session.updated
// echo, and the one change session.update may make (the delegation). Pure.
//
// Accepted in session.start's `session`:
//   model          required string
//   instructions   string
//   input          up to 128 messages {role: developer|user|assistant, content: string or one part,
//                  type?: "message"}
//   audio          {format?: {type, rate?}, output?: {voice: string}}; formats: audio/pcm at 16000
//                  or 24000 Hz (the default, 24000), audio/pcmu and audio/pcma at 8000 Hz. One
//                  format covers both directions.
//   delegation     null or {type: "client"} (the default), or {type: "responses", responses?: {…}}
//   store          boolean (default false)
//   client         object or null, kept as given
// Anything else, at any level, is unknown_parameter. After the start, model, instructions, input,
// audio, store, client and the delegation type are immutable (immutable_field_update); session.update
// may replace the delegation object of the same type.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "simulator/config_error.hpp"

namespace mb::simulator {

class live_config {
 public:
  live_config(std::string session_id, std::int64_t expires_at_unix_s);

  // Checks the `session` of a session.start and, when it is valid, takes it. A rejected start
  // changes nothing.
  std::optional<config_error> start(const boost::json::value& session);
  // Checks the `session` of a session.update; when valid, replaces the delegation.
  std::optional<config_error> update(const boost::json::value& session);

  // Replaces the announced format type (negative tests: confirm a format the client did not ask for),
  // with that type's rate.
  void force_format(std::string_view type);

  [[nodiscard]] const boost::json::object& json() const noexcept { return session_; }
  [[nodiscard]] const std::string& format() const noexcept { return format_; }  // e.g. "audio/pcmu"
  [[nodiscard]] std::int64_t rate() const noexcept { return rate_; }
  [[nodiscard]] const std::string& model() const noexcept { return model_; }

 private:
  void refresh_views();

  boost::json::object session_;
  std::string format_;
  std::int64_t rate_ = 0;
  std::string model_;
};

}  // namespace mb::simulator
