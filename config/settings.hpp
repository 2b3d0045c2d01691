#pragma once
// Process configuration: one plain struct, filled and validated by a pure function.
// main() is the only place that reads the environment; everything else receives settings const&.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/cidr.hpp"
#include "config/secret.hpp"
#include "upstream/provider.hpp"

namespace mb::config {

enum class log_format { text, json };
enum class vad_type { server_vad, semantic_vad, none };

struct turn_detection {
  vad_type type = vad_type::server_vad;
  double threshold = 0.5;          // server_vad, 0.0..1.0
  int prefix_padding_ms = 300;     // server_vad
  int silence_duration_ms = 500;   // server_vad
  std::string eagerness = "auto";  // semantic_vad: low|medium|high|auto
  bool create_response = true;
  bool interrupt_response = true;
};

struct settings {
  // Network
  std::string listen_host = "0.0.0.0";
  std::uint16_t port = 8080;
  std::string public_url;                  // empty: derive from Host / trusted X-Forwarded-*
  std::vector<cidr> trusted_proxies;       // peers whose X-Forwarded-* headers are honoured
  int worker_threads = 0;                  // 0: one per core

  // Upstream
  upstream::provider_kind provider = upstream::provider_kind::openai_realtime;  // unless a profile names one
  secret openai_api_key;                   // empty: demo mode on the built-in simulator; Bearer key of both protocols
  std::string openai_realtime_url = "wss://api.openai.com/v1/realtime";  // each call adds ?model=
  std::string openai_model = "gpt-realtime";
  std::string openai_live_url = "wss://api.openai.com/v1/live/sessions";  // used as it is: no query
  std::string openai_live_model = "gpt-live-1";
  // Azure OpenAI (docs/protocols.md G): the Realtime API and GPT-Live on one resource.
  std::string azure_endpoint;              // https://<resource>.openai.azure.com, no trailing '/'; empty: not configured
  std::string azure_deployment;            // the model= of azure-realtime, the session model of azure-live
  secret azure_api_key;                    // sent as api-key
  secret azure_ad_token;                   // an Entra ID token, sent as Authorization: Bearer; wins over the key
  std::string azure_live_path = "/openai/v1/live";  // GPT-Live's path on the resource
  // Google Gemini Live
  secret gemini_api_key;                   // sent as x-goog-api-key, never in the URL
  std::string gemini_live_url =
      "wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
  std::string gemini_model = "gemini-3.8-live";
  std::string gemini_voice = "Kore";  // Gemini's own prebuilt voice names; OPENAI_VOICE's do not apply
  std::string openai_voice = "marin";
  std::string instructions = "You are a helpful, concise voice assistant answering a phone call.";
  turn_detection vad;
  std::string transcription_model = "gpt-4o-mini-transcribe";  // empty: no caller transcripts
  std::string transcription_language;      // ISO-639-1 ("ja"); empty: the provider detects it
  std::string transcription_prompt;        // vocabulary or style hint for caller transcripts; empty: none
  std::string greeting;                    // empty: wait for the caller; else the assistant speaks first with these instructions
  std::string webhook_say;                 // optional <Say> text before <Connect>
  std::string upstream_ca_file;            // extra CA bundle for the upstream TLS (tests, private proxies)
  int upstream_connect_timeout_ms = 10000;
  int session_update_timeout_ms = 10000;

  // Per-call behaviour
  int pacing_lead_ms = 300;                // max assistant audio ahead of real-time playout; 0 disables pacing
  int pre_connect_buffer_ms = 2000;        // caller audio kept while the upstream is not ready
  int max_call_duration_s = 4 * 3600;
  int twilio_media_timeout_s = 10;
  int upstream_reconnect_attempts = 3;
  int upstream_reconnect_backoff_ms = 250;
  int upstream_rollover_s = 0;            // 0: 5 minutes before the provider's session cap
  secret twilio_auth_token;                // empty: no signature validation (startup warns)
  int stream_token_ttl_s = 120;
  int max_concurrent_calls = 0;           // 0: unlimited; live calls plus webhook reservations; when full the webhook answers fallback TwiML
  int max_pending_streams = 64;            // upgraded streams without an authorised start yet; more are refused (503)
  int stream_start_timeout_ms = 5000;      // a pending stream must send its authorised start this soon
  int drain_timeout_s = 30;                // SIGTERM: running calls may finish for this long
  std::string fallback_say = "Sorry, we cannot take your call right now. Please try again later.";
  std::string fallback_dial;               // non-empty: fallback TwiML dials this number instead of hanging up

