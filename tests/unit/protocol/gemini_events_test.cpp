#include "protocol/gemini_events.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/support/padded.hpp"

using namespace mb::protocol;
namespace json = boost::json;

// Messages are our own minimal examples shaped like docs/protocols.md F4/F6; builders are checked
// field by field against F2.

namespace {

using parsed = mb::test::parsed<gemini_parser, gemini_message>;

json::object parse_object(std::string_view text) { return json::parse(text).as_object(); }

}  // namespace

TEST_CASE("gemini_parser: setupComplete", "[gemini]") {
  parsed p(R"({"setupComplete":{"sessionId":"s1"}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.known);
  CHECK(p.ev.type_name == "setupComplete");
  CHECK(p.ev.setup_complete);
  CHECK_FALSE(p.ev.server_content);

  p.parse(R"({"setupComplete":{}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.setup_complete);
}

TEST_CASE("gemini_parser: model audio parts, in order, other parts skipped", "[gemini]") {
  parsed p(R"({"serverContent":{"modelTurn":{"role":"model","parts":[)"
           R"({"inlineData":{"mimeType":"audio/pcm;rate=24000","data":"AAAA"}},)"
           R"({"text":"thinking"},)"
           R"({"inlineData":{"data":"AQID"}}]}}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type_name == "serverContent");
  CHECK(p.ev.server_content);
  REQUIRE(p.ev.audio_part_count == 2);
  CHECK(p.ev.audio_parts[0].mime_type == "audio/pcm;rate=24000");
  CHECK(p.ev.audio_parts[0].data_b64 == "AAAA");
  CHECK(p.ev.audio_parts[1].mime_type.empty());
  CHECK(p.ev.audio_parts[1].data_b64 == "AQID");
  CHECK_FALSE(p.ev.turn_complete);
  CHECK_FALSE(p.ev.interrupted);

  // The next message starts from nothing.
  p.parse(R"({"serverContent":{"turnComplete":true}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.audio_part_count == 0);
  CHECK(p.ev.turn_complete);
}

TEST_CASE("gemini_parser: parts beyond the bound are counted, not kept", "[gemini]") {
  std::string parts;
  for (std::size_t i = 0; i < max_gemini_audio_parts + 3; ++i) {
    if (i > 0) parts += ',';
    parts += R"({"inlineData":{"mimeType":"audio/pcm","data":"AAAA"}})";
  }
  parsed p(R"({"serverContent":{"modelTurn":{"parts":[)" + parts + "]}}}");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.audio_part_count == max_gemini_audio_parts);
  CHECK(p.ev.audio_parts_dropped == 3);
}

TEST_CASE("gemini_parser: an inlineData part without its data is malformed", "[gemini]") {
  parsed p(R"({"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm"}}]}}})");
  REQUIRE(p.error);
  CHECK(p.error->what == "serverContent.modelTurn.parts[].inlineData.data is missing");
  p.parse(R"({"serverContent":{"modelTurn":{"parts":[{"inlineData":{"data":12}}]}}})");
  REQUIRE(p.error);
  CHECK(p.error->what == "serverContent.modelTurn.parts[].inlineData.data is not a string");
}

TEST_CASE("gemini_parser: turn flags and transcriptions", "[gemini]") {
  parsed p(R"({"serverContent":{"interrupted":true}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.interrupted);

  p.parse(R"({"serverContent":{"generationComplete":true,"turnComplete":true,)"
          R"("outputTranscription":{"text":"Bye \"now\"","finished":true},)"
          R"("inputTranscription":{"text":"ok"}}})");
  REQUIRE_FALSE(p.error);
  CHECK_FALSE(p.ev.interrupted);
  CHECK(p.ev.generation_complete);
  CHECK(p.ev.turn_complete);
  CHECK(p.ev.output_transcription.present);
  CHECK(p.ev.output_transcription.text == "Bye \"now\"");
  CHECK(p.ev.output_transcription.finished);
  CHECK(p.ev.input_transcription.present);
  CHECK(p.ev.input_transcription.text == "ok");
  CHECK_FALSE(p.ev.input_transcription.finished);

  // A finished mark without text, and mistyped flags read as absent.
  p.parse(R"({"serverContent":{"inputTranscription":{"finished":true},"turnComplete":"yes"}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.input_transcription.present);
  CHECK(p.ev.input_transcription.text.empty());
  CHECK(p.ev.input_transcription.finished);
  CHECK_FALSE(p.ev.output_transcription.present);
  CHECK_FALSE(p.ev.turn_complete);
}

TEST_CASE("gemini_parser: usageMetadata beside serverContent", "[gemini]") {
  parsed p(R"({"serverContent":{"turnComplete":true},"usageMetadata":{"promptTokenCount":120,)"
           R"("responseTokenCount":30,"totalTokenCount":150,"responseTokensDetails":[{"modality":"AUDIO"}]}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type_name == "serverContent");  // the first known field names the message
  CHECK(p.ev.turn_complete);
  CHECK(p.ev.usage.present);
  CHECK(p.ev.usage.prompt_tokens == 120);
  CHECK(p.ev.usage.response_tokens == 30);
  CHECK(p.ev.usage.total_tokens == 150);
}

TEST_CASE("gemini_parser: goAway, with its Duration in ms", "[gemini]") {
  parsed p(R"({"goAway":{"timeLeft":"59s"}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.go_away);
  CHECK(p.ev.time_left_ms == 59000);
  p.parse(R"({"goAway":{"timeLeft":"1.5s"}})");
  CHECK(p.ev.time_left_ms == 1500);
  // Absent or unreadable: the connection may end any moment.
  p.parse(R"({"goAway":{}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.go_away);
  CHECK(p.ev.time_left_ms == 0);
  p.parse(R"({"goAway":{"timeLeft":"soon"}})");
  CHECK(p.ev.time_left_ms == 0);
}

TEST_CASE("parse_gemini_duration_ms: protobuf JSON Durations", "[gemini]") {
  CHECK(parse_gemini_duration_ms("59s") == 59000);
  CHECK(parse_gemini_duration_ms("0s") == 0);
  CHECK(parse_gemini_duration_ms("1.5s") == 1500);
  CHECK(parse_gemini_duration_ms("0.250s") == 250);
  CHECK(parse_gemini_duration_ms("0.0019s") == 1);  // below a ms is cut, not rounded
  CHECK(parse_gemini_duration_ms("59.000000001s") == 59000);
  CHECK(parse_gemini_duration_ms("-3s") == 0);
  CHECK(parse_gemini_duration_ms("315576000000s") == max_gemini_time_left_ms);  // clamped
  for (const std::string_view bad : {"", "s", "59", "1.s", ".5s", "1.5.5s", "1.0000000001s", "5 s", "-s", "1e3s",
                                     "1000000000000s", "x59s"})
    CHECK_FALSE(parse_gemini_duration_ms(bad));
}

TEST_CASE("gemini_parser: sessionResumptionUpdate", "[gemini]") {
  parsed p(R"({"sessionResumptionUpdate":{"newHandle":"h-1","resumable":true}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.resumption_update);
  CHECK(p.ev.resumable);
  CHECK(p.ev.new_handle == "h-1");

  p.parse(R"({"sessionResumptionUpdate":{"resumable":false}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.resumption_update);
  CHECK_FALSE(p.ev.resumable);
  CHECK(p.ev.new_handle.empty());
}

TEST_CASE("gemini_parser: function calls, their args serialised, and cancelled ids (docs/protocols.md I3)",
          "[gemini]") {
  parsed p(R"({"toolCall":{"functionCalls":[{"id":"fc1","name":"lookup_order","args":{"order":"4\"2","n":[1,2]}},)"
           R"({"id":"fc2","name":"end_call"}]}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.known);
  CHECK(p.ev.type_name == "toolCall");
  REQUIRE(p.ev.function_call_count == 2);
  CHECK(p.ev.function_calls[0].id == "fc1");
  CHECK(p.ev.function_calls[0].name == "lookup_order");
  CHECK(json::parse(p.ev.function_calls[0].arguments) == json::parse(R"({"order":"4\"2","n":[1,2]})"));
  CHECK(p.ev.function_calls[0].arguments_bytes == p.ev.function_calls[0].arguments.size());
  CHECK(p.ev.function_calls[1].arguments == "{}");  // no args: an empty object
  CHECK(p.ev.tool_entries_dropped == 0);

  p.parse(R"({"toolCallCancellation":{"ids":["fc1","fc2"]}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.known);
  REQUIRE(p.ev.cancelled_id_count == 2);
  CHECK(p.ev.cancelled_ids[0] == "fc1");
  CHECK(p.ev.cancelled_ids[1] == "fc2");
  CHECK(p.ev.function_call_count == 0);  // nothing left of the previous message

  p.parse(R"({"toolCall":{}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.known);
  CHECK(p.ev.function_call_count == 0);
  p.parse(R"({"toolCallCancellation":{}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.known);
  CHECK(p.ev.cancelled_id_count == 0);
}

TEST_CASE("gemini_parser: malformed tool messages are rejected, oversize ones bounded", "[gemini]") {
  parsed p(R"({"toolCall":[]})");
  CHECK(p.error);
  for (const auto* message : {
           R"({"toolCall":{"functionCalls":{}}})",
           R"({"toolCall":{"functionCalls":["fc1"]}})",
           R"({"toolCall":{"functionCalls":[{"name":"f","args":{}}]}})",
           R"({"toolCall":{"functionCalls":[{"id":7,"name":"f"}]}})",
           R"({"toolCall":{"functionCalls":[{"id":"fc1","args":{}}]}})",
           R"({"toolCall":{"functionCalls":[{"id":"fc1","name":"f","args":"{}"}]}})",
           R"({"toolCallCancellation":{"ids":"fc1"}})",
           R"({"toolCallCancellation":{"ids":[1]}})",
           R"({"toolCallCancellation":7})",
       }) {
    p.parse(message);
    CHECK(p.error);
  }

  // More calls or ids than the bound: the first ones are kept and the rest counted.
  std::string calls = R"({"toolCall":{"functionCalls":[)";
  std::string ids = R"({"toolCallCancellation":{"ids":[)";
  for (std::size_t i = 0; i < max_tool_calls_per_message + 3; ++i) {
    if (i > 0) calls += ',', ids += ',';
    calls += R"({"id":"c)" + std::to_string(i) + R"(","name":"f","args":{}})";
    ids += "\"c" + std::to_string(i) + "\"";
  }
  p.parse(calls + "]}}");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.function_call_count == max_tool_calls_per_message);
  CHECK(p.ev.function_calls[max_tool_calls_per_message - 1].id == "c" + std::to_string(max_tool_calls_per_message - 1));
  CHECK(p.ev.tool_entries_dropped == 3);
  p.parse(ids + "]}}");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.cancelled_id_count == max_tool_calls_per_message);
  CHECK(p.ev.tool_entries_dropped == 3);

  // Args over the bound are not kept, but their size is.
  const std::string big(max_tool_arguments_bytes, 'x');
  p.parse(R"({"toolCall":{"functionCalls":[{"id":"fc1","name":"f","args":{"a":")" + big + R"("}}]}})");
  REQUIRE_FALSE(p.error);
  REQUIRE(p.ev.function_call_count == 1);
  CHECK(p.ev.function_calls[0].arguments.empty());
  CHECK(p.ev.function_calls[0].arguments_bytes == big.size() + 8);
}

TEST_CASE("gemini_parser: unknown messages are named by their first field", "[gemini]") {
  parsed p(R"({"voiceActivity":{"voiceActivityType":"ACTIVITY_START"}})");
  REQUIRE_FALSE(p.error);
  CHECK_FALSE(p.ev.known);
  CHECK(p.ev.type_name == "voiceActivity");

  p.parse(R"({})");
  REQUIRE_FALSE(p.error);
  CHECK_FALSE(p.ev.known);
  CHECK(p.ev.type_name.empty());
}

TEST_CASE("gemini_parser: an error object in Google's shape", "[gemini]") {
  parsed p(R"({"error":{"code":400,"message":"Invalid resumption handle","status":"INVALID_ARGUMENT"}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.error.present);
  CHECK(p.ev.error.code == 400);
  CHECK(p.ev.error.status == "INVALID_ARGUMENT");
  CHECK(p.ev.error.message == "Invalid resumption handle");
}

TEST_CASE("gemini_parser: malformed messages", "[gemini]") {
  parsed p("[1,2]");
  REQUIRE(p.error);
  CHECK(p.error->what == "malformed JSON (not an object)");
  p.parse(R"({"serverContent":{)");
  REQUIRE(p.error);
  CHECK(p.error->what == "malformed JSON");
  for (const std::string_view key :
       {"serverContent", "setupComplete", "goAway", "sessionResumptionUpdate", "usageMetadata", "toolCall", "error"}) {
    p.parse(R"({")" + std::string(key) + R"(":7})");
    REQUIRE(p.error);
    CHECK(p.error->what == std::string(key) + " is not an object");
  }
}

TEST_CASE("gemini_model_name: the models/ prefix, once, the default when empty", "[gemini]") {
  CHECK(gemini_model_name("gemini-3.8-live") == "models/gemini-3.8-live");
  CHECK(gemini_model_name("models/gemini-3.8-live") == "models/gemini-3.8-live");
  CHECK(gemini_model_name("") == "models/" + std::string(gemini_default_model));
}

TEST_CASE("build_gemini_setup: the fields of F2", "[gemini]") {
  session_config config;
  config.model = "gemini-3.8-live";
  config.instructions = "Be brief.";
  config.voice = "Kore";
  config.transcription_language = "de";
  config.vad_prefix_padding_ms = 200;
  config.vad_silence_duration_ms = 700;
  const auto root = parse_object(build_gemini_setup(config, ""));
  REQUIRE(root.size() == 1);
  const auto& setup = root.at("setup").as_object();
  CHECK(setup.at("model") == "models/gemini-3.8-live");
  const auto& generation = setup.at("generationConfig").as_object();
  CHECK(generation.at("responseModalities") == json::array{"AUDIO"});
  CHECK(generation.at("speechConfig").at("voiceConfig").at("prebuiltVoiceConfig").at("voiceName") == "Kore");
  const auto& instruction = setup.at("systemInstruction").as_object();
  CHECK_FALSE(instruction.contains("role"));
  CHECK(instruction.at("parts") ==
        json::array{json::object{{"text", "Be brief.\n\nThe caller speaks the language with ISO 639-1 code de."}}});
  CHECK(setup.at("inputAudioTranscription") == json::object{});
  CHECK(setup.at("outputAudioTranscription") == json::object{});
  CHECK(setup.at("contextWindowCompression") == json::object{{"slidingWindow", json::object{}}});
  CHECK(setup.at("sessionResumption") == json::object{});
  const auto& input = setup.at("realtimeInputConfig").as_object();
  CHECK(input.at("automaticActivityDetection") ==
        json::object{{"prefixPaddingMs", 200}, {"silenceDurationMs", 700}});
  CHECK_FALSE(input.contains("activityHandling"));  // the default: the caller's speech interrupts
  CHECK_FALSE(setup.contains("tools"));  // no tools declared: none sent
}

TEST_CASE("build_gemini_setup: a resumption handle, VAD settings that map", "[gemini]") {
  session_config config;
  config.turn_detection = turn_detection_type::semantic_vad;
  config.vad_interrupt_response = false;
  auto setup = parse_object(build_gemini_setup(config, "h\"1")).at("setup").as_object();
  CHECK(setup.at("model").as_string() == "models/" + std::string(gemini_default_model));
  CHECK(setup.at("sessionResumption") == json::object{{"handle", "h\"1"}});
  CHECK_FALSE(setup.contains("systemInstruction"));  // no instructions, no hints
  CHECK_FALSE(setup.at("generationConfig").as_object().contains("speechConfig"));  // no voice: the default
  CHECK(setup.at("realtimeInputConfig") ==
        json::object{{"automaticActivityDetection", json::object{}}, {"activityHandling", "NO_INTERRUPTION"}});

  config.turn_detection = turn_detection_type::none;
  setup = parse_object(build_gemini_setup(config, "")).at("setup").as_object();
  CHECK(setup.at("realtimeInputConfig").at("automaticActivityDetection") == json::object{{"disabled", true}});
}

TEST_CASE("build_gemini_audio_input: realtimeInput.audio at 16 kHz", "[gemini]") {
  std::string out;
  build_gemini_audio_input(out, "AAAA");
  CHECK(parse_object(out) ==
        json::object{{"realtimeInput", {{"audio", {{"mimeType", "audio/pcm;rate=16000"}, {"data", "AAAA"}}}}}});
}

TEST_CASE("build_gemini_history: user and model turns, turnComplete false, empty ones left out", "[gemini]") {
  const gemini_history_turn turns[] = {
      {gemini_role::user, "I need a taxi."}, {gemini_role::model, ""}, {gemini_role::model, "Where to?"}};
  const auto message = build_gemini_history(turns);
  REQUIRE(message);
  const auto content = parse_object(*message).at("clientContent").as_object();
  CHECK(content.at("turnComplete") == false);
  CHECK(content.at("turns") ==
        json::array{json::object{{"parts", json::array{json::object{{"text", "I need a taxi."}}}}, {"role", "user"}},
                    json::object{{"parts", json::array{json::object{{"text", "Where to?"}}}}, {"role", "model"}}});

  const gemini_history_turn empty[] = {{gemini_role::user, ""}};
  CHECK_FALSE(build_gemini_history(empty));
  CHECK_FALSE(build_gemini_history({}));
}

TEST_CASE("build_gemini_history: only the newest turns", "[gemini]") {
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < max_gemini_history_turns + 5; ++i) texts.push_back("t" + std::to_string(i));
  std::vector<gemini_history_turn> turns;
  for (const auto& t : texts) turns.push_back({gemini_role::user, t});
  turns.insert(turns.end() - 1, {gemini_role::model, ""});  // an empty one does not count
  const auto replayed = parse_object(*build_gemini_history(turns)).at("clientContent").at("turns").as_array();
  REQUIRE(replayed.size() == max_gemini_history_turns);
  CHECK(replayed.front().at("parts").at(0).at("text") == "t5");
  CHECK(replayed.back().at("parts").at(0).at("text").as_string() == "t" + std::to_string(max_gemini_history_turns + 4));
}

TEST_CASE("build_gemini_user_text: the greeting is a user turn that completes", "[gemini]") {
  const auto content = parse_object(build_gemini_user_text("Greet the \"caller\".", true)).at("clientContent").as_object();
  CHECK(content.at("turnComplete") == true);
  CHECK(content.at("turns") ==
        json::array{json::object{{"parts", json::array{json::object{{"text", "Greet the \"caller\"."}}}},
                                 {"role", "user"}}});
}

TEST_CASE("build_gemini_setup: tools as functionDeclarations, the schema embedded as JSON (docs/protocols.md I3)",
          "[gemini]") {
  session_config config;
  config.tools = {
      {"lookup_order", "Find an order \"now\"", R"({"type":"object","properties":{"id":{"type":"string"}}})"},
      {"broken", "parameters that are not an object", R"(["x"])"},
      {"end_call", "Hang up", ""},
  };
  const auto setup = parse_object(build_gemini_setup(config, "")).at("setup").as_object();
  CHECK(setup.at("tools") ==
        json::array{json::object{
            {"functionDeclarations",
             json::array{json::object{{"name", "lookup_order"},
                                      {"description", "Find an order \"now\""},
                                      {"parameters", json::parse(R"({"type":"object","properties":{"id":{"type":"string"}}})")}},
                         json::object{{"name", "end_call"},
                                      {"description", "Hang up"},
                                      {"parameters", {{"type", "object"}, {"properties", json::object{}}}}}}}}});

  config.tools = {{"broken", "", "not json"}};
  CHECK_FALSE(parse_object(build_gemini_setup(config, "")).at("setup").as_object().contains("tools"));
}

TEST_CASE("build_gemini_user_text: context text that waits for the caller", "[gemini]") {
  const auto content = parse_object(build_gemini_user_text("Keys: 1 2 \"#\"\n", false)).at("clientContent").as_object();
  CHECK(content.at("turnComplete") == false);
  CHECK(content.at("turns").at(0).at("parts").at(0).at("text") == "Keys: 1 2 \"#\"\n");
}

TEST_CASE("build_gemini_tool_response: the result by id, embedded as JSON (docs/protocols.md I3)", "[gemini]") {
  CHECK(parse_object(build_gemini_tool_response("fc\"1", "lookup_order", R"({"status":"shipped","n":[1]})")) ==
        json::object{{"toolResponse",
                      {{"functionResponses",
                        json::array{json::object{{"id", "fc\"1"},
                                                 {"name", "lookup_order"},
                                                 {"response", {{"output", json::parse(R"({"status":"shipped","n":[1]})")}}}}}}}}});
  // A scalar result is still a value; text that is not JSON goes as a string rather than breaking the message.
  CHECK(parse_object(build_gemini_tool_response("a", "f", "42")).at("toolResponse").at("functionResponses").at(0).at(
            "response") == json::object{{"output", 42}});
  CHECK(parse_object(build_gemini_tool_response("a", "f", "not {json")).at("toolResponse").at("functionResponses").at(
            0).at("response") == json::object{{"output", "not {json"}});
}
