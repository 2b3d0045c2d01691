// simulator/gemini_config.hpp: what the simulated Gemini Live service accepts in setup, the rate of
// an audio MIME type and goAway's duration text (pure).

#include <catch2/catch.hpp>

#include <chrono>

#include <boost/json/parse.hpp>

#include "simulator/gemini_config.hpp"

namespace {

namespace sim = mb::simulator;
namespace json = boost::json;

std::optional<mb::simulator::config_error> parse(std::string_view text, sim::gemini_setup& out) {
  return sim::parse_gemini_setup(json::parse(text), out);
}

}  // namespace

TEST_CASE("gemini config: a full setup is taken with its model, voice, transcription and resumption",
          "[unit][simulator][gemini_config]") {
  sim::gemini_setup s;
  const auto error = parse(R"({"model":"models/gemini-3.8-live",
    "generationConfig":{"responseModalities":["AUDIO"],"speechConfig":{"voiceConfig":{"prebuiltVoiceConfig":{"voiceName":"Kore"}}}},
    "systemInstruction":{"parts":[{"text":"Be brief."}]},"tools":[],"realtimeInputConfig":{"automaticActivityDetection":{}},
    "outputAudioTranscription":{},"contextWindowCompression":{"slidingWindow":{}},
    "sessionResumption":{"handle":"h_conv_1_2","transparent":false}})",
                           s);
  REQUIRE_FALSE(error);
  CHECK(s.model == "gemini-3.8-live");
  CHECK(s.voice == "Kore");
  CHECK_FALSE(s.input_transcription);
  CHECK(s.output_transcription);
  CHECK(s.resumption);
  CHECK(s.resume_handle == "h_conv_1_2");
}

TEST_CASE("gemini config: a setup without audio output, a model or with unknown names is refused and changes nothing",
          "[unit][simulator][gemini_config]") {
  struct bad {
    std::string_view setup;
    std::string_view code;
    std::string_view param;
  };
  const auto c = GENERATE(
      bad{R"({"model":"models/m","generationConfig":{"responseModalities":["TEXT"]}})", "invalid_value",
          "setup.generationConfig.responseModalities"},
      bad{R"({"model":"models/m","generationConfig":{"responseModalities":["AUDIO","TEXT"]}})", "invalid_value",
          "setup.generationConfig.responseModalities"},
      bad{R"({"model":"models/m"})", "missing_required_parameter", "setup.generationConfig.responseModalities"},
      bad{R"({"generationConfig":{"responseModalities":["AUDIO"]}})", "missing_required_parameter", "setup.model"},
      bad{R"({"model":"gemini-3.8-live","generationConfig":{"responseModalities":["AUDIO"]}})", "invalid_value",
          "setup.model"},
      bad{R"({"model":"models/m","generationConfig":{"responseModalities":["AUDIO"]},"config":{}})",
          "unknown_parameter", "setup.config"},
      bad{R"({"model":"models/m","generationConfig":{"responseModalities":["AUDIO"]},"sessionResumption":{"handle":7}})",
          "invalid_type", "setup.sessionResumption.handle"},
      bad{R"({"model":"models/m","generationConfig":{"responseModalities":["AUDIO"]},"inputAudioTranscription":true})",
          "invalid_type", "setup.inputAudioTranscription"});
  INFO(c.setup);
  sim::gemini_setup s;
  s.model = "unchanged";
  const auto error = parse(c.setup, s);
  REQUIRE(error);
  CHECK(error->code == c.code);
  CHECK(error->param == c.param);
  CHECK(s.model == "unchanged");
}

TEST_CASE("gemini config: the rate of an audio/pcm MIME type", "[unit][simulator][gemini_config]") {
  CHECK(sim::pcm_mime_rate("audio/pcm;rate=16000") == 16000u);
  CHECK(sim::pcm_mime_rate("audio/pcm; rate=24000") == 24000u);
  CHECK_FALSE(sim::pcm_mime_rate("audio/pcm"));
  CHECK_FALSE(sim::pcm_mime_rate("audio/pcmu;rate=8000"));
  CHECK_FALSE(sim::pcm_mime_rate("audio/pcm;rate=16k"));
  CHECK_FALSE(sim::pcm_mime_rate("audio/pcm;rate=0"));
  CHECK_FALSE(sim::pcm_mime_rate("audio/pcm;rate=99999999999"));
}

TEST_CASE("gemini config: goAway's timeLeft as a JSON duration", "[unit][simulator][gemini_config]") {
  using std::chrono::milliseconds;
  CHECK(sim::duration_text(milliseconds(2000)) == "2s");
  CHECK(sim::duration_text(milliseconds(500)) == "0.500s");
  CHECK(sim::duration_text(milliseconds(61250)) == "61.250s");
  CHECK(sim::duration_text(milliseconds(7)) == "0.007s");
  CHECK(sim::duration_text(milliseconds(-5)) == "0s");
}