  // Agent profiles (docs/agents.md)
  std::string agents_file;                 // JSON profiles; empty: one profile, "default", from the settings above
  std::string default_agent = "default";   // profile for calls that select none

  // Tools and call control (docs/tools.md)
  secret tool_webhook_secret;              // signs tool webhook bodies (X-Mediabridge-Signature); empty: unsigned (startup warns)
  std::string transfer_destinations;       // the default profile's transfer allowlist: "name=+1555…,desk=sip:…"; empty: no transfers
  std::string transfer_caller_id;          // callerId of transfers; empty: the caller's number
  int dtmf_gap_ms = 2000;                  // the default profile's pause that ends a digit string
  bool dtmf_mask = false;                  // the default profile hides DTMF digits in logs, events and history
  // Twilio's REST API: hang-up, transfer and outbound calls
  std::string twilio_account_sid;          // AC…; empty: no REST calls (hang-up falls back to closing the stream)
  std::string twilio_api_key_sid;          // SK…; empty: Basic auth with the account SID and TWILIO_AUTH_TOKEN
  secret twilio_api_key_secret;
  std::string twilio_api_base_url = "https://api.twilio.com";  // tests point it at the REST simulator
  int twilio_rest_timeout_ms = 10000;      // per attempt
  int twilio_rest_retries = 2;             // retries of a request that cannot have acted (docs/tools.md)
  std::string outbound_from_number;        // From of outbound calls (a Twilio number, E.164)
  int campaign_calls_per_second = 1;       // default pacing of a campaign
  int campaign_max_active = 5;             // default: a campaign's calls at once (also within MAX_CONCURRENT_CALLS)
  int campaign_max_rows = 10000;
  // OpenAI SIP mode (docs/sip.md)
  std::string call_mode = "media-stream";  // the default profile's: "media-stream" (Twilio Media Streams) or "sip"
  std::string openai_sip_uri;              // sip:<project>@sip.api.openai.com;transport=tls; empty: no SIP mode
  secret openai_webhook_secret;            // whsec_…: verifies OpenAI's webhooks; empty: /openai/webhook answers 503
  int sip_accept_timeout_ms = 10000;       // per accept attempt
  int sip_accept_retries = 3;              // more attempts of an accept that failed (call_id_not_found, 5xx, timeout)
  // Latency truth (docs/latency.md)
  std::string probe_agents;                // profiles the prober plays a scripted exchange with: "*" all, "a,b"; empty: off
  int probe_interval_s = 60;               // one probe run per probed profile this often
  int probe_timeout_ms = 20000;            // a probe run that has not finished by then fails as a timeout
  int probe_retention_days = 30;           // probe runs and alerts older than this are deleted
  std::string probe_alerts;                // rules: "first_audio.p95>1500,error_rate>0.2"; empty: no alerts
  int probe_alert_window_s = 900;          // the rules look at the runs of this window
  std::string probe_alert_webhook_url;     // alert transitions are POSTed here, signed like tool webhooks
  bool prewarm = false;                    // open the upstream session when /voice is answered
  int prewarm_ttl_ms = 5000;               // a pre-warmed session no stream claims is closed after this
  int client_secret_ttl_s = 600;           // lifetime of a minted browser client secret (10 s to 2 h)
  int client_secret_per_minute = 10;       // mints per client address per minute
  // Recording and replay (docs/recording.md)
  bool record_calls = false;               // the default profile's calls are recorded (stereo WAV + JSONL event log)
  std::string recordings_dir = "./data/recordings";  // where recordings go (created owner-only); empty: none may record
  int recording_retention_days = 30;       // recordings older than this are deleted
  // Debugging
  bool wire_events = false;                // publish each call's wire messages (type and size, no payload) to listeners

