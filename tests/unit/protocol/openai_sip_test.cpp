#include "protocol/openai_sip.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

namespace proto = mb::protocol;
using proto::sip_runtime;

namespace {

std::optional<proto::sip_webhook_event> parse(std::string_view body, std::string& error) {
  error.clear();
  return proto::parse_sip_webhook(body, error);
}

boost::json::object parse_object(std::string_view body) { return boost::json::parse(body).as_object(); }

const boost::json::value* at_path(const boost::json::object& root, std::initializer_list<std::string_view> path) {
  const boost::json::value* value = nullptr;
  const boost::json::object* object = &root;
  for (auto key : path) {
    if (!object) return nullptr;
    value = object->if_contains(key);
    if (!value) return nullptr;
    object = value->if_object();
  }
  return value;
}

proto::session_config sample_session() {
  proto::session_config config;
  config.instructions = "Be brief.";
  config.voice = "marin";
  config.model = "gpt-live-1";
  config.transcription_model = "gpt-4o-mini-transcribe";
  config.tools.push_back({"end_call", "Hang up.", R"({"type":"object","properties":{}})"});
  return config;
}

}  // namespace

TEST_CASE("realtime.call.incoming gives the call id and SIP headers", "[protocol][sip]") {
  std::string error;
  const auto event = parse(
      R"({"object":"event","id":"evt_1","type":"realtime.call.incoming","created_at":1750287018,
          "data":{"call_id":"rtc_abc-1","sip_headers":[{"name":"From","value":"<sip:+15550001111@pstn>;tag=1"},
                                                      {"name":"To","value":"sip:+15550002222@sip.api.openai.com"},
                                                      {"name":"X-Mb-Agent","value":"sales"}]}})",
      error);
  REQUIRE(event);
  CHECK(error.empty());
  CHECK(event->type == "realtime.call.incoming");
  REQUIRE(event->incoming);
  CHECK(event->incoming->event_id == "evt_1");
  CHECK(event->incoming->event_type == "realtime.call.incoming");
  CHECK(event->incoming->runtime == sip_runtime::realtime);
  CHECK(event->incoming->call_id == "rtc_abc-1");
  REQUIRE(event->incoming->sip_headers.size() == 3);
  CHECK(event->incoming->sip_headers[2].name == "X-Mb-Agent");
  CHECK(proto::sip_header_value(event->incoming->sip_headers, "x-mb-agent") == "sales");
}

TEST_CASE("live.transport.incoming of type sip gives the session id", "[protocol][sip]") {
  std::string error;
  const auto event = parse(R"({"object":"event","id":"evt_2","type":"live.transport.incoming","created_at":1,
                               "data":{"type":"sip","session_id":"live_123","sip_headers":[{"name":"From","value":"sip:+1@h"}]}})",
                           error);
  REQUIRE(event);
  REQUIRE(event->incoming);
  CHECK(event->incoming->runtime == sip_runtime::live);
  CHECK(event->incoming->call_id == "live_123");
  CHECK(event->incoming->event_type == "live.transport.incoming");
  CHECK(event->incoming->sip_headers.size() == 1);
}

TEST_CASE("live.transport.incoming of another transport is not a call", "[protocol][sip]") {
  std::string error;
  const auto event = parse(R"({"object":"event","id":"evt_2","type":"live.transport.incoming",
                               "data":{"type":"webrtc","session_id":"live_123"}})",
                           error);
  REQUIRE(event);
  CHECK(event->type == "live.transport.incoming");
  CHECK_FALSE(event->incoming);
}

TEST_CASE("the deprecated live.call.incoming is read with session_id or call_id", "[protocol][sip]") {
  std::string error;
  auto event = parse(R"({"object":"event","id":"evt_3","type":"live.call.incoming",
                         "data":{"session_id":"live_9","sip_headers":[]}})",
                     error);
  REQUIRE(event);
  REQUIRE(event->incoming);
  CHECK(event->incoming->runtime == sip_runtime::live);
  CHECK(event->incoming->call_id == "live_9");
  CHECK(event->incoming->sip_headers.empty());

  event = parse(R"({"object":"event","id":"evt_4","type":"live.call.incoming","data":{"call_id":"rtc_7"}})", error);
  REQUIRE(event);
  REQUIRE(event->incoming);
  CHECK(event->incoming->call_id == "rtc_7");
  CHECK(event->incoming->event_type == "live.call.incoming");
}

