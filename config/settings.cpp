#include "config/settings.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <type_traits>
#include <utility>
#include <variant>

#include <boost/url/parse.hpp>

#include "probe/alert_rules.hpp"
#include "protocol/local_access.hpp"
#include "protocol/standard_webhook.hpp"
#include "protocol/twilio_rest.hpp"
#include "protocol/webhook_signature.hpp"

namespace mb::config {
namespace {

// A problem sentence, or nullopt when the value was accepted.
using problem = std::optional<std::string>;

// The table row plus how to parse a value into settings and how to render a default from them.
// Keeping all three together is what keeps --help, the docs and validation in step.
struct spec {
  setting_info info;
  std::function<problem(settings&, const std::string&)> apply;
  std::function<std::string(const settings&)> show;
};

constexpr std::string_view empty_default = "(empty)";
// Like a tool webhook's URL (agents/webhook_tools.hpp).
constexpr std::size_t max_probe_alert_webhook_url_chars = 2048;

std::string flag_for(std::string_view env) {
  std::string flag = "--";
  for (char c : env) {
    flag += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return flag;
}

setting_info info_for(std::string env, std::string meaning) {
  setting_info info;
  info.flag = flag_for(env);
  info.env = std::move(env);
  info.meaning = std::move(meaning);
  return info;
}

// Values end up in one-line error messages and logs: keep them short and free of control bytes.
std::string quote(std::string_view value) {
  constexpr std::size_t max_shown = 60;
  std::string out = "\"";
  for (char c : value.substr(0, max_shown)) {
    out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  }
  if (value.size() > max_shown) out += "...";
  out += '"';
  return out;
}

template <class Range>
std::string join(const Range& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool readable_file(const std::string& path) {
  std::error_code ec;
  // ifstream happily "opens" a directory on Linux, so check the type first.
  return std::filesystem::is_regular_file(path, ec) && std::ifstream(path, std::ios::binary).good();
}

// Field accessors are generic lambdas `[](auto& s) -> auto& { ... }` so one accessor serves both
// the mutable settings being filled and the const defaults being rendered.

using check_fn = std::function<problem(const std::string&)>;

template <class Field>
spec text(std::string env, std::string meaning, Field field, check_fn check = {}) {
  return {info_for(std::move(env), std::move(meaning)),
          [field, check](settings& s, const std::string& value) -> problem {
            if (check) {
              if (auto p = check(value)) return p;
            }
            field(s) = value;
            return std::nullopt;
          },
          [field](const settings& s) { return field(s); }};
}

template <class Field>
spec integer(std::string env, std::string meaning, Field field, long long min, long long max) {
  const std::string range = std::to_string(min) + ".." + std::to_string(max);
  return {info_for(std::move(env), meaning + " Range " + range + "."),
          [field, min, max, range](settings& s, const std::string& value) -> problem {
            long long n = 0;
            const char* end = value.data() + value.size();
            auto [ptr, ec] = std::from_chars(value.data(), end, n);
            if (ec != std::errc{} || ptr != end || n < min || n > max) {
              return quote(value) + " is not a whole number in " + range;
            }
            using target = std::remove_reference_t<decltype(field(s))>;
            field(s) = static_cast<target>(n);
            return std::nullopt;
          },
          [field](const settings& s) { return std::to_string(field(s)); }};
}

template <class Field>
spec fraction(std::string env, std::string meaning, Field field) {
  return {info_for(std::move(env), meaning + " Range 0..1."),
          [field](settings& s, const std::string& value) -> problem {
            double d = 0;
            const char* end = value.data() + value.size();
            auto [ptr, ec] = std::from_chars(value.data(), end, d);
            // Written as !(in range) so that NaN is rejected too.
            if (ec != std::errc{} || ptr != end || !(d >= 0.0 && d <= 1.0)) {
              return quote(value) + " is not a number in 0..1";
            }
            field(s) = d;
            return std::nullopt;
          },
          [field](const settings& s) {
            std::array<char, 32> buf{};
            auto [ptr, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), field(s));
            return std::string(buf.data(), ptr);
          }};
}

template <class Field>
spec boolean(std::string env, std::string meaning, Field field) {
  return {info_for(std::move(env), meaning + " Boolean."),
          [field](settings& s, const std::string& value) -> problem {
            const std::string v = lower(value);
            if (v == "true" || v == "1" || v == "yes") {
              field(s) = true;
            } else if (v == "false" || v == "0" || v == "no") {
              field(s) = false;
            } else {
              return quote(value) + " is not a boolean (true/false/1/0/yes/no)";
            }
            return std::nullopt;
          },
          [field](const settings& s) { return std::string(field(s) ? "true" : "false"); }};
}

template <class E>
using choices = std::vector<std::pair<std::string, E>>;

template <class Field, class E>
spec choice(std::string env, std::string meaning, Field field, choices<E> options) {
  std::vector<std::string> names;
  for (const auto& option : options) names.push_back(option.first);
  const std::string listed = join(names, "|");
  return {info_for(std::move(env), meaning + " One of " + listed + "."),
          [field, options, listed](settings& s, const std::string& value) -> problem {
            for (const auto& [name, e] : options) {
              if (name == value) {
                field(s) = e;
                return std::nullopt;
              }
            }
            return quote(value) + " is not one of " + listed;
          },
          [field, options](const settings& s) {
            for (const auto& [name, e] : options) {
              if (e == field(s)) return name;
            }
            return std::string();
          }};
}

choices<std::string> words(std::initializer_list<std::string> names) {
  choices<std::string> out;
  for (const auto& name : names) out.emplace_back(name, name);
  return out;
}

problem check_not_empty(const std::string& value) {
  if (value.empty()) return std::string("must not be empty");
  return std::nullopt;
}

problem check_public_url(const std::string& value) {
  if (value.empty()) return std::nullopt;
  auto parsed = boost::urls::parse_uri(value);
  if (!parsed) return quote(value) + " is not an absolute URL";
  const auto id = parsed->scheme_id();
  using boost::urls::scheme;
  if (id != scheme::http && id != scheme::https && id != scheme::ws && id != scheme::wss) {
    return quote(value) + " must use http, https, ws or wss";
  }
  if (parsed->encoded_host().empty()) return quote(value) + " has no host";
  // Paths are appended to it, so a query or fragment would end up in the middle of the URL.
  if (parsed->has_query() || parsed->has_fragment()) {
    return quote(value) + " must not have a query or fragment";
  }
  return std::nullopt;
}

problem check_realtime_url(const std::string& value) {
  auto parsed = boost::urls::parse_uri(value);
  if (!parsed) return quote(value) + " is not an absolute URL";
  const auto id = parsed->scheme_id();
  if (id != boost::urls::scheme::ws && id != boost::urls::scheme::wss) {
    return quote(value) + " must use ws or wss";
  }
  if (parsed->encoded_host().empty()) return quote(value) + " has no host";
  return std::nullopt;
}

// GPT-Live's endpoint takes no query string: the model goes in session.start, not in the URL.
problem check_live_url(const std::string& value) {
  if (auto p = check_realtime_url(value)) return p;
  const auto parsed = boost::urls::parse_uri(value);
  if (parsed->has_query() || parsed->has_fragment()) {
    return quote(value) + " must not have a query or fragment (GPT-Live takes the model in the session)";
  }
  return std::nullopt;
}

// Credentials go in headers, never in a URL that may end up in a log line.
problem check_no_userinfo(const std::string& value) {
  const auto parsed = boost::urls::parse_uri(value);
  if (parsed && parsed->has_userinfo()) return std::string("must not carry credentials (user:password@)");
  return std::nullopt;
}

// Paths are appended to it, so no query or fragment; credentials go in the Authorization header, never in
// the URL; plain http only to a loopback host (the REST simulator), since requests carry Basic auth.
problem check_twilio_api_base_url(const std::string& value) {
  const auto parsed = boost::urls::parse_uri(value);
  if (!parsed) return quote(value) + " is not an absolute URL";
  const auto id = parsed->scheme_id();
  if (id != boost::urls::scheme::http && id != boost::urls::scheme::https)
    return quote(value) + " must use https (or http to a loopback host)";
  if (parsed->encoded_host().empty()) return quote(value) + " has no host";
  if (id == boost::urls::scheme::http && !protocol::is_loopback_host(parsed->encoded_host_and_port()))
    return quote(value) + " must use https unless its host is a loopback address";
  if (parsed->has_query() || parsed->has_fragment()) return quote(value) + " must not have a query or fragment";
  return check_no_userinfo(value);
}

// It goes into TwiML as a <Sip> noun's URI, followed by the call's own headers as a query: a sip: URI
// without a query of its own and without characters XML or a query would change.
problem check_sip_uri(const std::string& value) {
  if (value.empty()) return std::nullopt;
  if (!value.starts_with("sip:") && !value.starts_with("sips:")) return quote(value) + " must start with sip:";
  if (value.find_first_of("?<>&\"' ") != std::string::npos)
    return quote(value) + " must not contain a query, spaces or any of < > & \" '";
  if (value.find('@') == std::string::npos) return quote(value) + " has no user part (sip:<project id>@host)";
  return std::nullopt;
}

// Both go into request paths and auth headers: anything but two letters and 32 hex digits is a typo.
problem check_account_sid(const std::string& value) {
  if (value.empty() || protocol::valid_account_sid(value)) return std::nullopt;
  return std::string("must be AC followed by 32 lowercase hex digits");
}

problem check_api_key_sid(const std::string& value) {
  if (value.empty() || protocol::valid_api_key_sid(value)) return std::nullopt;
  return std::string("must be SK followed by 32 lowercase hex digits");
}

// The resource's base URL: each call appends a path, so it takes no query; the ws form of its scheme
// is what the bridge connects to (http and ws let tests point it at the simulator).
problem check_azure_endpoint(const std::string& value) {
  if (auto p = check_public_url(value)) return p;
  return check_no_userinfo(value);
}

problem check_optional_model_name(const std::string& value) {
  if (value.empty()) return std::nullopt;
  return model_name_problem(value);
}

problem check_model_name(const std::string& value) {
  if (value.empty()) return std::string("must not be empty");
  return model_name_problem(value);
}

// Gemini's prebuilt voices are single capitalised words ("Kore", "Puck"); the service knows the list.
problem check_gemini_voice(const std::string& value) {
  const bool word = !value.empty() && value.size() <= 32 &&
                    std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isalpha(c); });
  if (!word) return quote(value) + " is not a Gemini voice name (1-32 letters, e.g. Kore)";
  return std::nullopt;
}

// A path appended to AZURE_OPENAI_ENDPOINT: '/' first, then URL path characters only.
problem check_url_path(const std::string& value) {
  const bool path_chars = std::all_of(value.begin(), value.end(), [](unsigned char c) {
    return std::isalnum(c) || std::string_view("/-._~%!$&'()*+,;=:@").find(static_cast<char>(c)) != std::string_view::npos;
  });
  if (value.empty() || value.front() != '/' || !path_chars) {
    return quote(value) + " is not a URL path (it starts with / and has no query, fragment or spaces)";
  }
  return std::nullopt;
}

// Gemini takes its key in a header (x-goog-api-key): a query would be the place a key is pasted.
problem check_gemini_url(const std::string& value) {
  if (auto p = check_realtime_url(value)) return p;
  if (auto p = check_no_userinfo(value)) return p;
  const auto parsed = boost::urls::parse_uri(value);
  if (parsed->has_query() || parsed->has_fragment()) {
    return quote(value) + " must not have a query or fragment (the API key goes in a header, never in the URL)";
  }
  return std::nullopt;
}

spec provider_spec() {
  return {info_for("PROVIDER",
                   "Upstream protocol for calls whose agent profile names none. One of " +
                       upstream::provider_names() +
                       ": openai-realtime (the Realtime API) connects to OPENAI_REALTIME_URL with OPENAI_MODEL, "
                       "openai-live (GPT-Live) to OPENAI_LIVE_URL with OPENAI_LIVE_MODEL, azure-realtime and "
                       "azure-live to AZURE_OPENAI_ENDPOINT with AZURE_OPENAI_DEPLOYMENT, gemini to GEMINI_LIVE_URL "
                       "with GEMINI_MODEL. A provider without its credentials is served by the built-in simulator."),
          [](settings& s, const std::string& value) -> problem {
            const auto provider = upstream::provider_from_name(value);
            if (!provider) return quote(value) + " is not a provider (" + upstream::provider_names() + ")";
            s.provider = *provider;
            return std::nullopt;
          },
          [](const settings& s) { return std::string(upstream::to_string(s.provider)); }};
}

problem check_transcription_language(const std::string& value) { return transcription_language_problem(value); }
problem check_transcription_prompt(const std::string& value) { return transcription_prompt_problem(value); }
problem check_transfer_destinations(const std::string& value) {
  std::string problem_text;
  (void)parse_transfer_destinations(value, problem_text);
  if (problem_text.empty()) return std::nullopt;
  return problem_text;
}
problem check_caller_id(const std::string& value) { return caller_id_problem(value); }

// Characters of UTF-8 `text`, or nullopt when its bytes are not UTF-8 (lead and continuation bytes).
std::optional<std::size_t> utf8_chars(std::string_view text) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++chars) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80           ? 1
                               : (lead >> 5) == 0x6  ? 2
                               : (lead >> 4) == 0xE  ? 3
                               : (lead >> 3) == 0x1E ? 4
                                                     : 0;
    if (length == 0 || i + length > text.size()) return std::nullopt;
    for (std::size_t k = 1; k < length; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return std::nullopt;
    i += length;
  }
  return chars;
}