  // Listeners and call history (docs/events.md)
  secret api_token;                        // empty: /v1/* accepts loopback clients only
  std::string database_path = "./data/mediabridge.db";  // SQLite file; ":memory:" keeps nothing; empty: no history
  int listener_queue_size = 256;           // messages a listener may fall behind (beyond its backfill) before it is dropped
  int listener_backfill_events = 1024;     // per running call: kept for late listeners (call/backfill_log.hpp)
  int listener_backfill_bytes = 256 * 1024;  // the same bound in bytes of JSON
  int store_queue_size = 10000;            // history records waiting for the disk before new ones are dropped

  // Logging
  std::string log_level = "info";          // trace|debug|info|warn|error|critical|off
  log_format log_fmt = log_format::text;
};

// One row of the settings table: drives --help, docs/configuration.md and validation messages.
struct setting_info {
  std::string env;          // e.g. "PORT"
  std::string flag;         // e.g. "--port"
  std::string default_text; // as shown to the user
  std::string meaning;
  bool secret = false;      // its value is never echoed: not in errors, help or docs
};

const std::vector<setting_info>& setting_table();

struct load_error {
  std::string variable;  // env name, e.g. "PORT"
  std::string problem;   // never contains a secret value
};

using env_map = std::map<std::string, std::string, std::less<>>;

struct load_result {
  std::optional<settings> value;
  std::optional<load_error> error;
  bool show_help = false;
  bool show_version = false;
  bool print_config_markdown = false;  // --print-config-markdown: regenerate docs/configuration.md
};

// Pure: args are argv[1..], env is the process environment (only known names are read).
// Flags override environment variables. Touches the disk only to read INSTRUCTIONS_FILE and to
// check that UPSTREAM_CA_FILE is readable.
load_result load(const std::vector<std::string>& args, const env_map& env);

// The rules for the transcription settings, shared with agent profiles that override them: the problem
// (naming the value, never containing a control character), or nullopt when the value is valid.
// A language is an ISO-639-1 code: two lowercase ASCII letters, no region; empty is valid.
[[nodiscard]] std::optional<std::string> transcription_language_problem(std::string_view language);
// A prompt is at most max_transcription_prompt_chars UTF-8 characters, without control characters.
inline constexpr std::size_t max_transcription_prompt_chars = 1000;
[[nodiscard]] std::optional<std::string> transcription_prompt_problem(std::string_view prompt);
// A model or deployment name goes into a URL's query (Azure's ?model=) or a JSON string: 1-64 of
// [A-Za-z0-9._:/-] (Gemini's "models/..." included). Shared with agent profiles' "model".
inline constexpr std::size_t max_model_name_chars = 64;
[[nodiscard]] std::optional<std::string> model_name_problem(std::string_view model);

// Transfer destinations (TRANSFER_DESTINATIONS, and agent profiles' "transfers"; docs/tools.md): a
// name of 1-64 [A-Za-z0-9_-], and a target that is a +E.164 number (+ and 8-15 digits) or a sip: URI
// (sip: or sips:, no spaces, quotes, angle brackets or control characters, at most 256 characters).
[[nodiscard]] std::optional<std::string> transfer_name_problem(std::string_view name);
[[nodiscard]] std::optional<std::string> transfer_target_problem(std::string_view target);
// A caller ID for transfers: empty, or a +E.164 number.
[[nodiscard]] std::optional<std::string> caller_id_problem(std::string_view caller_id);
// "name=target,name=target": the pairs in order, or the problem with the first bad entry (names
// once each). Empty text: no pairs.
struct transfer_pair {
  std::string name;
  std::string target;
};
[[nodiscard]] std::vector<transfer_pair> parse_transfer_destinations(std::string_view text, std::string& problem);

std::string help_text();          // what `mediabridge --help` prints
std::string markdown_table();     // the table in docs/configuration.md

}  // namespace mb::config
