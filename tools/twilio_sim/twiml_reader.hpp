#pragma once
// Reads the TwiML a voice webhook returns, as far as a simulated Twilio needs: the top-level verbs and
// the first <Connect><Stream url> with its <Parameter name value> list (protocols.md B1).
//
// A small non-validating XML reader: elements, attributes ('…' or "…"), the five predefined entities and
// character references; it skips the XML declaration, comments, CDATA, processing instructions and
// DOCTYPE. Text content is ignored (the simulator does not speak <Say>).
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
};

[[nodiscard]] twiml_document read_twiml(std::string_view xml);

}  // namespace mb::tools::twilio