constexpr std::array<std::string_view, 10> builtin_voices = {
    "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"};
constexpr std::string_view custom_voice_prefix = "voice_";

problem check_voice(const std::string& value) {
  if (std::find(builtin_voices.begin(), builtin_voices.end(), value) != builtin_voices.end()) {
    return std::nullopt;
  }
  if (value.size() > custom_voice_prefix.size() && value.starts_with(custom_voice_prefix)) {
    return std::nullopt;
  }
  return quote(value) + " is not a known voice (" + join(builtin_voices, "|") + " or " +
         std::string(custom_voice_prefix) + "...)";
}

// The Standard Webhooks form OpenAI's dashboard shows (docs/protocols.md J1).
problem check_webhook_secret(const std::string& value) {
  if (protocol::standard_webhook_key(value)) return std::nullopt;
  return std::string("expected whsec_ followed by the base64 key OpenAI shows for the webhook (value not shown)");
}

problem check_readable(const std::string& value) {
  if (value.empty() || readable_file(value)) return std::nullopt;
  return "cannot read file " + quote(value);
}

// Credentials go verbatim into headers or HMAC keys; a stray newline from a secrets file would fail
// later with a confusing error. Their values are never echoed, not even a default.
// `format`: a further check of a non-empty value; its problem must not quote the value.
spec secret_spec(std::string env, std::string meaning, secret settings::*field,
                 problem (*format)(const std::string&) = nullptr) {
  spec sp{info_for(std::move(env), std::move(meaning)),
          [field, format](settings& s, const std::string& value) -> problem {
            const bool clean = std::none_of(value.begin(), value.end(), [](unsigned char c) {
              return std::isspace(c) || std::iscntrl(c);
            });
            if (!clean) return std::string("contains whitespace or control characters (value not shown)");
            if (format && !value.empty())
              if (auto p = format(value)) return p;
            s.*field = secret(value);
            return std::nullopt;
          },
          [](const settings&) { return std::string(); }};
  sp.info.secret = true;
  return sp;
}