TEST_CASE("other event types are acknowledged without a call", "[protocol][sip]") {
  std::string error;
  const auto event = parse(
      R"({"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", "created_at": 1750861210, "type": "response.completed", "data": {"id": "resp_123"}})",
      error);
  REQUIRE(event);
  CHECK(event->type == "response.completed");
  CHECK_FALSE(event->incoming);
  // A realtime.call_id field on another type is not read as a call.
  const auto other = parse(R"({"object":"event","id":"e","type":"realtime.call.ended","data":{"call_id":"rtc_1"}})", error);
  REQUIRE(other);
  CHECK_FALSE(other->incoming);
}

TEST_CASE("malformed webhooks are refused with a short error without body text", "[protocol][sip]") {
  const std::string secret_marker = "SECRETBODYTEXT";
  struct bad_case {
    std::string body;
    std::string_view error_part;
  };
  const std::vector<bad_case> cases{
      {"not json " + secret_marker, "not JSON"},
      {R"(["array"])", "not a JSON object"},
      {R"({"object":"list","type":"realtime.call.incoming"})", "not an event"},
      {R"({"object":"event","id":"e"})", "type"},
      {R"({"object":"event","id":"e","type":""})", "type"},
      {R"({"object":"event","id":"e","type":"realtime.call.incoming"})", "data"},
      {R"({"object":"event","id":"e","type":"realtime.call.incoming","data":[]})", "data"},
      {R"({"object":"event","type":"realtime.call.incoming","data":{"call_id":"rtc_1"}})", "id"},
      {R"({"object":"event","id":"e","type":"realtime.call.incoming","data":{}})", "call_id is missing"},
      {R"({"object":"event","id":"e","type":"live.transport.incoming","data":{"type":"sip"}})", "session_id is missing"},
      {R"({"object":"event","id":"e","type":"realtime.call.incoming","data":{"call_id":"../)" + secret_marker + R"("}})",
       "call id"},
      {R"({"object":"event","id":"e","type":"realtime.call.incoming","data":{"call_id":""}})", "call id"},
      {R"({"object":"event","id":"e","type":"realtime.call.incoming","data":{"call_id":"rtc_1","sip_headers":{}}})",
       "not an array"},
      {R"({"object":"event","id":"e","type":"realtime.call.incoming","data":{"call_id":"rtc_1","sip_headers":[{"name":"From"}]}})",
       "without a name and value"},
      {R"({"object":"event","id":"e","type":"realtime.call.incoming","data":{"call_id":"rtc_1","sip_headers":[{"name":"From","value":7}]}})",
       "without a name and value"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body);
    std::string error;
    CHECK_FALSE(parse(c.body, error));
    CHECK(error.find(c.error_part) != std::string::npos);
    CHECK(error.find(secret_marker) == std::string::npos);
    CHECK(error.size() < 100);
  }
}

TEST_CASE("webhook bounds: body size, header count and header size", "[protocol][sip]") {
  std::string error;
  const std::string prefix = R"({"object":"event","id":"e","type":"realtime.call.incoming","data":{"call_id":"rtc_1","sip_headers":[)";
  const auto with_headers = [&](std::size_t count, std::size_t name_bytes, std::size_t value_bytes) {
    std::string body = prefix;
    for (std::size_t i = 0; i < count; ++i) {
      if (i) body += ",";
      body += R"({"name":")" + std::string(name_bytes, 'N') + R"(","value":")" + std::string(value_bytes, 'v') + R"("})";
    }
    return body + "]}}";
  };
  CHECK(parse(with_headers(proto::max_sip_headers, 8, 8), error));
  CHECK_FALSE(parse(with_headers(proto::max_sip_headers + 1, 8, 8), error));
  CHECK(error.find("more than 64") != std::string::npos);

  CHECK(parse(with_headers(1, proto::max_sip_header_bytes, proto::max_sip_header_bytes), error));
  CHECK_FALSE(parse(with_headers(1, proto::max_sip_header_bytes + 1, 8), error));
  CHECK(error.find("over 2048 bytes") != std::string::npos);
  CHECK_FALSE(parse(with_headers(1, 8, proto::max_sip_header_bytes + 1), error));

  const std::string padded = R"({"object":"event","id":"e","type":"other","data":{"pad":")" +
                             std::string(proto::max_sip_webhook_bytes, 'x') + R"("}})";
  CHECK_FALSE(parse(padded, error));
  CHECK(error.find("bytes") != std::string::npos);

  CHECK(proto::valid_sip_call_id(std::string(128, 'a')));
  CHECK_FALSE(proto::valid_sip_call_id(std::string(129, 'a')));
  CHECK_FALSE(proto::valid_sip_call_id("rtc/1"));
  CHECK_FALSE(proto::valid_sip_call_id("rtc 1"));
  CHECK_FALSE(proto::valid_sip_call_id(""));
}

