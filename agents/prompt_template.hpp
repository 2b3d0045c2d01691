#pragma once
// {{variables}} in instructions and greetings, filled per call.
//
// Syntax: "{{" name "}}" or "{{" name "|" fallback "}}", spaces allowed around both, where a name is
// 1-64 of [A-Za-z0-9_.-] and the fallback is any text without "}}". Anything else, such as "{{ }}"
// or a lone "{{", is literal text.
//
// A variable takes the first non-empty value of: the call's values (Twilio customParameters, which
// carry the webhook's form fields), the profile's defaults, the inline fallback. Failing all three it
// becomes the empty string and is reported in `missing`, so that the caller can warn: the model never
// sees a raw {{name}}. An empty inline fallback, "{{name|}}", is a deliberate empty value: not missing.
//
// @par Thread Safety
// Pure functions.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mb::agents {

using variables = std::vector<std::pair<std::string, std::string>>;

struct rendered_template {
  std::string text;
  std::vector<std::string> missing;  // names that had no value anywhere, once each, in order of appearance
};

[[nodiscard]] rendered_template render(std::string_view text, const variables& values, const variables& defaults);

// A name as the syntax above allows it: 1-64 of [A-Za-z0-9_.-].
[[nodiscard]] bool valid_variable_name(std::string_view name);

// The variable names `text` uses, once each, in order of appearance.
[[nodiscard]] std::vector<std::string> variables_in(std::string_view text);

}  // namespace mb::agents
