#include "sip/call_decision.hpp"

#include <catch2/catch.hpp>

using namespace mb::sip;
using mb::agents::agent_catalog;
using mb::agents::agent_profile;
using mb::agents::call_mode;
using mb::protocol::incoming_sip_call;
using mb::protocol::sip_runtime;
using mb::upstream::provider_kind;

namespace {

agent_profile profile(std::string name, call_mode mode, provider_kind provider, std::vector<std::string> numbers = {}) {
  agent_profile p;
  p.name = std::move(name);
  p.mode = mode;
  p.provider = provider;
  p.numbers = std::move(numbers);
  return p;
}

agent_catalog catalog() {
  auto sales = profile("sales", call_mode::sip, provider_kind::openai_realtime, {"+15550001"});
  sales.session.instructions = "Sell {{product}} to {{From}}.";
  sales.greeting = "Hello {{name}}";
  std::string error;
  auto c = agent_catalog::create({profile("default", call_mode::media_stream, provider_kind::openai_realtime),
                                  sales,
                                  profile("live", call_mode::sip, provider_kind::openai_live, {"+15550002"}),
                                  profile("streamed", call_mode::media_stream, provider_kind::openai_realtime,
                                          {"+15550003"})},
                                 "default", error);
  REQUIRE(c);
  return std::move(*c);
}

incoming_sip_call event(sip_runtime runtime, std::vector<mb::protocol::sip_header> extra = {},
                        std::string to = "+15550001") {
  incoming_sip_call call;
  call.runtime = runtime;
  call.call_id = "rtc_abc";
  call.sip_headers = {{"From", "<sip:+15559999@pstn.twilio.com>;tag=1"},
                      {"To", "<sip:" + to + "@sip.api.openai.com>"}};
  for (auto& h : extra) call.sip_headers.push_back(std::move(h));
  return call;
}

std::vector<mb::protocol::sip_header> from_dial(std::string agent) {
  return {{"X-Mb-Agent", std::move(agent)}, {"X-Mb-Call-Sid", "CA42"}, {"X-Mb-Token", "t"}};
}

}  // namespace

TEST_CASE("sip decision: a valid token selects its agent, only that provider's event accepts", "[sip]") {
  const auto c = catalog();
  auto headers = from_dial("sales");
  headers.push_back({"x-mb-var-PRODUCT", "widgets"});  // SIP header names are case-insensitive
  headers.push_back({"X-Mb-Var-unused", "x"});
  headers.push_back({"X-Mb-Var-From", "+1forged"});  // the call's own From wins
  const auto d = decide_call(c, event(sip_runtime::realtime, headers, "+15550002"), token_status::valid, false);
  REQUIRE(d.verdict == call_verdict::accept);
  CHECK(d.profile->name == "sales");  // X-Mb-Agent, not the To number's profile
  CHECK(d.call_sid == "CA42");
  CHECK(d.from == "+15559999");
  CHECK(d.to == "+15550002");
  CHECK(d.variables == mb::agents::variables{{"CallSid", "CA42"}, {"From", "+15559999"}, {"To", "+15550002"},
                                             {"product", "widgets"}});

  const auto other = decide_call(c, event(sip_runtime::live, headers), token_status::valid, false);
  CHECK(other.verdict == call_verdict::ignore);
  CHECK(decide_call(c, event(sip_runtime::live, from_dial("live")), token_status::valid, false).verdict ==
        call_verdict::accept);
  CHECK(decide_call(c, event(sip_runtime::realtime, from_dial("live")), token_status::valid, false).verdict ==
        call_verdict::ignore);
}

TEST_CASE("sip decision: a bad token is refused 403 whatever else the call says", "[sip]") {
  const auto c = catalog();
  for (const auto runtime : {sip_runtime::realtime, sip_runtime::live}) {
    const auto d = decide_call(c, event(runtime, from_dial("sales")), token_status::invalid, false);
    CHECK(d.verdict == call_verdict::reject);
    CHECK(d.reject_status == 403);
    CHECK(d.profile == nullptr);
  }
}

TEST_CASE("sip decision: an agent that is unknown or not in SIP mode is refused 404", "[sip]") {
  const auto c = catalog();
  for (const auto* agent : {"nobody", "streamed", ""}) {
    const auto d = decide_call(c, event(sip_runtime::realtime, from_dial(agent)), token_status::valid, false);
    CHECK(d.verdict == call_verdict::reject);
    CHECK(d.reject_status == 404);
  }
}

TEST_CASE("sip decision: without a token, the SIP-mode profile claiming the number, no variables", "[sip]") {
  const auto c = catalog();
  const auto d = decide_call(c, event(sip_runtime::live, {{"X-Mb-Var-product", "forged"}}, "+15550002"),
                             token_status::absent, false);
  REQUIRE(d.verdict == call_verdict::accept);
  CHECK(d.profile->name == "live");
  CHECK(d.call_sid == "rtc_abc");  // OpenAI's id: no Twilio CallSid to trust
  CHECK(d.variables == mb::agents::variables{{"CallSid", "rtc_abc"}, {"From", "+15559999"}, {"To", "+15550002"}});
  // A Media Streams profile's number, or nobody's: 404, on whichever event comes first.
  for (const auto* to : {"+15550003", "+15550009"}) {
    const auto none = decide_call(c, event(sip_runtime::realtime, {}, to), token_status::absent, false);
    CHECK(none.verdict == call_verdict::reject);
    CHECK(none.reject_status == 404);
  }
}

TEST_CASE("sip decision: draining refuses 503 on the event that would accept", "[sip]") {
  const auto c = catalog();
  const auto d = decide_call(c, event(sip_runtime::realtime, from_dial("sales")), token_status::valid, true);
  CHECK(d.verdict == call_verdict::reject);
  CHECK(d.reject_status == 503);
  CHECK(d.profile->name == "sales");
  CHECK(decide_call(c, event(sip_runtime::live, from_dial("sales")), token_status::valid, true).verdict ==
        call_verdict::ignore);
}

TEST_CASE("sip decision: variable headers are bounded", "[sip]") {
  auto c = catalog();
  std::vector<mb::protocol::sip_header> headers = from_dial("sales");
  for (std::size_t i = 0; i < max_sip_variables; ++i) headers.push_back({"X-Mb-Var-filler" + std::to_string(i), "x"});
  headers.push_back({"X-Mb-Var-product", "late"});
  const auto d = decide_call(c, event(sip_runtime::realtime, headers), token_status::valid, false);
  REQUIRE(d.verdict == call_verdict::accept);
  CHECK(d.variables.size() == 3);  // product came after the bound
}