TEST_CASE("sip_header_value is case-insensitive and takes the first", "[protocol][sip]") {
  const std::vector<proto::sip_header> headers{{"From", "a"}, {"X-MB-TOKEN", "t1"}, {"x-mb-token", "t2"}};
  CHECK(proto::sip_header_value(headers, proto::sip_token_header) == "t1");
  CHECK(proto::sip_header_value(headers, "from") == "a");
  CHECK(proto::sip_header_value(headers, "To").empty());
  CHECK(proto::sip_header_value(headers, "Fro").empty());
}

TEST_CASE("sip_user_of reads the user of a From or To value", "[protocol][sip]") {
  CHECK(proto::sip_user_of("<sip:+15551230000@host>;tag=x") == "+15551230000");
  CHECK(proto::sip_user_of("sip:+15551230000@host") == "+15551230000");
  CHECK(proto::sip_user_of("sip:+15551230000@host;transport=tls") == "+15551230000");
  CHECK(proto::sip_user_of("SIPS:alice@host") == "alice");
  CHECK(proto::sip_user_of("tel:+15551230000") == "+15551230000");
  CHECK(proto::sip_user_of("<tel:+15551230000;phone-context=x>") == "+15551230000");
  CHECK(proto::sip_user_of("\"Ann\" <sip:ann@h>") == "ann");
  CHECK(proto::sip_user_of("\"A <b> \\\" c\" <sip:ann@h>;tag=1") == "ann");
  CHECK(proto::sip_user_of("Ann <sip:ann:secret@h>") == "ann");
  CHECK(proto::sip_user_of("  <sip:+1555;npdi@h>  ") == "+1555");
  CHECK(proto::sip_user_of("sip:host.only").empty());
  CHECK(proto::sip_user_of("<sip:ann@h").empty());
  CHECK(proto::sip_user_of("\"unterminated <sip:ann@h>").empty());
  CHECK(proto::sip_user_of("mailto:ann@h").empty());
  CHECK(proto::sip_user_of("").empty());
  CHECK(proto::sip_user_of("sip:a b@h").empty());
  CHECK(proto::sip_user_of("sip:" + std::string(proto::max_sip_header_bytes, '1') + "@h").empty());
}

TEST_CASE("the Realtime accept is a session object without an audio format", "[protocol][sip]") {
  const auto request = proto::accept_request(sip_runtime::realtime, "rtc_1", sample_session(), "gpt-realtime");
  CHECK(request.path == "/v1/realtime/calls/rtc_1/accept");
  const auto body = parse_object(request.body);
  CHECK(body.at("type") == "realtime");
  CHECK(body.at("model") == "gpt-realtime");
  CHECK(body.at("instructions") == "Be brief.");
  CHECK(at_path(body, {"audio", "output", "voice"})->as_string() == "marin");
  CHECK(at_path(body, {"audio", "input", "transcription", "model"})->as_string() == "gpt-4o-mini-transcribe");
  CHECK(at_path(body, {"audio", "input", "turn_detection", "type"})->as_string() == "server_vad");
  CHECK_FALSE(at_path(body, {"audio", "input", "format"}));
  CHECK_FALSE(at_path(body, {"audio", "output", "format"}));
  REQUIRE(body.at("tools").as_array().size() == 1);
  CHECK(body.at("tools").as_array()[0].at("name") == "end_call");
  CHECK_FALSE(body.contains("event_id"));
}

