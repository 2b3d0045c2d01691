// A wrong provider configuration stops the real binary at startup: exit code 2 and one line on
// stderr naming the setting or profile field and what is wrong with it. A right one is named at
// startup, one line per provider in use, real or simulated (docs/configuration.md, "Demo mode").

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <csignal>

#include "tests/integration/support/server_process.hpp"
#include "tests/integration/support/temp_dir.hpp"
#include "tests/integration/support/text_files.hpp"

using namespace mb;

namespace {

// The process's exit code and everything it wrote, once it has exited (within a bounded wait).
std::pair<int, std::string> run_to_exit(const std::vector<std::string>& env, const test::temp_dir& dir) {
  const auto log = dir.file("mediabridge.log");
  test::server_process process(env, log);
  const auto status = process.wait_exit(std::chrono::seconds(20));
  REQUIRE(status);
  REQUIRE(WIFEXITED(*status));
  return {WEXITSTATUS(*status), test::read_file(log)};
}

// The process with a loopback listener, no history and `settings` (NAME=value), run to its exit.
std::pair<int, std::string> run_with(const std::vector<std::string>& settings, const test::temp_dir& dir) {
  std::vector<std::string> env{"LISTEN_HOST=127.0.0.1", "PORT=" + std::to_string(test::free_port()),
                               "DATABASE_PATH=:memory:"};
  env.insert(env.end(), settings.begin(), settings.end());
  return run_to_exit(env, dir);
}

}  // namespace

TEST_CASE("startup refuses an unknown provider in PROVIDER or in an agent profile", "[integration][startup]") {
  test::temp_dir dir;
  SECTION("PROVIDER") {
    const auto [code, output] = run_with({"PROVIDER=bogus"}, dir);
    CHECK(code == 2);
    CHECK(output == "mediabridge: PROVIDER: \"bogus\" is not a provider (openai-realtime, openai-live, "
                    "azure-realtime, azure-live, gemini)\n");
  }
  SECTION("OPENAI_LIVE_URL with a query") {
    const auto [code, output] =
        run_with({"OPENAI_LIVE_URL=wss://api.openai.com/v1/live/sessions?model=gpt-live-1"}, dir);
    CHECK(code == 2);
    CHECK(output.starts_with("mediabridge: OPENAI_LIVE_URL: "));
    CHECK(output.find("must not have a query") != std::string::npos);
  }
  SECTION("an agent profile") {
    const auto agents = dir.write("agents.json", R"({"agents": {"es": {"provider": "watson"}}})");
    const auto [code, output] = run_with({"AGENTS_FILE=" + agents}, dir);
    CHECK(code == 2);
    CHECK(output.find("mediabridge: agent profiles: " + agents +
                      ": agents.es.provider: expected one of openai-realtime, openai-live, azure-realtime, "
                      "azure-live, gemini\n") != std::string::npos);
  }
}

TEST_CASE("startup refuses Azure settings that cannot reach Azure, naming no credential", "[integration][startup]") {
  test::temp_dir dir;
  const std::string key = "azure-key-DO-NOT-LEAK";
  SECTION("a key without the endpoint") {
    const auto [code, output] = run_with({"PROVIDER=azure-realtime", "AZURE_OPENAI_API_KEY=" + key}, dir);
    CHECK(code == 2);
    CHECK(output == "mediabridge: AZURE_OPENAI_ENDPOINT: must be set when AZURE_OPENAI_API_KEY or "
                    "AZURE_OPENAI_AD_TOKEN is (https://<resource>.openai.azure.com)\n");
  }
  SECTION("a key and an endpoint, but no deployment") {
    const auto [code, output] = run_with({"PROVIDER=azure-realtime", "AZURE_OPENAI_API_KEY=" + key,
                                          "AZURE_OPENAI_ENDPOINT=https://res.openai.azure.com"},
                                         dir);
    CHECK(code == 2);
    CHECK(output.find("mediabridge: AZURE_OPENAI_DEPLOYMENT: must be set: agent profile 'default' uses "
                      "azure-realtime and names no deployment (\"model\")\n") != std::string::npos);
    CHECK(output.find(key) == std::string::npos);
  }
}

TEST_CASE("startup names each provider in use: where it connects, or that the simulator serves it",
          "[integration][startup]") {
  test::temp_dir dir;
  const std::string key = "sk-openai-DO-NOT-LEAK";
  const auto agents = dir.write("agents.json", R"({"agents": {"de": {"provider": "gemini"},
                                                              "az": {"provider": "azure-live", "model": "live-dep"}}})");
  const auto port = test::free_port();
  const auto log = dir.file("mediabridge.log");
  {
    test::server_process process({"LISTEN_HOST=127.0.0.1", "PORT=" + std::to_string(port), "DATABASE_PATH=:memory:",
                                  "OPENAI_API_KEY=" + key, "AGENTS_FILE=" + agents},
                                 log);
    REQUIRE(test::wait_healthy(port, std::chrono::seconds(20)));
    process.signal(SIGTERM);
    REQUIRE(process.wait_exit(std::chrono::seconds(20)));
  }
  const auto output = test::read_file(log);
  CHECK(output.find("upstream openai-realtime: wss://api.openai.com/v1/realtime, model gpt-realtime, OPENAI_API_KEY") !=
        std::string::npos);
  CHECK(output.find("upstream azure-live: SIMULATED by the built-in simulator (set AZURE_OPENAI_ENDPOINT") !=
        std::string::npos);
  CHECK(output.find("upstream gemini: SIMULATED by the built-in simulator (set GEMINI_API_KEY") != std::string::npos);
  CHECK(output.find("*    gemini: set GEMINI_API_KEY to reach it") != std::string::npos);
  CHECK(output.find("openai-live") == std::string::npos);  // not in use: not mentioned
  CHECK(output.find(key) == std::string::npos);
}

TEST_CASE("startup refuses SIP mode it cannot serve, and a webhook secret that is not whsec_", "[integration][sip]") {
  test::temp_dir dir;
  SECTION("no OPENAI_SIP_URI for a real provider") {
    const auto [code, output] = run_with({"CALL_MODE=sip", "OPENAI_API_KEY=sk-x"}, dir);
    CHECK(code == 2);
    CHECK(output.find("mediabridge: OPENAI_SIP_URI: required by agent profile 'default' (SIP mode)\n") !=
          std::string::npos);
  }
  SECTION("a provider without SIP") {
    const auto [code, output] = run_with({"CALL_MODE=sip", "PROVIDER=gemini"}, dir);
    CHECK(code == 2);
    CHECK(output.find("CALL_MODE: SIP mode needs provider openai-realtime or openai-live, not gemini") !=
          std::string::npos);
  }
  SECTION("a malformed secret, not shown") {
    const auto [code, output] = run_with({"OPENAI_WEBHOOK_SECRET=whsec_DO-NOT-LEAK*"}, dir);
    CHECK(code == 2);
    CHECK(output.starts_with("mediabridge: OPENAI_WEBHOOK_SECRET: expected whsec_"));
    CHECK(output.find("DO-NOT-LEAK") == std::string::npos);
  }
}