spec trusted_proxies_spec() {
  return {info_for("TRUSTED_PROXIES",
                   "Comma-separated IP addresses or CIDR blocks whose X-Forwarded-* headers are "
                   "trusted. Empty trusts no proxy."),
          [](settings& s, const std::string& value) -> problem {
            std::vector<cidr> parsed;
            std::string_view rest = value;
            while (!rest.empty()) {
              const auto comma = rest.find(',');
              std::string_view item = rest.substr(0, comma);
              rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
              while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
              while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
              if (item.empty()) continue;
              auto net = cidr::parse(item);
              if (!net) return "entry " + quote(item) + " is not an IP address or CIDR block";
              parsed.push_back(*net);
            }
            s.trusted_proxies = std::move(parsed);
            return std::nullopt;
          },
          [](const settings& s) {
            std::vector<std::string> items;
            for (const auto& net : s.trusted_proxies) items.push_back(net.to_string());
            return join(items, ",");
          }};
}

// A URL that paths are appended to: stored without its trailing slashes.
template <class Field>
spec base_url(std::string env, std::string meaning, Field field, check_fn check) {
  return {info_for(std::move(env), std::move(meaning)),
          [field, check](settings& s, const std::string& value) -> problem {
            if (auto p = check(value)) return p;
            std::string url = value;
            while (!url.empty() && url.back() == '/') url.pop_back();
            field(s) = std::move(url);
            return std::nullopt;
          },
          [field](const settings& s) { return field(s); }};
}

spec instructions_file_spec() {
  return {info_for("INSTRUCTIONS_FILE",
                   "File whose contents replace INSTRUCTIONS (trailing whitespace trimmed). "
                   "Cannot be combined with INSTRUCTIONS."),
          [](settings& s, const std::string& value) -> problem {
            if (value.empty()) return std::nullopt;
            if (auto p = check_readable(value)) return p;
            std::ifstream in(value, std::ios::binary);
            std::ostringstream contents;
            contents << in.rdbuf();
            std::string text = contents.str();
            while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
            s.instructions = std::move(text);
            return std::nullopt;
          },
          // Its only trace in settings is the instructions text it replaced.
          [](const settings&) { return std::string(); }};
}