TEST_CASE("the GPT-Live accept wraps a live session with its Responses delegation", "[protocol][sip]") {
  const auto request = proto::accept_request(sip_runtime::live, "live_1", sample_session(), "gpt-live-1");
  CHECK(request.path == "/v1/live/sessions/live_1/accept");
  const auto body = parse_object(request.body);
  REQUIRE(body.size() == 1);
  const auto& session = body.at("session").as_object();
  CHECK(session.at("type") == "live");
  CHECK(session.at("model") == "gpt-live-1");
  CHECK(session.at("instructions").as_string().starts_with("Be brief."));
  CHECK(at_path(session, {"audio", "output", "voice"})->as_string() == "marin");
  CHECK_FALSE(at_path(session, {"audio", "format"}));
  CHECK(at_path(session, {"delegation", "type"})->as_string() == "responses");
  const auto* tools = at_path(session, {"delegation", "responses", "tools"});
  REQUIRE(tools);
  REQUIRE(tools->as_array().size() == 1);
  CHECK(tools->as_array()[0].at("name") == "end_call");
  CHECK_FALSE(session.contains("input"));

  auto quiet = sample_session();
  quiet.voice.clear();
  quiet.tools.clear();
  const auto plain = parse_object(proto::accept_request(sip_runtime::live, "live_1", quiet, "").body);
  CHECK(plain.at("session").at("model") == "gpt-live-1");  // the session's own model when none is given
  CHECK_FALSE(plain.at("session").as_object().contains("audio"));
  CHECK_FALSE(plain.at("session").as_object().contains("delegation"));
}

TEST_CASE("reject, refer and hangup requests", "[protocol][sip]") {
  auto request = proto::reject_request(sip_runtime::realtime, "rtc_1", 486);
  CHECK(request.path == "/v1/realtime/calls/rtc_1/reject");
  CHECK(parse_object(request.body).at("status_code") == 486);
  request = proto::reject_request(sip_runtime::live, "live_1", 603);
  CHECK(request.path == "/v1/live/sessions/live_1/reject");
  CHECK(parse_object(request.body).at("status_code") == 603);
  CHECK(proto::reject_request(sip_runtime::live, "live_1", 299).path.empty());
  CHECK(proto::reject_request(sip_runtime::live, "live_1", 700).path.empty());
  CHECK(proto::reject_request(sip_runtime::live, "live_1", 300).path == "/v1/live/sessions/live_1/reject");

  request = proto::refer_request(sip_runtime::realtime, "rtc_1", "tel:+14155550123");
  CHECK(request.path == "/v1/realtime/calls/rtc_1/refer");
  CHECK(parse_object(request.body).at("target_uri") == "tel:+14155550123");
  request = proto::refer_request(sip_runtime::live, "live_1", "sip:desk@example.com");
  CHECK(request.path == "/v1/live/sessions/live_1/refer");
  CHECK(parse_object(request.body).at("target_uri") == "sip:desk@example.com");
  CHECK(proto::refer_request(sip_runtime::live, "live_1", "").path.empty());
  CHECK(proto::refer_request(sip_runtime::live, "live_1", "https://x").path.empty());
  CHECK(proto::refer_request(sip_runtime::live, "live_1", "tel:+1 555").path.empty());
  CHECK(proto::refer_request(sip_runtime::live, "live_1", "tel:").path.empty());

  request = proto::hangup_request(sip_runtime::realtime, "rtc_1");
  CHECK(request.path == "/v1/realtime/calls/rtc_1/hangup");
  CHECK(request.body.empty());
  CHECK(proto::hangup_request(sip_runtime::live, "live_1").path == "/v1/live/sessions/live_1/hangup");
}

TEST_CASE("no request is built for an invalid call id", "[protocol][sip]") {
  for (const std::string_view id : {"", "../admin", "rtc_1?x=1", "rtc_1/accept"}) {
    CAPTURE(id);
    CHECK(proto::accept_request(sip_runtime::realtime, id, sample_session(), "m").path.empty());
    CHECK(proto::accept_request(sip_runtime::live, id, sample_session(), "m").body.empty());
    CHECK(proto::reject_request(sip_runtime::realtime, id, 486).path.empty());
    CHECK(proto::refer_request(sip_runtime::realtime, id, "tel:+1555").path.empty());
    CHECK(proto::hangup_request(sip_runtime::live, id).path.empty());
    CHECK(proto::sideband_url(sip_runtime::realtime, "wss://api.openai.com/v1/realtime", id).empty());
  }
}

