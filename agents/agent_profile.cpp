#include "agents/agent_profile.hpp"

#include <algorithm>
#include <functional>
#include <utility>

#include <boost/json.hpp>

#include "call/call_control.hpp"
#include "agents/webhook_tools.hpp"
#include "config/settings.hpp"

namespace mb::agents {
namespace {

namespace json = boost::json;

constexpr std::size_t max_name_chars = 64;
constexpr std::size_t max_announcement_chars = 1000;

// Fills one profile from its JSON object; each reader returns a problem text or an empty string.
class profile_reader {
 public:
  profile_reader(const json::object& obj, std::string path) : obj_(obj), path_(std::move(path)) {}

  [[nodiscard]] const std::string& error() const { return error_; }

  void check_known_keys(std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : obj_)
      if (std::find(known.begin(), known.end(), key) == known.end()) fail(key, "unknown field");
  }

  void text(std::string_view key, std::string& out, bool allow_empty = true) {
    const auto* v = obj_.if_contains(key);
    if (!v) return;
    if (!v->is_string()) return fail(key, "expected a string");
    if (!allow_empty && v->get_string().empty()) return fail(key, "must not be empty");
    out = std::string(v->get_string());
  }

  // A string the settings validate the same way (`problem_of` returns nullopt when it is valid).
  void checked_text(std::string_view key, std::string& out,
                    std::optional<std::string> (*problem_of)(std::string_view)) {
    std::string value = out;
    text(key, value);
    if (auto problem = problem_of(value)) return fail(key, *problem);
    out = std::move(value);
  }

  // A non-empty string the settings validate the same way, when the profile names it.
  void checked_name(std::string_view key, std::string& out,
                    std::optional<std::string> (*problem_of)(std::string_view)) {
    if (!obj_.if_contains(key)) return;
    std::string value;
    text(key, value, false);
    if (!error_.empty()) return;
    if (auto problem = problem_of(value)) return fail(key, *problem);
    out = std::move(value);
  }

  void provider(std::string_view key, upstream::provider_kind& out) {
    const auto* v = obj_.if_contains(key);
    if (!v) return;
    const auto named = v->is_string() ? upstream::provider_from_name(v->get_string()) : std::nullopt;
    if (!named) return fail(key, "expected one of " + upstream::provider_names());
    out = *named;
  }

  void flag(std::string_view key, bool& out) {
    const auto* v = obj_.if_contains(key);
    if (!v) return;
    if (!v->is_bool()) return fail(key, "expected true or false");
    out = v->get_bool();
  }

  void whole(std::string_view key, int& out, int min, int max) {
    const auto* v = obj_.if_contains(key);
    if (!v) return;
    const auto n = v->is_int64() ? std::optional<std::int64_t>(v->get_int64())
                   : v->is_uint64() ? std::optional<std::int64_t>(static_cast<std::int64_t>(v->get_uint64()))
                                    : std::nullopt;
    if (!n || *n < min || *n > max)
      return fail(key, "expected a whole number in " + std::to_string(min) + ".." + std::to_string(max));
    out = static_cast<int>(*n);
  }

  void fraction(std::string_view key, double& out) {
    const auto* v = obj_.if_contains(key);
    if (!v) return;
    if (!v->is_number()) return fail(key, "expected a number in 0..1");
    const double d = v->to_number<double>();
    if (!(d >= 0.0 && d <= 1.0)) return fail(key, "expected a number in 0..1");
    out = d;
  }

  template <class E>
  void choice(std::string_view key, E& out, std::initializer_list<std::pair<std::string_view, E>> options) {
    const auto* v = obj_.if_contains(key);
    if (!v) return;
    std::string listed;
    for (const auto& [name, e] : options) {
      if (v->is_string() && v->get_string() == name) {
        out = e;
        return;
      }
      listed += (listed.empty() ? "" : "|") + std::string(name);
    }
    fail(key, "expected one of " + listed);
  }

  void strings(std::string_view key, std::vector<std::string>& out) {
    const auto* v = obj_.if_contains(key);
    if (!v) return;
    if (!v->is_array()) return fail(key, "expected an array of strings");
    for (const auto& item : v->get_array()) {
      if (!item.is_string() || item.get_string().empty()) return fail(key, "expected an array of non-empty strings");
      out.emplace_back(item.get_string());
    }
  }

