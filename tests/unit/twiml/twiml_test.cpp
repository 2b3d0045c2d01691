#include "twiml/twiml.hpp"

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace mb::twiml;
namespace pt = boost::property_tree;

pt::ptree parse_xml(const std::string& xml) {
  std::istringstream in(xml);
  pt::ptree tree;
  pt::read_xml(in, tree);
  return tree;
}

std::string escaped(std::string_view text) {
  std::string out;
  append_xml_escaped(out, text);
  return out;
}

// Property Tree's parser is forgiving about a bare '&' or '<' inside attribute values, so check
// lexically as well: every '&' starts one of the references we emit and no C0 control survives.
bool lexically_clean(const std::string& xml) {
  static const std::vector<std::string_view> references{"&amp;", "&lt;",  "&gt;",   "&quot;",
                                                        "&apos;", "&#9;", "&#10;", "&#13;"};
  for (std::size_t i = 0; i < xml.size(); ++i) {
    if (static_cast<unsigned char>(xml[i]) < 0x20) return false;
    if (xml[i] != '&') continue;
    bool known = false;
    for (auto ref : references) known = known || std::string_view(xml).substr(i, ref.size()) == ref;
    if (!known) return false;
  }
  return true;
}

struct parsed_parameter {
  std::string name;
  std::string value;
  bool operator==(const parsed_parameter&) const = default;
};

std::vector<parsed_parameter> parameters_of(const pt::ptree& tree) {
  std::vector<parsed_parameter> out;
  for (const auto& [tag, child] : tree.get_child("Response.Connect.Stream")) {
    if (tag != "Parameter") continue;
    out.push_back({child.get<std::string>("<xmlattr>.name"), child.get<std::string>("<xmlattr>.value")});
  }
  return out;
}

constexpr std::string_view fffd = "\xEF\xBF\xBD";

}  // namespace

TEST_CASE("twiml: connect document has the documented shape", "[twiml]") {
  const connect_stream stream{"", "wss://bridge.example.com/media", {{"tenant", "acme"}, {"session", "s-123"}}};
  CHECK(render_connect(stream) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://bridge.example.com/media">)"
        R"(<Parameter name="tenant" value="acme"/><Parameter name="session" value="s-123"/>)"
        R"(</Stream></Connect></Response>)");
}

TEST_CASE("twiml: connect with a greeting and no parameters", "[twiml]") {
  const connect_stream stream{"Please hold.", "wss://b.example/m", {}};
  CHECK(render_connect(stream) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Say>Please hold.</Say>)"
        R"(<Connect><Stream url="wss://b.example/m"></Stream></Connect></Response>)");
}

TEST_CASE("twiml: fallback hangs up or dials", "[twiml]") {
  CHECK(render_fallback({}) == R"(<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>)");
  CHECK(render_fallback({"Sorry, we are busy.", ""}) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry, we are busy.</Say><Hangup/></Response>)");
  CHECK(render_fallback({"Transferring.", "+15551234567"}) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Say>Transferring.</Say><Dial>+15551234567</Dial></Response>)");
  CHECK(render_fallback({"", "+15551234567"}) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Dial>+15551234567</Dial></Response>)");
}