TEST_CASE("the control base and the sideband URL derive from the provider URL", "[protocol][sip]") {
  CHECK(proto::sip_control_base("wss://api.openai.com/v1/realtime?model=x") == "https://api.openai.com");
  CHECK(proto::sip_control_base("ws://127.0.0.1:8081/v1/live/sessions") == "http://127.0.0.1:8081");
  CHECK(proto::sip_control_base("wss://[::1]:9000/v1/realtime") == "https://[::1]:9000");
  CHECK_FALSE(proto::sip_control_base("https://api.openai.com/v1/realtime"));
  CHECK_FALSE(proto::sip_control_base("not a url"));
  CHECK_FALSE(proto::sip_control_base("wss:///v1/realtime"));

  CHECK(proto::sideband_url(sip_runtime::realtime, "wss://api.openai.com/v1/realtime?model=gpt-realtime", "rtc_1") ==
        "wss://api.openai.com/v1/realtime?call_id=rtc_1");
  CHECK(proto::sideband_url(sip_runtime::realtime, "ws://127.0.0.1:8081/v1/realtime", "rtc_1") ==
        "ws://127.0.0.1:8081/v1/realtime?call_id=rtc_1");
  CHECK(proto::sideband_url(sip_runtime::live, "wss://api.openai.com/v1/live/sessions", "live_1") ==
        "wss://api.openai.com/v1/live/sessions/live_1/attach");
  CHECK(proto::sideband_url(sip_runtime::live, "ws://127.0.0.1:8081/v1/live/sessions/?x=1", "live_1") ==
        "ws://127.0.0.1:8081/v1/live/sessions/live_1/attach");
  CHECK(proto::sideband_url(sip_runtime::live, "wss://res.openai.azure.com/openai/v1/live", "live_1") ==
        "wss://res.openai.azure.com/openai/v1/live/sessions/live_1/attach");
  CHECK(proto::sideband_url(sip_runtime::live, "https://api.openai.com/v1/live/sessions", "live_1").empty());
}

TEST_CASE("which failed accepts are retried", "[protocol][sip]") {
  const std::string not_found = R"({"error":{"message":"Call not found","type":"invalid_request_error","code":"call_id_not_found"}})";
  const std::string other_404 = R"({"error":{"message":"No such model","type":"invalid_request_error","code":"model_not_found"}})";
  CHECK(proto::accept_retryable(404, not_found));
  CHECK(proto::accept_retryable(404, ""));
  CHECK(proto::accept_retryable(404, "<html>not found</html>"));
  CHECK_FALSE(proto::accept_retryable(404, other_404));
  CHECK(proto::accept_retryable(0, ""));
  CHECK(proto::accept_retryable(408, ""));
  CHECK(proto::accept_retryable(429, ""));
  CHECK(proto::accept_retryable(500, ""));
  CHECK(proto::accept_retryable(503, ""));
  for (int status : {400, 401, 403, 409, 422})
    CHECK_FALSE(proto::accept_retryable(status, not_found));

  const proto::retry_policy policy{3, 250, 2000};
  proto::rest_attempt attempt{404, true, not_found, "", 0};
  CHECK(proto::decide_accept_retry(policy, attempt, 1).delay_ms == 250);
  CHECK(proto::decide_accept_retry(policy, attempt, 2).delay_ms == 500);
  CHECK(proto::decide_accept_retry(policy, attempt, 3).delay_ms == 1000);
  CHECK_FALSE(proto::decide_accept_retry(policy, attempt, 4).retry);
  attempt.retry_after_ms = 1000;
  CHECK(proto::decide_accept_retry(policy, attempt, 1).delay_ms == 1000);
  attempt.retry_after_ms = 60000;
  CHECK(proto::decide_accept_retry(policy, attempt, 1).delay_ms == 2000);
  attempt = {400, true, "{}", "", 0};
  CHECK_FALSE(proto::decide_accept_retry(policy, attempt, 1).retry);
  attempt = {200, true, "", "", 0};
  CHECK_FALSE(proto::decide_accept_retry(policy, attempt, 1).retry);
}

TEST_CASE("a control-plane failure is described without the request", "[protocol][sip]") {
  CHECK(proto::describe_sip_control_failure({0, true, "", "read: timeout", 0}) == "read: timeout");
  CHECK(proto::describe_sip_control_failure({0, false, "", "", 0}) == "no response");
  CHECK(proto::describe_sip_control_failure(
            {404, true, R"({"error":{"message":"Call not found","code":"call_id_not_found"}})", "", 0}) ==
        "HTTP 404 (call_id_not_found: Call not found)");
  CHECK(proto::describe_sip_control_failure({502, true, "<html>", "", 0}) == "HTTP 502");
  CHECK(proto::describe_sip_control_failure({400, true, R"({"error":{"message":"bad\nline"}})", "", 0})
            .find('\n') == std::string::npos);
  CHECK(proto::sip_control_error_code(R"({"error":{"code":"call_id_not_found"}})") == "call_id_not_found");
  CHECK(proto::sip_control_error_code(R"({"error":"x"})").empty());
}
