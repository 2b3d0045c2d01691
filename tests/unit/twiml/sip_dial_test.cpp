#include "twiml/sip_dial.hpp"

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

using namespace mb::twiml;

namespace {

std::string sip_text(const std::string& xml) {
  std::istringstream in(xml);
  boost::property_tree::ptree tree;
  boost::property_tree::read_xml(in, tree);
  return tree.get<std::string>("Response.Dial.Sip");
}

constexpr std::string_view base = "sip:proj_abc@sip.api.openai.com;transport=tls";

}  // namespace

TEST_CASE("sip dial: headers become the URI's query, percent-encoded", "[twiml][sip]") {
  const auto dial = make_sip_dial_uri(base, {{"X-Mb-Agent", "sales"},
                                             {"X-Mb-Call-Sid", "CA123"},
                                             {"X-Mb-Var-name", "Ana & Bo=1 100%"},
                                             {"X-Mb-Var-city", "Zürich"}});
  CHECK(dial.left_out.empty());
  CHECK(dial.uri == std::string(base) +
                        "?X-Mb-Agent=sales&X-Mb-Call-Sid=CA123&X-Mb-Var-name=Ana%20%26%20Bo%3D1%20100%25"
                        "&X-Mb-Var-city=Z%C3%BCrich");
  CHECK(make_sip_dial_uri(base, {}).uri == base);
}

TEST_CASE("sip dial: headers past Twilio's bound are left out and named, later short ones still fit",
          "[twiml][sip]") {
  const std::string big(600, 'a');
  const auto dial = make_sip_dial_uri(base, {{"X-Mb-Agent", "sales"},
                                             {"X-Mb-Var-one", big},
                                             {"X-Mb-Var-two", big},
                                             {"X-Mb-Var-three", "c"}});
  CHECK(dial.left_out == std::vector<std::string>{"X-Mb-Var-two"});
  const auto query = dial.uri.substr(dial.uri.find('?') + 1);
  CHECK(query.size() <= max_sip_headers_chars);
  CHECK(query == "X-Mb-Agent=sales&X-Mb-Var-one=" + big + "&X-Mb-Var-three=c");
  // The bound counts encoded characters: a value that fits raw may not once encoded.
  const auto encoded = make_sip_dial_uri(base, {{"X-Mb-Var-a", std::string(400, ' ')}}, 1000);
  CHECK(encoded.left_out == std::vector<std::string>{"X-Mb-Var-a"});
  CHECK(encoded.uri == base);
}

TEST_CASE("sip dial: the TwiML dials the URI, XML-escaped", "[twiml][sip]") {
  const auto uri = make_sip_dial_uri(base, {{"X-Mb-Agent", "a"}, {"X-Mb-Token", "1.x/y+z="}}).uri;
  const auto xml = render_dial_sip("", uri);
  CHECK(xml == R"(<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Sip>)" + std::string(base) +
                   "?X-Mb-Agent=a&amp;X-Mb-Token=1.x%2Fy%2Bz%3D</Sip></Dial></Response>");
  CHECK(sip_text(xml) == uri);
  const auto with_say = render_dial_sip("One moment <please>", uri);
  CHECK(with_say.find("<Say>One moment &lt;please&gt;</Say><Dial><Sip>") != std::string::npos);
  CHECK(sip_text(with_say) == uri);
}
