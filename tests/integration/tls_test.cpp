// Upstream TLS: verification is on, with system CAs plus UPSTREAM_CA_FILE, and checks the host name.

#include <catch2/catch.hpp>

#include <optional>

#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/tls_forwarder.hpp"

using namespace mb;
using tools::twilio::audio_kind;
using tools::twilio::call_outcome;

namespace {

std::uint16_t port_of(const std::string& url) {
  const auto colon = url.rfind(':');
  return static_cast<std::uint16_t>(std::stoi(url.substr(colon + 1, url.find('/', colon) - colon - 1)));
}

struct tls_case {
  std::string ca_file;   // "" = system CAs only
  std::string host;      // host name in the upstream URL
};

call::end_reason run_tls_call(const test::test_pki& pki, const tls_case& c, std::optional<test::tls_forwarder>& forwarder,
                              std::string& played) {
  mb::simulator::simulator_options sim;
  sim.response_ms = 400;
  test::bridge_harness h({.simulator = sim, .tweak = [&](config::settings&, bridge::bridge_context& b) {
                            forwarder.emplace(pki, port_of(b.upstream_url));
                            b.upstream_url = "wss://" + c.host + ":" + std::to_string(forwarder->port()) +
                                             "/v1/realtime?model=gpt-realtime";
                            std::string error;
                            b.tls = net::tls_client_context::create(c.ca_file, error);
                            b.lifecycle.reconnect_attempts = 0;
                          }});
  auto reports = h.run({h.call({{audio_kind::speech, 300}, {audio_kind::silence, 1500}})});
  played = reports.at(0).played_audio;
  REQUIRE(h.events().wait_ended(1));
  return h.events().ended().at(0).second.reason;
}

}  // namespace

TEST_CASE("the upstream TLS certificate is verified against the system CAs, UPSTREAM_CA_FILE and the host name",
          "[integration][tls]") {
  const auto pki = test::make_test_pki();
  std::string played;

  SECTION("refused without the CA") {
    std::optional<test::tls_forwarder> fwd;
    CHECK(run_tls_call(pki, {"", "localhost"}, fwd, played) == call::end_reason::upstream_connect_failed);
    CHECK(played.empty());
  }
  SECTION("accepted with UPSTREAM_CA_FILE") {
    std::optional<test::tls_forwarder> fwd;
    CHECK(run_tls_call(pki, {pki.ca_cert.string(), "localhost"}, fwd, played) ==
          call::end_reason::caller_hung_up);
    CHECK(played == test::assistant_audio(0, 400 * 8));
  }
  SECTION("refused for a wrong host name, even with the CA") {
    std::optional<test::tls_forwarder> fwd;
    CHECK(run_tls_call(pki, {pki.ca_cert.string(), "127.0.0.1"}, fwd, played) ==
          call::end_reason::upstream_connect_failed);
  }
  std::filesystem::remove_all(pki.dir);
}