  void string_map(std::string_view key, variables& out) {
    const auto* v = obj_.if_contains(key);
    if (!v) return;
    if (!v->is_object()) return fail(key, "expected an object of strings");
    for (const auto& [name, value] : v->get_object()) {
      if (!value.is_string()) return fail(std::string(key) + "." + std::string(name), "expected a string");
      out.emplace_back(name, value.get_string());
    }
  }

  // {"<name>": "<target>" | {"target": "...", "announcement": "..."}, ...}: replaces the inherited list.
  void transfers(std::string_view key, std::vector<call::transfer_destination>& out) {
    const auto* v = obj_.if_contains(key);
    if (!v) return;
    if (!v->is_object()) return fail(key, "expected an object of destinations");
    std::vector<call::transfer_destination> list;
    for (const auto& [name, value] : v->get_object()) {
      const auto field = std::string(key) + "." + std::string(name);
      if (auto problem = config::transfer_name_problem(name)) return fail(field, *problem);
      call::transfer_destination d{std::string(name), {}, {}};
      if (value.is_string()) {
        d.target = std::string(value.get_string());
      } else if (value.is_object()) {
        profile_reader nested(value.get_object(), path_ + "." + field);
        nested.check_known_keys({"target", "announcement"});
        nested.text("target", d.target, false);
        nested.text("announcement", d.announcement);
        if (!nested.error().empty()) return fail_with(nested.error());
        if (d.announcement.size() > max_announcement_chars)
          return fail(field + ".announcement", "at most " + std::to_string(max_announcement_chars) + " bytes");
      } else {
        return fail(field, "expected a target string or {\"target\", \"announcement\"}");
      }
      if (auto problem = config::transfer_target_problem(d.target)) return fail(field, *problem);
      list.push_back(std::move(d));
    }
    out = std::move(list);
  }

  void required(std::initializer_list<std::string_view> keys) {
    for (const auto key : keys)
      if (!obj_.if_contains(key)) fail(key, "required");
  }

  // A nested JSON value kept as its compact text: it must be an object.
  void json_object(std::string_view key, std::string& out, std::size_t max_bytes) {
    const auto* v = obj_.if_contains(key);
    if (!v) return;
    if (!v->is_object()) return fail(key, "expected an object");
    auto text = json::serialize(*v);
    if (text.size() > max_bytes) return fail(key, "larger than " + std::to_string(max_bytes) + " bytes");
    out = std::move(text);
  }

  // An array of at most `max_items` objects, each read by `fill` with its own path ("key[i]").
  void objects(std::string_view key, std::size_t max_items, const std::function<void(profile_reader&)>& fill) {
    const auto* v = obj_.if_contains(key);
    if (!v) return;
    if (!v->is_array()) return fail(key, "expected an array of objects");
    if (v->get_array().size() > max_items) return fail(key, "at most " + std::to_string(max_items) + " entries");
    for (std::size_t i = 0; i < v->get_array().size() && error_.empty(); ++i) {
      const auto at = std::string(key) + "[" + std::to_string(i) + "]";
      const auto& item = v->get_array()[i];
      if (!item.is_object()) return fail(at, "expected an object");
      profile_reader nested(item.get_object(), path_ + "." + at);
      fill(nested);
      fail_with(nested.error());
    }
  }

  // A nested object, read by `fill` with its own path.
  void object(std::string_view key, const std::function<void(profile_reader&)>& fill) {
    const auto* v = obj_.if_contains(key);
    if (!v) return;
    if (!v->is_object()) return fail(key, "expected an object");
    profile_reader nested(v->get_object(), path_ + "." + std::string(key));
    fill(nested);
    fail_with(nested.error());
  }

  // The first problem found is the one reported.
  void fail_with(const std::string& error) {
    if (error_.empty()) error_ = error;
  }
  void fail(std::string_view key, const std::string& problem) {
    if (error_.empty()) error_ = path_ + "." + std::string(key) + ": " + problem;
  }

