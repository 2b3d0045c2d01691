#include <catch2/catch.hpp>

#include "tools/twilio_sim/twiml_reader.hpp"

using namespace mb::tools::twilio;

TEST_CASE("twiml reader: <Connect><Stream> with parameters (protocols.md B1)", "[tools][twiml]") {
  const auto doc = read_twiml(R"(<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Connect action="https://app.example.com/after-stream" method="POST">
    <Stream url="wss://bridge.example.com/media" name="agent"
            statusCallback="https://app.example.com/stream-status" statusCallbackMethod="POST">
      <Parameter name="tenant" value="acme"/>
      <Parameter name="session" value="s-123"/>
    </Stream>
  </Connect>
  <Say>Only reached after the bridge closes the WebSocket.</Say>
</Response>)");
  REQUIRE(doc.error.empty());
  CHECK(doc.verbs == std::vector<std::string>{"Connect", "Say"});
  REQUIRE(doc.stream);
  CHECK(doc.stream->url == "wss://bridge.example.com/media");
  CHECK(doc.stream->name == "agent");
  CHECK(doc.stream->parameters == std::vector<stream_parameter>{{"tenant", "acme"}, {"session", "s-123"}});
}

TEST_CASE("twiml reader: entities, quotes, comments and explicit end tags", "[tools][twiml]") {
  const auto doc = read_twiml(
      "\xEF\xBB\xBF<!-- generated --><Response><Connect><Stream url='wss://h.example/m?x=1&amp;y=2'>"
      "<Parameter name=\"q\" value=\"a&lt;b &quot;c&quot; &apos;d&apos; &gt;\"></Parameter>"
      "<Parameter name='u' value='caf&#233; &#x1F600;'/>"
      "<Parameter name='ws' value='a\tb\nc'/>"
      "<Parameter name='empty'/>"
      "</Stream></Connect></Response>\n");
  REQUIRE(doc.error.empty());
  REQUIRE(doc.stream);
  CHECK(doc.stream->url == "wss://h.example/m?x=1&y=2");
  CHECK(doc.stream->parameters == std::vector<stream_parameter>{{"q", "a<b \"c\" 'd' >"},
                                                                {"u", "caf\xC3\xA9 \xF0\x9F\x98\x80"},
                                                                {"ws", "a b c"},
                                                                {"empty", ""}});
}

TEST_CASE("twiml reader: fallback TwiML has no stream", "[tools][twiml]") {
  const auto hangup = read_twiml("<Response><Say>All lines are busy.</Say><Hangup/></Response>");
  REQUIRE(hangup.error.empty());
  CHECK_FALSE(hangup.stream);
  CHECK(hangup.verbs == std::vector<std::string>{"Say", "Hangup"});

  const auto reject = read_twiml(R"(<Response><Reject reason="busy"/></Response>)");
  REQUIRE(reject.error.empty());
  CHECK_FALSE(reject.stream);

  // <Start><Stream> is a unidirectional fork, not the bidirectional stream a bridge needs.
  const auto start = read_twiml(R"(<Response><Start><Stream url="wss://x/y"/></Start><Pause/></Response>)");
  REQUIRE(start.error.empty());
  CHECK_FALSE(start.stream);
}

TEST_CASE("twiml reader: only the first Connect/Stream and its own parameters", "[tools][twiml]") {
  const auto doc = read_twiml(R"(<Response>
    <Connect><Stream url="wss://a/1"><Parameter name="k" value="1"/></Stream>
             <Stream url="wss://a/2"><Parameter name="k" value="2"/></Stream></Connect>
  </Response>)");
  REQUIRE(doc.error.empty());
  REQUIRE(doc.stream);
  CHECK(doc.stream->url == "wss://a/1");
  CHECK(doc.stream->parameters == std::vector<stream_parameter>{{"k", "1"}});
}

TEST_CASE("twiml reader: malformed documents are errors", "[tools][twiml]") {
  for (const char* bad : {
           "",
           "not xml at all",
           "<Html></Html>",
           "<Response><Connect></Response>",
           "<Response><Connect><Stream url=\"wss://x/y\"></Connect></Response>",
           "<Response>",
           "<Response></Response><Response></Response>",
           "<Response><Connect><Stream url=wss://x/></Connect></Response>",
           "<Response><Connect><Stream url=\"wss://x/y></Connect></Response>",
           "<Response><Connect><Stream url=\"a&bogus;b\"/></Connect></Response>",
           "<Response><Connect><Stream url=\"a&#xD800;\"/></Connect></Response>",
           "<Response><Connect><Stream/></Connect></Response>",
           "<Response><Connect><Stream url=\"wss://x/y\"><Parameter value=\"v\"/></Stream></Connect></Response>",
           "<Response><!-- unterminated </Response>",
       }) {
    INFO(bad);
    const auto doc = read_twiml(bad);
    CHECK_FALSE(doc.error.empty());
    CHECK_FALSE(doc.stream);
    CHECK(doc.verbs.empty());
  }
}

TEST_CASE("twiml reader: the URI of <Dial><Sip> (SIP mode)", "[tools][twiml]") {
  const auto doc = read_twiml(R"(<Response><Dial answerOnBridge="true">
    <Sip> sip:proj@127.0.0.1:5061;transport=tls?X-Mb-Agent=support&amp;X-Mb-Var-name=Ada%20L </Sip>
  </Dial></Response>)");
  REQUIRE(doc.error.empty());
  CHECK(doc.verbs == std::vector<std::string>{"Dial"});
  CHECK_FALSE(doc.stream);
  REQUIRE(doc.sip_uri);
  CHECK(*doc.sip_uri == "sip:proj@127.0.0.1:5061;transport=tls?X-Mb-Agent=support&X-Mb-Var-name=Ada%20L");
  CHECK_FALSE(read_twiml("<Response><Dial><Number>+15551230000</Number></Dial></Response>").sip_uri);
  CHECK_FALSE(read_twiml("<Response><Sip>sip:a@b:1</Sip></Response>").sip_uri);  // not inside <Dial>
  CHECK_FALSE(read_twiml("<Response><Dial><Sip/></Dial></Response>").error.empty());
  CHECK_FALSE(read_twiml("<Response><Dial><Sip>  </Sip></Dial></Response>").error.empty());
  CHECK_FALSE(read_twiml("<Response><Dial><Sip>sip:a@b:1<b/></Sip></Dial></Response>").error.empty());
}

TEST_CASE("twiml reader: where a <Sip> URI's simulated endpoint takes the invite", "[tools][twiml]") {
  CHECK(sim_sip_invite_url("sip:proj@127.0.0.1:5061;transport=tls?X-Mb-Agent=a") ==
        "http://127.0.0.1:5061/sim/sip/invite");
  CHECK(sim_sip_invite_url("sips:127.0.0.1:8080") == "http://127.0.0.1:8080/sim/sip/invite");
  CHECK(sim_sip_invite_url("sip:proj@[::1]:9000") == "http://[::1]:9000/sim/sip/invite");
  CHECK_FALSE(sim_sip_invite_url("sip:proj@sip.api.openai.com;transport=tls"));  // a real trunk: no port
  CHECK_FALSE(sim_sip_invite_url("sip:proj@[::1]"));
  CHECK_FALSE(sim_sip_invite_url("sip:proj@host:12a"));
  CHECK_FALSE(sim_sip_invite_url("tel:+15551230000"));
}