const std::vector<spec>& specs() {
  static const std::vector<spec> table = [] {
    std::vector<spec> t;
    // Network
    t.push_back(text(
        "LISTEN_HOST", "Address the HTTP/WebSocket server binds to.",
        [](auto& s) -> auto& { return s.listen_host; }, check_not_empty));
    t.push_back(integer(
        "PORT", "TCP port the server listens on.", [](auto& s) -> auto& { return s.port; }, 1, 65535));
    t.push_back(base_url(
        "PUBLIC_URL",
        "External base URL (http, https, ws or wss, no query) used in the TwiML stream URL and for webhook "
        "signatures. Empty derives it from Host and trusted X-Forwarded-* headers.",
        [](auto& s) -> auto& { return s.public_url; }, check_public_url));
    t.push_back(trusted_proxies_spec());
    t.push_back(integer(
        "WORKER_THREADS", "I/O threads; 0 uses one per CPU core.",
        [](auto& s) -> auto& { return s.worker_threads; }, 0, 256));
    // Upstream
    t.push_back(provider_spec());
    t.push_back(secret_spec("OPENAI_API_KEY",
                            "OpenAI API key, for both protocols. Empty runs in demo mode on the built-in simulator. "
                            "Never printed.",
                            &settings::openai_api_key));
    t.push_back(text(
        "OPENAI_REALTIME_URL", "Realtime API WebSocket endpoint (ws or wss); each call adds ?model=.",
        [](auto& s) -> auto& { return s.openai_realtime_url; }, check_realtime_url));
    t.push_back(text(
        "OPENAI_MODEL", "Realtime API model of profiles that name none.", [](auto& s) -> auto& { return s.openai_model; }, check_not_empty));
    t.push_back(text(
        "OPENAI_LIVE_URL", "GPT-Live WebSocket endpoint (ws or wss, no query).",
        [](auto& s) -> auto& { return s.openai_live_url; }, check_live_url));
    t.push_back(text(
        "OPENAI_LIVE_MODEL", "GPT-Live model of profiles that name none; sent in session.start.",
        [](auto& s) -> auto& { return s.openai_live_model; }, check_not_empty));
    t.push_back(base_url(
        "AZURE_OPENAI_ENDPOINT",
        "Azure OpenAI resource's base URL (https://<resource>.openai.azure.com; http, ws and wss also accepted, no "
        "query); calls connect to its ws form. Required when an Azure credential is set.",
        [](auto& s) -> auto& { return s.azure_endpoint; }, check_azure_endpoint));
    t.push_back(text(
        "AZURE_OPENAI_DEPLOYMENT",
        "Azure deployment of profiles that name no model: azure-realtime sends it as ?model=, azure-live in "
        "session.start.",
        [](auto& s) -> auto& { return s.azure_deployment; }, check_optional_model_name));
    t.push_back(secret_spec("AZURE_OPENAI_API_KEY",
                            "Azure OpenAI API key, sent as the api-key header. Without it and without "
                            "AZURE_OPENAI_AD_TOKEN the Azure providers run on the built-in simulator. Never printed.",
                            &settings::azure_api_key));
    t.push_back(secret_spec("AZURE_OPENAI_AD_TOKEN",
                            "Microsoft Entra ID token, sent as Authorization: Bearer; when both are set it is used "
                            "instead of AZURE_OPENAI_API_KEY. It is not refreshed: it must outlive the process. "
                            "Never printed.",
                            &settings::azure_ad_token));
    t.push_back(text(
        "AZURE_OPENAI_LIVE_PATH",
        "GPT-Live's path on AZURE_OPENAI_ENDPOINT (Azure's documents also show /openai/v1/live/sessions).",
        [](auto& s) -> auto& { return s.azure_live_path; }, check_url_path));
    t.push_back(secret_spec("GEMINI_API_KEY",
                            "Gemini API key, sent as the x-goog-api-key header (never in the URL). Empty runs the "
                            "gemini provider on the built-in simulator. Never printed.",
                            &settings::gemini_api_key));
    t.push_back(text(
        "GEMINI_LIVE_URL", "Gemini Live WebSocket endpoint (ws or wss, no query).",
        [](auto& s) -> auto& { return s.gemini_live_url; }, check_gemini_url));
    t.push_back(text(
        "GEMINI_MODEL", "Gemini Live model of profiles that name none; sent in setup.",
        [](auto& s) -> auto& { return s.gemini_model; }, check_model_name));
    t.push_back(text(
        "GEMINI_VOICE", "Gemini Live's prebuilt voice for every Gemini call (OPENAI_VOICE names OpenAI's voices only).",
        [](auto& s) -> auto& { return s.gemini_voice; }, check_gemini_voice));
    t.push_back(text(
        "OPENAI_VOICE",
        "Assistant voice: " + join(builtin_voices, "|") + ", or a custom " +
            std::string(custom_voice_prefix) + "... id.",
        [](auto& s) -> auto& { return s.openai_voice; }, check_voice));
    t.push_back(text(
        "INSTRUCTIONS", "System instructions for the assistant.",
        [](auto& s) -> auto& { return s.instructions; }));
    t.push_back(instructions_file_spec());
    t.push_back(choice(
        "VAD_TYPE", "Turn detection.", [](auto& s) -> auto& { return s.vad.type; },
        choices<vad_type>{{"server_vad", vad_type::server_vad},
                          {"semantic_vad", vad_type::semantic_vad},
                          {"none", vad_type::none}}));
    t.push_back(fraction(
        "VAD_THRESHOLD", "server_vad activation threshold; higher needs louder speech.",
        [](auto& s) -> auto& { return s.vad.threshold; }));
    t.push_back(integer(
        "VAD_PREFIX_PADDING_MS", "server_vad audio kept before detected speech.",
        [](auto& s) -> auto& { return s.vad.prefix_padding_ms; }, 0, 10000));
    t.push_back(integer(
        "VAD_SILENCE_DURATION_MS", "server_vad silence that ends a turn.",
        [](auto& s) -> auto& { return s.vad.silence_duration_ms; }, 0, 10000));
    t.push_back(choice(
        "VAD_EAGERNESS", "semantic_vad eagerness to end the caller's turn.",
        [](auto& s) -> auto& { return s.vad.eagerness; }, words({"low", "medium", "high", "auto"})));
    t.push_back(boolean(
        "VAD_CREATE_RESPONSE", "Respond automatically when the caller's turn ends.",
        [](auto& s) -> auto& { return s.vad.create_response; }));
    t.push_back(boolean(
        "VAD_INTERRUPT_RESPONSE", "Caller speech interrupts the assistant (barge-in).",
        [](auto& s) -> auto& { return s.vad.interrupt_response; }));
    t.push_back(text(
        "TRANSCRIPTION_MODEL", "Model for caller transcripts; empty disables them.",
        [](auto& s) -> auto& { return s.transcription_model; }));
    t.push_back(text(
        "TRANSCRIPTION_LANGUAGE",
        "The caller's language for caller transcripts, as an ISO-639-1 code (two lowercase letters, e.g. ja, es; "
        "no region); empty lets the transcription model detect it.",
        [](auto& s) -> auto& { return s.transcription_language; }, check_transcription_language));
    t.push_back(text(
        "TRANSCRIPTION_PROMPT",
        "Vocabulary or style hint for caller transcripts (names, products, jargon); at most " +
            std::to_string(max_transcription_prompt_chars) + " characters, no control characters; empty: none.",
        [](auto& s) -> auto& { return s.transcription_prompt; }, check_transcription_prompt));
    t.push_back(text(
        "GREETING",
        "Instructions for the assistant's first response; empty waits for the caller "
        "to speak first.",
        [](auto& s) -> auto& { return s.greeting; }));
    t.push_back(text(
        "WEBHOOK_SAY", "Text Twilio speaks (Say verb) before connecting the stream; empty says nothing.",
        [](auto& s) -> auto& { return s.webhook_say; }));
    t.push_back(text(
        "UPSTREAM_CA_FILE", "Extra CA bundle (PEM) trusted for the upstream TLS connection.",
        [](auto& s) -> auto& { return s.upstream_ca_file; }, check_readable));
    t.push_back(integer(
        "UPSTREAM_CONNECT_TIMEOUT_MS", "Upstream connect and handshake timeout.",
        [](auto& s) -> auto& { return s.upstream_connect_timeout_ms; }, 1, 300000));
    t.push_back(integer(
        "SESSION_UPDATE_TIMEOUT_MS", "Wait for the upstream to confirm session.update.",
        [](auto& s) -> auto& { return s.session_update_timeout_ms; }, 1, 300000));
    // Per call
    t.push_back(integer(
        "PACING_LEAD_MS", "Max assistant audio sent ahead of real-time playout; 0 disables pacing.",
        [](auto& s) -> auto& { return s.pacing_lead_ms; }, 0, 10000));
    t.push_back(integer(
        "PRE_CONNECT_BUFFER_MS", "Caller audio buffered while the upstream is not ready.",
        [](auto& s) -> auto& { return s.pre_connect_buffer_ms; }, 0, 10000));
    t.push_back(integer(
        "MAX_CALL_DURATION_S", "Calls are hung up after this many seconds.",
        [](auto& s) -> auto& { return s.max_call_duration_s; }, 1, 86400));
    t.push_back(integer(
        "TWILIO_MEDIA_TIMEOUT_S", "A call whose Twilio stream sends no media for this long is ended.",
        [](auto& s) -> auto& { return s.twilio_media_timeout_s; }, 1, 3600));
    t.push_back(integer(
        "UPSTREAM_RECONNECT_ATTEMPTS", "Reconnects tried after the upstream drops mid-call; 0 ends the call at once.",
        [](auto& s) -> auto& { return s.upstream_reconnect_attempts; }, 0, 20));
    t.push_back(integer(
        "UPSTREAM_RECONNECT_BACKOFF_MS",
        "Wait before the first reconnect; doubled per failed attempt (max 5 s), each wait shortened by a random "
        "part of up to half so that calls cut together do not reconnect in step.",
        [](auto& s) -> auto& { return s.upstream_reconnect_backoff_ms; }, 0, 5000));
    t.push_back(integer(
        "UPSTREAM_ROLLOVER_S",
        "Open a fresh upstream session this long after the last one connected, in a pause of the assistant's "
        "speech. 0, or a value not below the provider's session cap (60 min for the Realtime API): 5 minutes "
        "before the cap.",
        [](auto& s) -> auto& { return s.upstream_rollover_s; }, 0, 3600));
    // Security
    t.push_back(secret_spec("TWILIO_AUTH_TOKEN",
                            "Twilio auth token: validates X-Twilio-Signature on the webhook and the stream, and "
                            "signs stream tokens. Empty: anyone can open calls. Never printed.",
                            &settings::twilio_auth_token));
    t.push_back(integer(
        "STREAM_TOKEN_TTL_S", "How long the single-use token binding a stream to its webhook call is valid.",
        [](auto& s) -> auto& { return s.stream_token_ttl_s; }, 5, 3600));
    t.push_back(integer(
        "MAX_CONCURRENT_CALLS",
        "Calls carried at once, counting a slot the webhook reserves for each stream it announces (held for "
        "STREAM_TOKEN_TTL_S or until the stream starts); when full the webhook answers fallback TwiML. 0: no limit.",
        [](auto& s) -> auto& { return s.max_concurrent_calls; }, 0, 100000));
    t.push_back(integer(
        "MAX_PENDING_STREAMS",
        "Media stream connections that have not yet sent an authorised start; further upgrades are refused with "
        "503. They never hold a call slot.",
        [](auto& s) -> auto& { return s.max_pending_streams; }, 1, 100000));
    t.push_back(integer(
        "STREAM_START_TIMEOUT_MS", "A media stream that sends no authorised start this soon after the upgrade is closed.",
        [](auto& s) -> auto& { return s.stream_start_timeout_ms; }, 100, 60000));
    t.push_back(integer(
        "DRAIN_TIMEOUT_S", "On SIGTERM, running calls may finish for this long before they are closed.",
        [](auto& s) -> auto& { return s.drain_timeout_s; }, 0, 86400));
    t.push_back(text(
        "FALLBACK_SAY", "What callers hear when the bridge cannot take their call (full or draining).",
        [](auto& s) -> auto& { return s.fallback_say; }));
    t.push_back(text(
        "FALLBACK_DIAL", "When set, fallback TwiML dials this number (e.g. a human) instead of hanging up.",
        [](auto& s) -> auto& { return s.fallback_dial; }));
    // Agent profiles
    t.push_back(text(
        "AGENTS_FILE",
        "JSON file of named agent profiles (instructions, greeting, voice, model, VAD, transcription, numbers; "
        "docs/agents.md). TOML is not supported. Empty: one profile, default, from the settings above.",
        [](auto& s) -> auto& { return s.agents_file; }, check_readable));
    t.push_back(text(
        "DEFAULT_AGENT", "Profile for calls that choose none (no ?agent= and no profile claims the called number).",
        [](auto& s) -> auto& { return s.default_agent; }, check_not_empty));
    // Tools and call control
    t.push_back(secret_spec("TOOL_WEBHOOK_SECRET",
                            "Signs every tool webhook body (HMAC-SHA256, X-Mediabridge-Signature; docs/tools.md). "
                            "Empty: webhooks go unsigned and startup warns. Never printed.",
                            &settings::tool_webhook_secret));
    t.push_back(text(
        "TRANSFER_DESTINATIONS",
        "The default profile's transfer allowlist: name=number or name=sip:URI, comma-separated "
        "(\"sales=+15551230000,desk=sip:desk@pbx.example.com\"). Empty: no transfers.",
        [](auto& s) -> auto& { return s.transfer_destinations; }, check_transfer_destinations));
    t.push_back(text(
        "TRANSFER_CALLER_ID", "Caller ID shown to the transfer's destination (a Twilio number). Empty: the caller's.",
        [](auto& s) -> auto& { return s.transfer_caller_id; }, check_caller_id));
    t.push_back(integer(
        "DTMF_GAP_MS", "The default profile's pause that ends a digit string ('#' ends it at once).",
        [](auto& s) -> auto& { return s.dtmf_gap_ms; }, 200, 30000));
    t.push_back(boolean(
        "DTMF_MASK", "The default profile hides DTMF digits (card numbers, PINs) in logs, events and history.",
        [](auto& s) -> auto& { return s.dtmf_mask; }));
    t.push_back(text(
        "TWILIO_ACCOUNT_SID", "Twilio account (AC...) for the REST API: hang-up, transfer, outbound calls. Empty: none.",
        [](auto& s) -> auto& { return s.twilio_account_sid; }, check_account_sid));
    t.push_back(text(
        "TWILIO_API_KEY_SID",
        "Twilio API key (SK...) for the REST API. Empty: the account SID and TWILIO_AUTH_TOKEN authenticate.",
        [](auto& s) -> auto& { return s.twilio_api_key_sid; }, check_api_key_sid));
    t.push_back(secret_spec("TWILIO_API_KEY_SECRET", "The API key's secret. Never printed.",
                            &settings::twilio_api_key_secret));
    t.push_back(text(
        "TWILIO_API_BASE_URL",
        "Base URL of Twilio's REST API: https, or http to a loopback host (tests point it at the simulator).",
        [](auto& s) -> auto& { return s.twilio_api_base_url; }, check_twilio_api_base_url));
    t.push_back(integer(
        "TWILIO_REST_TIMEOUT_MS", "Each REST request to Twilio must complete this soon.",
        [](auto& s) -> auto& { return s.twilio_rest_timeout_ms; }, 500, 60000));
    t.push_back(integer(
        "TWILIO_REST_RETRIES", "Retries of a REST request that failed without acting (docs/tools.md).",
        [](auto& s) -> auto& { return s.twilio_rest_retries; }, 0, 5));
    // OpenAI SIP mode (docs/sip.md)
    t.push_back(choice(
        "CALL_MODE",
        "How the default profile's calls reach the model: media-stream (through this server) or sip (Twilio dials "
        "OpenAI's SIP endpoint; this server accepts and watches the call; docs/sip.md).",
        [](auto& s) -> auto& { return s.call_mode; }, words({"media-stream", "sip"})));
    t.push_back(text(
        "OPENAI_SIP_URI",
        "OpenAI's SIP address for SIP-mode profiles: sip:<project id>@sip.api.openai.com;transport=tls. "
        "Empty: no profile may use SIP mode.",
        [](auto& s) -> auto& { return s.openai_sip_uri; }, check_sip_uri));
    t.push_back(secret_spec("OPENAI_WEBHOOK_SECRET",
                            "The project webhook's signing secret (whsec_...): verifies OpenAI's incoming-call "
                            "webhooks on POST /openai/webhook. Empty: that endpoint answers 503. Never printed.",
                            &settings::openai_webhook_secret, check_webhook_secret));
    t.push_back(integer(
        "SIP_ACCEPT_TIMEOUT_MS", "Each attempt to accept a SIP call at OpenAI must complete this soon.",
        [](auto& s) -> auto& { return s.sip_accept_timeout_ms; }, 500, 60000));
    t.push_back(integer(
        "SIP_ACCEPT_RETRIES",
        "More attempts of an accept that failed without taking the call (call_id_not_found, 5xx, timeout).",
        [](auto& s) -> auto& { return s.sip_accept_retries; }, 0, 5));
    t.push_back(text(
        "OUTBOUND_FROM_NUMBER",
        "Caller ID (a Twilio number, E.164) of outbound calls and campaigns; a request's from overrides it.",
        [](auto& s) -> auto& { return s.outbound_from_number; }));
    t.push_back(integer(
        "CAMPAIGN_CALLS_PER_SECOND",
        "A campaign places at most this many calls per second, unless it sets its own (which may be fractional).",
        [](auto& s) -> auto& { return s.campaign_calls_per_second; }, 1, 100));
    t.push_back(integer(
        "CAMPAIGN_MAX_ACTIVE", "A campaign's calls in progress at once, unless it sets its own.",
        [](auto& s) -> auto& { return s.campaign_max_active; }, 1, 1000));
    t.push_back(integer(
        "CAMPAIGN_MAX_ROWS", "Rows a campaign's CSV may have, bad ones included (the 64 KiB request body bounds it too).",
        [](auto& s) -> auto& { return s.campaign_max_rows; }, 1, 1000000));
    // Latency truth (docs/latency.md)
    t.push_back(text(
        "PROBE_AGENTS",
        "Agent profiles the prober plays a short scripted exchange with, every PROBE_INTERVAL_S, to measure "
        "their provider stage by stage: * for every profile, or names separated by commas. Empty: no probes.",
        [](auto& s) -> auto& { return s.probe_agents; }));
    t.push_back(integer(
        "PROBE_INTERVAL_S", "Seconds between two probe runs of one profile.",
        [](auto& s) -> auto& { return s.probe_interval_s; }, 5, 86400));
    t.push_back(integer(
        "PROBE_TIMEOUT_MS", "A probe run that has not finished this soon fails as a timeout.",
        [](auto& s) -> auto& { return s.probe_timeout_ms; }, 1000, 120000));
    t.push_back(integer(
        "PROBE_RETENTION_DAYS", "Probe runs and alerts older than this are deleted.",
        [](auto& s) -> auto& { return s.probe_retention_days; }, 1, 3650));
    t.push_back(text(
        "PROBE_ALERTS",
        "Alert rules on probe results over PROBE_ALERT_WINDOW_S, separated by commas: <stage>.p95>ms or "
        "error_rate>fraction, e.g. first_audio.p95>1500,error_rate>0.2 (docs/latency.md). Empty: no alerts.",
        [](auto& s) -> auto& { return s.probe_alerts; },
        [](const std::string& value) -> problem {
          const auto rules = probe::parse_alert_rules(value);
          if (const auto* why = std::get_if<std::string>(&rules)) return *why;
          return std::nullopt;
        }));
    t.push_back(integer(
        "PROBE_ALERT_WINDOW_S", "Alert rules look at the probe runs of this many seconds.",
        [](auto& s) -> auto& { return s.probe_alert_window_s; }, 60, 7 * 86400));
    t.push_back(text(
        "PROBE_ALERT_WEBHOOK_URL",
        "Each alert that fires or recovers is POSTed here as JSON, signed with TOOL_WEBHOOK_SECRET like tool "
        "webhooks. Empty: alerts are logged and shown in the dashboard only.",
        [](auto& s) -> auto& { return s.probe_alert_webhook_url; },
        [](const std::string& value) -> problem {
          if (value.empty()) return std::nullopt;
          return protocol::webhook_url_problem(value, max_probe_alert_webhook_url_chars);
        }));
    t.push_back(boolean(
        "PREWARM",
        "Open the call's upstream session when /voice is answered, and hand it to the media stream when it "
        "arrives: the first answer comes sooner (docs/latency.md).",
        [](auto& s) -> auto& { return s.prewarm; }));
    t.push_back(integer(
        "PREWARM_TTL_MS", "A pre-warmed session that no media stream claims this soon is closed.",
        [](auto& s) -> auto& { return s.prewarm_ttl_ms; }, 500, 30000));
    t.push_back(integer(
        "CLIENT_SECRET_TTL_S",
        "Lifetime of a client secret minted by POST /v1/realtime/client_secrets for a browser or app.",
        [](auto& s) -> auto& { return s.client_secret_ttl_s; }, 10, 7200));
    t.push_back(integer(
        "CLIENT_SECRET_PER_MINUTE", "Client secrets one client address may mint per minute.",
        [](auto& s) -> auto& { return s.client_secret_per_minute; }, 1, 600));
    // Recording and replay (docs/recording.md)
    t.push_back(boolean(
        "RECORD_CALLS",
        "Record the default profile's calls: a stereo WAV (caller left, the assistant as heard right) and a JSONL "
        "log of every message, in RECORDINGS_DIR (docs/recording.md). Profiles set their own with \"record\".",
        [](auto& s) -> auto& { return s.record_calls; }));
    t.push_back(text(
        "RECORDINGS_DIR",
        "Folder for call recordings, created owner-only (0700; files 0600). Empty: no profile may record.",
        [](auto& s) -> auto& { return s.recordings_dir; }));
    t.push_back(integer(
        "RECORDING_RETENTION_DAYS", "Recordings older than this are deleted.",
        [](auto& s) -> auto& { return s.recording_retention_days; }, 1, 3650));
    t.push_back(boolean(
        "WIRE_EVENTS",
        "Publish each call's wire messages (direction, type, size; never payloads) to listeners, for the "
        "dashboard's raw event panel. A debugging aid.",
        [](auto& s) -> auto& { return s.wire_events; }));
    // Listeners and call history
    t.push_back(secret_spec("API_TOKEN",
                            "Bearer token for the listener and history endpoints (/v1/...). Empty: they accept "
                            "loopback clients only. Never printed.",
                            &settings::api_token));
    t.push_back(text(
        "DATABASE_PATH",
        "SQLite file for call history (WAL; its directory is created). :memory: keeps history until exit; "
        "empty stores nothing.",
        [](auto& s) -> auto& { return s.database_path; }));
    t.push_back(integer(
        "LISTENER_QUEUE_SIZE", "Events a listener may fall behind, beyond its backfill, before it is disconnected.",
        [](auto& s) -> auto& { return s.listener_queue_size; }, 1, 1000000));
    t.push_back(integer(
        "LISTENER_BACKFILL_EVENTS",
        "Per running call, the most events a late listener is sent first (call.started, transcript lines, the rest); "
        "beyond it the oldest are left out, DTMF, barge-ins and deltas before transcript lines, and the backfill says "
        "how many (docs/events.md).",
        [](auto& s) -> auto& { return s.listener_backfill_events; }, 16, 1000000));
    t.push_back(integer(
        "LISTENER_BACKFILL_BYTES", "The same bound in bytes of event JSON.",
        [](auto& s) -> auto& { return s.listener_backfill_bytes; }, 4096, 1 << 30));
    t.push_back(integer(
        "STORE_QUEUE_SIZE", "History records waiting for the disk; beyond it records are dropped and counted.",
        [](auto& s) -> auto& { return s.store_queue_size; }, 1, 10000000));
    // Logging
    t.push_back(choice(
        "LOG_LEVEL", "Minimum log level.", [](auto& s) -> auto& { return s.log_level; },
        words({"trace", "debug", "info", "warn", "error", "critical", "off"})));
    t.push_back(choice(
        "LOG_FORMAT", "Log line format.", [](auto& s) -> auto& { return s.log_fmt; },
        choices<log_format>{{"text", log_format::text}, {"json", log_format::json}}));

    const settings defaults;
    for (auto& sp : t) {
      const std::string shown = sp.show(defaults);
      sp.info.default_text = shown.empty() ? std::string(empty_default) : shown;
    }
    return t;
  }();
  return table;
}