 private:
  const json::object& obj_;
  std::string path_;
  std::string error_;
};

void read_vad(profile_reader& r, protocol::session_config& s) {
  r.check_known_keys({"type", "threshold", "prefix_padding_ms", "silence_duration_ms", "eagerness", "create_response",
                      "interrupt_response"});
  using protocol::turn_detection_type;
  r.choice<turn_detection_type>("type", s.turn_detection,
                                {{"server_vad", turn_detection_type::server_vad},
                                 {"semantic_vad", turn_detection_type::semantic_vad},
                                 {"none", turn_detection_type::none}});
  r.fraction("threshold", s.vad_threshold);
  r.whole("prefix_padding_ms", s.vad_prefix_padding_ms, 0, 10000);
  r.whole("silence_duration_ms", s.vad_silence_duration_ms, 0, 10000);
  std::string eagerness = s.vad_eagerness;
  r.choice<std::string>("eagerness", eagerness, {{"low", "low"}, {"medium", "medium"}, {"high", "high"}, {"auto", "auto"}});
  s.vad_eagerness = std::move(eagerness);
  r.flag("create_response", s.vad_create_response);
  r.flag("interrupt_response", s.vad_interrupt_response);
}

void read_dtmf(profile_reader& r, call::dtmf_options& d) {
  r.check_known_keys({"gap_ms", "max_digits", "mask", "respond"});
  r.whole("gap_ms", d.gap_ms, 200, 30000);
  r.whole("max_digits", d.max_digits, 1, 64);
  r.flag("mask", d.mask);
  r.flag("respond", d.respond);
}

// One webhook tool (docs/tools.md); `declared`: the profile's tools so far, whose names it must not repeat.
void read_tool(profile_reader& r, const std::vector<call::webhook_tool>& declared, call::webhook_tool& tool) {
  r.check_known_keys({"name", "description", "parameters", "url", "timeout_ms", "keep_talking"});
  r.required({"name", "url"});
  r.checked_name("name", tool.declaration.name, webhook_tool_name_problem);
  if (!r.error().empty()) return;
  const bool taken = std::any_of(declared.begin(), declared.end(), [&](const call::webhook_tool& t) {
    return t.declaration.name == tool.declaration.name;
  });
  if (taken) r.fail("name", "declared twice in this profile");
  r.text("description", tool.declaration.description);
  if (tool.declaration.description.size() > max_tool_description_chars)
    r.fail("description", "longer than " + std::to_string(max_tool_description_chars) + " characters");
  tool.declaration.parameters_json = R"({"type":"object","properties":{}})";
  r.json_object("parameters", tool.declaration.parameters_json, max_tool_parameters_bytes);
  r.checked_name("url", tool.url, tool_url_problem);
  r.whole("timeout_ms", tool.timeout_ms, min_tool_timeout_ms, max_tool_timeout_ms);
  r.flag("keep_talking", tool.keep_talking);
}

std::optional<agent_profile> read_profile(std::string_view name, const json::value& value, const agent_profile& base,
                                          std::string& error) {
  const std::string path = "agents." + std::string(name);
  if (!valid_profile_name(name)) {
    error = path + ": a profile name is 1-64 letters, digits, '_' or '-'";
    return std::nullopt;
  }
  if (!value.is_object()) {
    error = path + ": expected an object";
    return std::nullopt;
  }
  agent_profile p = base;
  p.name = std::string(name);
  p.numbers.clear();
  p.defaults.clear();
  profile_reader r(value.get_object(), path);
  r.check_known_keys({"instructions", "greeting", "provider", "voice", "model", "transcription_model",
                      "transcription_language", "transcription_prompt", "vad", "numbers", "variables", "end_call", "end_call_grace_ms",
                      "transfers", "transfer_caller_id", "dtmf", "tools", "max_tool_calls_in_flight", "mode", "record"});
  r.text("instructions", p.session.instructions);
  r.text("greeting", p.greeting);
  r.provider("provider", p.provider);
  r.choice<call_mode>("mode", p.mode, {{"media-stream", call_mode::media_stream}, {"sip", call_mode::sip}});
  if (auto problem = sip_mode_problem(p)) r.fail(value.get_object().if_contains("mode") ? "mode" : "provider", *problem);
  // Another protocol's model would be refused: such a profile takes its provider's model from the settings.
  if (p.provider != base.provider) p.model.clear();
  r.text("voice", p.session.voice, false);
  // Azure's deployment goes into the URL's query: a name, nothing that could change the URL.
  r.checked_name("model", p.model, config::model_name_problem);
  r.text("transcription_model", p.session.transcription_model);
  r.checked_text("transcription_language", p.session.transcription_language, config::transcription_language_problem);
  r.checked_text("transcription_prompt", p.session.transcription_prompt, config::transcription_prompt_problem);
  r.object("vad", [&](profile_reader& nested) { read_vad(nested, p.session); });
  r.strings("numbers", p.numbers);
  r.string_map("variables", p.defaults);
  r.flag("end_call", p.tools.end_call);
  r.flag("record", p.record);
  r.whole("end_call_grace_ms", p.tools.end_call_grace_ms, 0, 60000);
  r.whole("max_tool_calls_in_flight", p.tools.max_tool_calls_in_flight, 1, 16);
  r.transfers("transfers", p.tools.transfers);
  r.checked_text("transfer_caller_id", p.tools.transfer_caller_id, config::caller_id_problem);
  r.object("dtmf", [&](profile_reader& nested) { read_dtmf(nested, p.tools.dtmf); });
  if (value.get_object().if_contains("tools")) {
    // The profile's own tools replace the base's (declared to the provider per call: declare_webhook_tools).
    std::vector<call::webhook_tool> tools;
    r.objects("tools", max_webhook_tools, [&](profile_reader& nested) {
      call::webhook_tool tool;
      read_tool(nested, tools, tool);
      if (nested.error().empty()) tools.push_back(std::move(tool));
    });
    p.tools.tools = std::move(tools);
  }
  if (!r.error().empty()) {
    error = r.error();
    return std::nullopt;
  }
  call::declare_builtin_tools(p.session, p.tools);
  return p;
}

}  // namespace