TEST_CASE("twiml: markup characters are escaped", "[twiml]") {
  CHECK(escaped(R"(Tom & Jerry's <"show">)") == "Tom &amp; Jerry&apos;s &lt;&quot;show&quot;&gt;");
  CHECK(escaped("&amp;") == "&amp;amp;");  // no double-decoding shortcut: input is text, not markup

  const connect_stream stream{"A < B & C > D", R"(wss://x.example/a"b)", {{"it's", R"(say "hi")"}}};
  const std::string xml = render_connect(stream);
  CHECK(xml.find("<Say>A &lt; B &amp; C &gt; D</Say>") != std::string::npos);
  CHECK(xml.find(R"(url="wss://x.example/a&quot;b")") != std::string::npos);
  CHECK(xml.find(R"(<Parameter name="it&apos;s" value="say &quot;hi&quot;"/>)") != std::string::npos);
  CHECK(lexically_clean(xml));
}

TEST_CASE("twiml: whitespace controls become character references, other controls are dropped", "[twiml]") {
  CHECK(escaped("a\tb\nc\rd") == "a&#9;b&#10;c&#13;d");
  CHECK(escaped(std::string("x\x01y\x1Fz\x00!", 8)) == "xyz!");
  CHECK(escaped("\x7F") == "\x7F");  // DEL is an XML 1.0 Char
  CHECK(escaped("\xC2\x85") == "\xC2\x85");  // so is U+0085 (NEL)
}

TEST_CASE("twiml: well-formed UTF-8 passes through", "[twiml]") {
  CHECK(escaped("Zo\xC3\xAB \xE6\x9D\xB1\xE4\xBA\xAC") == "Zo\xC3\xAB \xE6\x9D\xB1\xE4\xBA\xAC");  // Zoë 東京
  CHECK(escaped("\xF0\x9F\x93\x9E") == "\xF0\x9F\x93\x9E");  // U+1F4DE, 4 bytes
  CHECK(escaped("\xF4\x8F\xBF\xBF") == "\xF4\x8F\xBF\xBF");  // U+10FFFF, the last code point
  CHECK(escaped("\xED\x9F\xBF") == "\xED\x9F\xBF");          // U+D7FF, just below the surrogates
  CHECK(escaped("\xEE\x80\x80") == "\xEE\x80\x80");          // U+E000, just above them
  CHECK(escaped(fffd) == fffd);
}

TEST_CASE("twiml: ill-formed UTF-8 becomes U+FFFD per maximal subpart", "[twiml]") {
  const std::string r{fffd};
  // The example of Unicode 15 Table 3-8 (U+FFFD substitution of maximal subparts).
  CHECK(escaped("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64") ==
        "a" + r + r + r + "b" + r + "c" + r + r + "d");
  CHECK(escaped("\xC3") == r);                         // truncated at the end
  CHECK(escaped("\xE2\x82" "A") == r + "A");           // truncated before ASCII
  CHECK(escaped("\xC0\xAF") == r + r);                 // overlong '/'
  CHECK(escaped("\xE0\x80\xAF") == r + r + r);         // overlong, 3 bytes
  CHECK(escaped("\xED\xA0\x80") == r + r + r);         // UTF-16 surrogate D800
  CHECK(escaped("\xF4\x90\x80\x80") == r + r + r + r); // above U+10FFFF
  CHECK(escaped("\xF5\xFF\xFE") == r + r + r);         // bytes that never occur in UTF-8
  CHECK(escaped("\xF0\x9F\x93<") == r + "&lt;");       // the byte that ends a bad sequence is still escaped
}

TEST_CASE("twiml: U+FFFE and U+FFFF are dropped", "[twiml]") {
  CHECK(escaped("a\xEF\xBF\xBE" "b\xEF\xBF\xBF" "c") == "abc");
  CHECK(escaped("\xEF\xBF\xBC") == "\xEF\xBF\xBC");  // U+FFFC stays
}

TEST_CASE("twiml: empty-after-sanitising text omits the element", "[twiml]") {
  CHECK(render_fallback({"\x01\x02", "\x03"}) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>)");
  CHECK(render_connect({"\x07", "wss://b.example/m", {}}).find("<Say>") == std::string::npos);
}

TEST_CASE("twiml: connect output parses as XML and round-trips the values", "[twiml]") {
  const connect_stream stream{
      "Hello Zo\xC3\xAB \xE6\x9D\xB1\xE4\xBA\xAC & \"friends\" <it's>\n",
      "wss://bridge.example.com/media-stream",
      {
          {"tenant", "acme & sons"},
          {"quote", R"(she said "hi" & 'bye')"},
          {"angle", "<Parameter name=\"x\"/>"},
          {"unicode", "Zo\xC3\xAB \xE6\x9D\xB1\xE4\xBA\xAC"},
          {"whitespace", "tab\there\nline\rcr  two  spaces"},
          {"controls", "a\x01" "b\x1B" "c"},
          {"broken", "ok\xFF" "end\xE2\x82"},
          {"empty", ""},
      }};
  const std::string xml = render_connect(stream);
  CHECK(lexically_clean(xml));

  const pt::ptree tree = parse_xml(xml);
  CHECK(tree.get<std::string>("Response.Say") == "Hello Zo\xC3\xAB \xE6\x9D\xB1\xE4\xBA\xAC & \"friends\" <it's>\n");
  CHECK(tree.get<std::string>("Response.Connect.Stream.<xmlattr>.url") == stream.stream_url);
  const std::string r{fffd};
  const std::vector<parsed_parameter> expected{
      {"tenant", "acme & sons"},
      {"quote", R"(she said "hi" & 'bye')"},
      {"angle", "<Parameter name=\"x\"/>"},
      {"unicode", "Zo\xC3\xAB \xE6\x9D\xB1\xE4\xBA\xAC"},
      {"whitespace", "tab\there\nline\rcr  two  spaces"},
      {"controls", "abc"},
      {"broken", "ok" + r + "end" + r},
      {"empty", ""},
  };
  CHECK(parameters_of(tree) == expected);
}

TEST_CASE("twiml: fallback output parses as XML and round-trips the values", "[twiml]") {
  const fallback call{"We're closed <today> & \"tomorrow\"", "+1 (555) 123-4567"};
  const std::string xml = render_fallback(call);
  CHECK(lexically_clean(xml));
  const pt::ptree tree = parse_xml(xml);
  CHECK(tree.get<std::string>("Response.Say") == call.say);
  CHECK(tree.get<std::string>("Response.Dial") == call.dial_number);
  CHECK_FALSE(tree.get_child("Response").count("Hangup"));

  const pt::ptree hangup = parse_xml(render_fallback({"Goodbye.", ""}));
  CHECK(hangup.get_child("Response").count("Hangup") == 1);
  CHECK_FALSE(hangup.get_child("Response").count("Dial"));
}

TEST_CASE("twiml: a transfer dials a number, with an announcement and caller ID when given", "[twiml]") {
  CHECK(render_transfer({"", "+15551230000", ""}) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Dial>+15551230000</Dial></Response>)");
  CHECK(render_transfer({"Connecting you to sales.", "+15551230000", "+15559870000"}) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Say>Connecting you to sales.</Say>)"
        R"(<Dial callerId="+15559870000">+15551230000</Dial></Response>)");
}

TEST_CASE("twiml: a transfer to a SIP URI dials it as <Sip>", "[twiml]") {
  CHECK(render_transfer({"", "sip:desk@pbx.example.com;transport=tls", ""}) ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Sip>sip:desk@pbx.example.com;transport=tls</Sip>)"
        R"(</Dial></Response>)");
}

TEST_CASE("twiml: every value of a transfer is escaped", "[twiml]") {
  const std::string xml = render_transfer({"Tom & <Jerry>\x01", "sip:a@b.example?x=<y>&z", "\"+1555\""});
  CHECK(xml.find("<Say>Tom &amp; &lt;Jerry&gt;</Say>") != std::string::npos);
  CHECK(xml.find(R"(callerId="&quot;+1555&quot;")") != std::string::npos);
  CHECK(xml.find("<Sip>sip:a@b.example?x=&lt;y&gt;&amp;z</Sip>") != std::string::npos);
  CHECK(lexically_clean(xml));
  const auto tree = parse_xml(xml);
  CHECK(tree.get<std::string>("Response.Dial.Sip") == "sip:a@b.example?x=<y>&z");
}
