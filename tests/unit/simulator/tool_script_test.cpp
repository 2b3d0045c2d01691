// simulator/tool_script.hpp: scripted tool calls, declared tools per protocol and the answer text.

#include <catch2/catch.hpp>

#include <string>

#include <boost/json/parse.hpp>

#include "simulator/tool_script.hpp"

namespace {

namespace json = boost::json;
namespace sim = mb::simulator;

}  // namespace

TEST_CASE("tool script: a call spec is turn, tool and optional JSON object arguments", "[simulator][tool_script]") {
  const auto call = sim::parse_tool_call(R"(2:lookup_order:{"order_id": "A-17"})");
  REQUIRE(call);
  CHECK(call->turn == 2);
  CHECK(call->tool == "lookup_order");
  CHECK(call->arguments_json == R"({"order_id":"A-17"})");

  const auto bare = sim::parse_tool_call("1:end_call");
  REQUIRE(bare);
  CHECK(bare->arguments_json == "{}");

  for (const char* bad : {"", "end_call", "0:end_call", "x:end_call", "1:", "1:bad name", "1:t:[1]", "1:t:{",
                          "-1:t", "1:t:\"s\""})
    CHECK_FALSE(sim::parse_tool_call(bad));
}

TEST_CASE("tool script: instructions carry a session's own script", "[simulator][tool_script]") {
  CHECK_FALSE(sim::script_in_instructions("Be brief. Say sim-tool-call: only at a line start."));
  const auto script = sim::script_in_instructions(
      "Be brief.\r\n  sim-tool-call: 1:lookup_order:{\"order_id\":\"7\"}\r\nsim-tool-call:3:end_call\nsim-tool-call: nonsense\n");
  REQUIRE(script);
  REQUIRE(script->size() == 2);
  CHECK((*script)[0].turn == 1);
  CHECK((*script)[0].arguments_json == R"({"order_id":"7"})");
  CHECK((*script)[1].tool == "end_call");
  // A script line that does not parse still replaces the simulator's script, with nothing.
  const auto empty = sim::script_in_instructions("sim-tool-call: nonsense");
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("tool script: declared tools in the Realtime/Responses and Gemini shapes", "[simulator][tool_script]") {
  const auto realtime = sim::function_tools(json::parse(R"([
      {"type":"function","name":"lookup_order","description":"d","parameters":{"type":"object"}},
      {"type":"web_search"},{"type":"function"},"junk",
      {"type":"function","name":"end_call"}])"));
  REQUIRE(realtime.size() == 2);
  CHECK(realtime[0].name == "lookup_order");
  CHECK(realtime[0].parameters_json == R"({"type":"object"})");
  CHECK(realtime[1].name == "end_call");
  CHECK(realtime[1].parameters_json.empty());
  CHECK(sim::function_tools(json::parse("{}")).empty());

  const auto gemini = sim::gemini_function_declarations(json::parse(R"([
      {"functionDeclarations":[{"name":"a","parameters":{"type":"OBJECT"}},{"description":"no name"}]},
      {"googleSearch":{}},
      {"functionDeclarations":[{"name":"b"}]}])"));
  REQUIRE(gemini.size() == 2);
  CHECK(gemini[0].name == "a");
  CHECK(gemini[0].parameters_json == R"({"type":"OBJECT"})");
  CHECK(gemini[1].name == "b");
}

TEST_CASE("tool script: only a declared tool is called, on its turn", "[simulator][tool_script]") {
  const std::vector<sim::scripted_tool_call> script{{1, "undeclared", "{}"}, {2, "lookup_order", "{}"}};
  const std::vector<sim::declared_tool> declared{{"lookup_order", ""}};
  CHECK(sim::due_tool_call(script, 1, declared) == nullptr);
  const auto* call = sim::due_tool_call(script, 2, declared);
  REQUIRE(call);
  CHECK(call->tool == "lookup_order");
  CHECK(sim::due_tool_call(script, 3, declared) == nullptr);
  CHECK(sim::due_tool_call(script, 2, {}) == nullptr);
}

TEST_CASE("tool script: the answer text is escaped, bounded, and cut on a UTF-8 boundary", "[simulator][tool_script]") {
  const std::string text = sim::tool_answer_text(R"({"ok":true,"note":"a\b"})");
  CHECK(text == R"(The tool answered: {\"ok\":true,\"note\":\"a\\b\"})");
  CHECK(sim::unescaped(text) == R"(The tool answered: {"ok":true,"note":"a\b"})");
  CHECK(sim::unescaped("plain words") == "plain words");

  // 399 ASCII bytes then a two-byte character straddling the 400-byte bound: the character is dropped whole.
  const std::string output = std::string(399, 'x') + "\xc3\xa9" + "tail";
  const std::string cut = sim::unescaped(sim::tool_answer_text(output));
  CHECK(cut == "The tool answered: " + std::string(399, 'x'));
  CHECK(sim::unescaped(sim::tool_answer_text(std::string(1000, 'y'))).size() == 19 + 400);
}