const spec* find_by_flag(std::string_view flag) {
  for (const auto& sp : specs()) {
    if (sp.info.flag == flag) return &sp;
  }
  return nullptr;
}

struct informational_flag {
  std::string_view flag;
  std::string_view short_flag;
  bool load_result::*target;
  std::string_view meaning;
};

const std::array<informational_flag, 3> informational_flags = {{
    {"--help", "-h", &load_result::show_help, "Show this help and exit."},
    {"--version", "", &load_result::show_version, "Print the version and exit."},
    {"--print-config-markdown", "", &load_result::print_config_markdown,
     "Print the settings table for docs/configuration.md and exit."},
}};

std::string markdown_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string code_or_plain(std::string_view text) {
  if (text == empty_default) return std::string(text);
  return "`" + markdown_cell(text) + "`";
}

}  // namespace

const std::vector<setting_info>& setting_table() {
  static const std::vector<setting_info> table = [] {
    std::vector<setting_info> t;
    for (const auto& sp : specs()) t.push_back(sp.info);
    return t;
  }();
  return table;
}

load_result load(const std::vector<std::string>& args, const env_map& env) {
  load_result result;
  std::optional<load_error> first_error;
  auto fail = [&](std::string variable, std::string problem) {
    if (!first_error) first_error = load_error{std::move(variable), std::move(problem)};
  };

  env_map overrides;  // flag values, keyed by env name so they shadow the environment
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const auto info = std::find_if(
        informational_flags.begin(), informational_flags.end(),
        [&](const auto& f) { return arg == f.flag || (!f.short_flag.empty() && arg == f.short_flag); });
    if (info != informational_flags.end()) {
      result.*(info->target) = true;
      continue;
    }
    if (!arg.starts_with("-")) {
      // Not echoed: a stray positional argument may well be a pasted credential.
      fail("argument " + std::to_string(i + 1),
           "unexpected argument (settings are given as --flag value or --flag=value)");
      continue;
    }
    const auto eq = arg.find('=');
    // Only the name is echoed, so a mistyped --openai-api-key=... does not leak the key.
    const std::string name = arg.substr(0, eq);
    const spec* sp = find_by_flag(name);
    if (sp == nullptr) {
      fail(name, "unknown flag " + name + " (see --help)");
      continue;
    }
    if (eq != std::string::npos) {
      overrides[sp->info.env] = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      overrides[sp->info.env] = args[++i];
    } else {
      fail(sp->info.env, name + " needs a value");
    }
  }

  // Informational flags win over any problem so that --help works in a broken environment.
  if (result.show_help || result.show_version || result.print_config_markdown) return result;
  if (first_error) {
    result.error = std::move(first_error);
    return result;
  }

  auto lookup = [&](std::string_view env_name) -> const std::string* {
    if (auto it = overrides.find(env_name); it != overrides.end()) return &it->second;
    if (auto it = env.find(env_name); it != env.end()) return &it->second;
    return nullptr;
  };

  const std::string* inline_instructions = lookup("INSTRUCTIONS");
  const std::string* instructions_file = lookup("INSTRUCTIONS_FILE");
  if (inline_instructions && !inline_instructions->empty() && instructions_file &&
      !instructions_file->empty()) {
    result.error = load_error{"INSTRUCTIONS_FILE", "cannot be combined with INSTRUCTIONS; set only one"};
    return result;
  }

  settings s;
  for (const auto& sp : specs()) {
    const std::string* value = lookup(sp.info.env);
    if (value == nullptr) continue;
    if (auto p = sp.apply(s, *value)) {
      result.error = load_error{sp.info.env, std::move(*p)};
      return result;
    }
  }
  // A credential without the resource it is for: the operator meant to reach Azure and would get
  // the simulator instead.
  if ((!s.azure_api_key.empty() || !s.azure_ad_token.empty()) && s.azure_endpoint.empty()) {
    result.error = load_error{"AZURE_OPENAI_ENDPOINT",
                              "must be set when AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN is "
                              "(https://<resource>.openai.azure.com)"};
    return result;
  }
  result.value = std::move(s);
  return result;
}

