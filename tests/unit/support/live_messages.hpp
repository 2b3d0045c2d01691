#pragma once
// For unit tests that feed a GPT-Live session's events: a tool call as the Responses delegation
// reports it (docs/protocols.md I2).

#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace mb::test {

inline std::string delegated_call(std::string_view call_id, std::string_view name, std::string_view arguments_json) {
  return boost::json::serialize(boost::json::object{
      {"type", "response.event"},
      {"delegation_id", "del_1"},
      {"event",
       {{"type", "response.output_item.done"},
        {"item",
         {{"type", "function_call"}, {"status", "completed"}, {"call_id", call_id}, {"name", name},
          {"arguments", arguments_json}}}}}});
}

}  // namespace mb::test
