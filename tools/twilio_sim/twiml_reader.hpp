#pragma once
// Reads the TwiML a voice webhook returns, as far as a simulated Twilio needs: the top-level verbs,
// the first <Connect><Stream url> with its <Parameter name value> list (protocols.md B1), and the URI
// of the first <Dial><Sip> (SIP mode, docs/protocols.md J5).
//
// A small non-validating XML reader: elements, attributes ('…' or "…"), the five predefined entities and
// character references; it skips the XML declaration, comments, CDATA, processing instructions and
// DOCTYPE. Text content is ignored (the simulator does not speak <Say>), except a <Sip>'s URI.
//
// @par Thread Safety
// Pure function.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mb::tools::twilio {

struct stream_parameter {
  std::string name;
  std::string value;
  bool operator==(const stream_parameter&) const = default;
};

struct twiml_stream {
  std::string url;   // as written (entities decoded); Twilio requires wss://, tests use ws://
  std::string name;  // the optional name attribute
  std::vector<stream_parameter> parameters;  // in document order
};

struct twiml_document {
  std::string error;                  // empty when the text is well-formed TwiML with a <Response> root
  std::vector<std::string> verbs;     // children of <Response> in order, e.g. {"Connect"} or {"Say", "Hangup"}
  std::optional<twiml_stream> stream;  // the first <Stream> directly inside a <Connect> verb
  // The text of the first <Sip> directly inside a <Dial> verb: entities decoded, surrounding white
  // space trimmed (markup inside it, or an empty one, is an error).
  std::optional<std::string> sip_uri;
};

[[nodiscard]] twiml_document read_twiml(std::string_view xml);

// Where a simulated Twilio rings the simulated OpenAI SIP endpoint (simulator/sip_control.hpp) for a
// <Dial><Sip> URI: "sip:proj@127.0.0.1:5061;transport=tls?X-…" → "http://127.0.0.1:5061/sim/sip/invite".
// nullopt when the URI is not sip:/sips: or names no port (a real trunk, not a simulator).
[[nodiscard]] std::optional<std::string> sim_sip_invite_url(std::string_view sip_uri);

}  // namespace mb::tools::twilio