std::optional<std::string> model_name_problem(std::string_view model) {
  const bool name_chars = std::all_of(model.begin(), model.end(), [](unsigned char c) {
    return std::isalnum(c) || std::string_view("._:/-").find(static_cast<char>(c)) != std::string_view::npos;
  });
  if (!model.empty() && model.size() <= max_model_name_chars && name_chars) return std::nullopt;
  return quote(model) + " is not a model or deployment name (1-" + std::to_string(max_model_name_chars) +
         " letters, digits, '.', '_', ':', '/' or '-')";
}

namespace {
constexpr std::size_t max_transfer_name_chars = 64;
constexpr std::size_t max_sip_uri_chars = 256;

bool e164(std::string_view number) {
  if (number.size() < 9 || number.size() > 16 || number[0] != '+') return false;
  return std::all_of(number.begin() + 1, number.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

std::optional<std::string> transfer_name_problem(std::string_view name) {
  const bool name_chars = std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
  if (!name.empty() && name.size() <= max_transfer_name_chars && name_chars) return std::nullopt;
  return quote(name) + " is not a destination name (1-64 letters, digits, '_' or '-')";
}

std::optional<std::string> transfer_target_problem(std::string_view target) {
  if (e164(target)) return std::nullopt;
  const bool sip = target.starts_with("sip:") || target.starts_with("sips:");
  const auto rest = target.substr(target.find(':') + 1);
  const bool clean = std::none_of(target.begin(), target.end(), [](unsigned char c) {
    return c <= 0x20 || c == 0x7F || c == '"' || c == '<' || c == '>';
  });
  if (sip && !rest.empty() && clean && target.size() <= max_sip_uri_chars) return std::nullopt;
  return quote(target) + " is not a +E.164 number (+ and 8-15 digits) or a sip: URI";
}

std::optional<std::string> caller_id_problem(std::string_view caller_id) {
  if (caller_id.empty() || e164(caller_id)) return std::nullopt;
  return quote(caller_id) + " is not a +E.164 number (+ and 8-15 digits)";
}

std::vector<transfer_pair> parse_transfer_destinations(std::string_view text, std::string& problem) {
  std::vector<transfer_pair> pairs;
  problem.clear();
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const auto equals = entry.find('=');
    if (equals == std::string_view::npos) {
      problem = quote(entry) + " is not name=target";
      return {};
    }
    transfer_pair pair{std::string(entry.substr(0, equals)), std::string(entry.substr(equals + 1))};
    auto bad = transfer_name_problem(pair.name);
    if (!bad) bad = transfer_target_problem(pair.target);
    if (!bad && std::any_of(pairs.begin(), pairs.end(), [&](const auto& p) { return p.name == pair.name; }))
      bad = quote(pair.name) + " is named twice";
    if (bad) {
      problem = std::move(*bad);
      return {};
    }
    pairs.push_back(std::move(pair));
  }
  return pairs;
}

std::optional<std::string> transcription_language_problem(std::string_view language) {
  const bool iso_639_1 =
      language.size() == 2 && std::all_of(language.begin(), language.end(), [](char c) { return c >= 'a' && c <= 'z'; });
  if (language.empty() || iso_639_1) return std::nullopt;
  return quote(language) + " is not an ISO-639-1 language code (two lowercase letters, e.g. ja)";
}

std::optional<std::string> transcription_prompt_problem(std::string_view prompt) {
  const auto chars = utf8_chars(prompt);
  if (!chars) return std::string("is not UTF-8");
  if (*chars > max_transcription_prompt_chars) {
    return "has " + std::to_string(*chars) + " characters; at most " + std::to_string(max_transcription_prompt_chars);
  }
  if (std::any_of(prompt.begin(), prompt.end(), [](char c) { return std::iscntrl(static_cast<unsigned char>(c)); })) {
    return std::string("contains a control character (a line break, tab, ...)");
  }
  return std::nullopt;
}

std::string help_text() {
  std::ostringstream out;
  out << "Usage: mediabridge [--flag value | --flag=value]...\n"
         "\n"
         "Every setting is read from its environment variable; a command-line flag overrides it.\n"
         "Booleans accept true/false/1/0/yes/no. Invalid values exit with code 2.\n"
         "\n"
         "Options:\n";
  for (const auto& f : informational_flags) {
    out << "  ";
    if (!f.short_flag.empty()) out << f.short_flag << ", ";
    out << f.flag << "\n      " << f.meaning << '\n';
  }
  out << "\nSettings:\n";
  for (const auto& info : setting_table()) {
    out << "  " << info.flag << " <value>    (env " << info.env << ", default " << info.default_text
        << ")\n      " << info.meaning << '\n';
  }
  return out.str();
}

std::string markdown_table() {
  std::string out = "| Variable | Flag | Default | Meaning |\n|---|---|---|---|\n";
  for (const auto& info : setting_table()) {
    out += "| `" + info.env + "` | `" + info.flag + "` | " + code_or_plain(info.default_text) + " | " +
           markdown_cell(info.meaning) + " |\n";
  }
  return out;
}

}  // namespace mb::config
