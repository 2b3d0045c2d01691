#include "protocol/form.hpp"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse_query.hpp>

#include <algorithm>

namespace mb::protocol {

std::optional<form_fields> parse_form(std::string_view body) {
  const auto params = boost::urls::parse_query(body);
  if (!params) return std::nullopt;
  const boost::urls::encoding_opts form_encoding{/*space_as_plus=*/true};
  form_fields fields;
  fields.reserve(params->size());
  for (const auto param : *params) {
    if (param.key.empty() && !param.has_value) continue;
    fields.emplace_back(param.key.decode(form_encoding), param.value.decode(form_encoding));
  }
  return fields;
}

std::string_view form_value(const form_fields& fields, std::string_view name) noexcept {
  const auto it = std::find_if(fields.begin(), fields.end(), [&](const auto& field) { return field.first == name; });
  return it == fields.end() ? std::string_view{} : std::string_view{it->second};
}

}  // namespace mb::protocol