std::optional<std::string> sip_mode_problem(const agent_profile& profile) {
  if (profile.mode != call_mode::sip) return std::nullopt;
  if (profile.provider == upstream::provider_kind::openai_realtime ||
      profile.provider == upstream::provider_kind::openai_live)
    return std::nullopt;
  return "SIP mode needs provider openai-realtime or openai-live, not " + std::string(upstream::to_string(profile.provider));
}

std::vector<std::string> agent_profile::variables_used() const {
  auto names = variables_in(session.instructions);
  for (auto& n : variables_in(greeting))
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(std::move(n));
  return names;
}

bool valid_profile_name(std::string_view name) {
  return !name.empty() && name.size() <= max_name_chars && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::optional<std::vector<agent_profile>> parse_profiles(std::string_view text, const agent_profile& base,
                                                         std::string& error) {
  json::error_code ec;
  const auto doc = json::parse(text, ec);
  if (ec) {
    error = "not valid JSON (" + ec.message() + "); TOML is not supported";
    return std::nullopt;
  }
  const auto* root = doc.if_object();
  const auto* agents = root ? root->if_contains("agents") : nullptr;
  if (!agents || !agents->is_object() || root->size() != 1) {
    error = R"(expected {"agents": {"<name>": {...}, ...}} and nothing else at the top level)";
    return std::nullopt;
  }
  std::vector<agent_profile> profiles{base};
  for (const auto& [name, value] : agents->get_object()) {
    auto p = read_profile(name, value, base, error);
    if (!p) return std::nullopt;
    if (p->name == base.name)
      profiles.front() = std::move(*p);
    else
      profiles.push_back(std::move(*p));
  }
  return profiles;
}

std::optional<agent_catalog> agent_catalog::create(std::vector<agent_profile> profiles, std::string_view default_name,
                                                   std::string& error) {
  std::optional<std::size_t> default_index;
  for (std::size_t i = 0; i < profiles.size(); ++i) {
    if (profiles[i].name == default_name) default_index = i;
    for (std::size_t j = 0; j < i; ++j)
      for (const auto& number : profiles[i].numbers)
        if (std::find(profiles[j].numbers.begin(), profiles[j].numbers.end(), number) != profiles[j].numbers.end()) {
          error = "profiles '" + profiles[j].name + "' and '" + profiles[i].name + "' both claim number " + number;
          return std::nullopt;
        }
  }
  if (!default_index) {
    error = "no agent profile named '" + std::string(default_name) + "'";
    return std::nullopt;
  }
  return agent_catalog(std::move(profiles), *default_index);
}

const agent_profile* agent_catalog::select(std::string_view requested, std::string_view called_number) const {
  if (!requested.empty()) {
    for (const auto& p : profiles_)
      if (p.name == requested) return &p;
    return nullptr;
  }
  if (!called_number.empty())
    for (const auto& p : profiles_)
      if (std::find(p.numbers.begin(), p.numbers.end(), called_number) != p.numbers.end()) return &p;
  return &default_profile();
}

}  // namespace mb::agents
