#pragma once
// The error event of both OpenAI upstream protocols (docs/protocols.md A8, D8): the same fields,
// except for the name of the one that quotes the client event.

#include <optional>
#include <string_view>

#include <simdjson.h>

#include "protocol/parse_error.hpp"
#include "protocol/simdjson_parse.hpp"

namespace mb::protocol {

struct upstream_error {
  std::string_view type;
  std::string_view code;
  std::string_view message;
  std::string_view param;
  std::string_view event_id;  // the client event that caused it, when known
};

// Reads the message's `error` object. `event_id_key` names the quoted client event: "event_id" on the
// Realtime API, "client_event_id" on GPT-Live.
inline std::optional<parse_error> read_upstream_error(simdjson::dom::object& root, const char* event_id_key,
                                                      upstream_error& out) {
  simdjson::dom::object err;
  if (!child_object(root, "error", err)) return parse_error{"error object is missing"};
  optional_string(err, "type", out.type);
  optional_string(err, "code", out.code);
  optional_string(err, "message", out.message);
  optional_string(err, "param", out.param);
  optional_string(err, event_id_key, out.event_id);
  return std::nullopt;
}

}  // namespace mb::protocol
