#pragma once
// Named agent profiles (AGENTS_FILE, JSON; docs/agents.md): what the assistant is told, how it
// sounds, which model answers, and which calls it takes.
//
// @par Thread Safety
// Pure; a catalog is immutable after creation and may be read from any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agents/prompt_template.hpp"
#include "call/call_tools.hpp"
#include "protocol/realtime_events.hpp"
#include "upstream/provider.hpp"

namespace mb::agents {

// How a profile's calls reach the model (docs/sip.md).
enum class call_mode {
  media_stream,  // Twilio streams the call's audio through this server (<Connect><Stream>)
  sip,           // Twilio dials OpenAI's SIP endpoint (<Dial><Sip>); this server accepts and watches the call
};

struct agent_profile {
  std::string name;                  // [A-Za-z0-9_-], 1-64 characters
  protocol::session_config session;  // session.instructions may hold {{variables}}
  std::string greeting;              // may hold {{variables}}; empty: wait for the caller to speak
  upstream::provider_kind provider = upstream::provider_kind::openai_realtime;
  std::string model;                 // empty: the provider's model from the settings (upstream_for)
  std::vector<std::string> numbers;  // called numbers (Twilio's To) that select this profile
  variables defaults;                // values for {{variables}} a call does not supply
  call::call_tools_config tools;     // webhook tools, call control and DTMF (docs/tools.md)
  call_mode mode = call_mode::media_stream;  // sip: only with provider openai-realtime or openai-live
  bool record = false;               // the call is recorded (docs/recording.md); Media Streams calls only

  // The {{variables}} of its instructions and greeting, once each.
  [[nodiscard]] std::vector<std::string> variables_used() const;
};

[[nodiscard]] bool valid_profile_name(std::string_view name);

// Why `profile` cannot run in its mode (SIP mode: only OpenAI's providers take SIP calls); nullopt when it can.
[[nodiscard]] std::optional<std::string> sip_mode_problem(const agent_profile& profile);

// Reads an AGENTS_FILE: {"agents": {"<name>": {<profile>}, ...}}. Each profile inherits what it
// leaves out from `base` (the profile the settings describe), except `numbers` and `variables`; a
// profile that names another provider than `base` does not inherit `model` either.
// Returns `base` followed by the file's profiles, a file profile named like `base` replacing it;
// nullopt with `error` naming the offending field (e.g. "agents.sales.vad.threshold: ...").
[[nodiscard]] std::optional<std::vector<agent_profile>> parse_profiles(std::string_view json, const agent_profile& base,
                                                                       std::string& error);

class agent_catalog {
 public:
  // nullopt with `error` when `default_name` is not a profile or two profiles claim one number.
  static std::optional<agent_catalog> create(std::vector<agent_profile> profiles, std::string_view default_name,
                                             std::string& error);

  // `requested` non-empty: the profile of that name, or nullptr when there is none. Otherwise the
  // profile listing `called_number`, else the default profile.
  [[nodiscard]] const agent_profile* select(std::string_view requested, std::string_view called_number) const;
  [[nodiscard]] const agent_profile& default_profile() const { return profiles_[default_index_]; }
  [[nodiscard]] const std::vector<agent_profile>& profiles() const { return profiles_; }

 private:
  agent_catalog(std::vector<agent_profile> profiles, std::size_t default_index)
      : profiles_(std::move(profiles)), default_index_(default_index) {}
  std::vector<agent_profile> profiles_;
  std::size_t default_index_ = 0;
};

}  // namespace mb::agents
