// A wrong provider configuration stops the real binary at startup: exit code 2 and one line on
// stderr naming the setting or profile field and what is wrong with it.

#include <catch2/catch.hpp>

#include <sys/wait.h>

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

}  // namespace

TEST_CASE("startup refuses an unknown provider in PROVIDER or in an agent profile", "[integration][startup]") {
  test::temp_dir dir;
  const std::vector<std::string> base{"LISTEN_HOST=127.0.0.1", "PORT=" + std::to_string(test::free_port()),
                                      "DATABASE_PATH=:memory:"};
  SECTION("PROVIDER") {
    auto env = base;
    env.push_back("PROVIDER=bogus");
    const auto [code, output] = run_to_exit(env, dir);
    CHECK(code == 2);
    CHECK(output == "mediabridge: PROVIDER: \"bogus\" is not a provider (openai-realtime, openai-live, "
                    "azure-realtime, azure-live, gemini)\n");
  }
  SECTION("OPENAI_LIVE_URL with a query") {
    auto env = base;
    env.push_back("OPENAI_LIVE_URL=wss://api.openai.com/v1/live/sessions?model=gpt-live-1");
    const auto [code, output] = run_to_exit(env, dir);
    CHECK(code == 2);
    CHECK(output.starts_with("mediabridge: OPENAI_LIVE_URL: "));
    CHECK(output.find("must not have a query") != std::string::npos);
  }
  SECTION("an agent profile") {
    const auto agents = dir.write("agents.json", R"({"agents": {"es": {"provider": "watson"}}})");
    auto env = base;
    env.push_back("AGENTS_FILE=" + agents);
    const auto [code, output] = run_to_exit(env, dir);
    CHECK(code == 2);
    CHECK(output.find("mediabridge: agent profiles: " + agents +
                      ": agents.es.provider: expected one of openai-realtime, openai-live, azure-realtime, "
                      "azure-live, gemini\n") != std::string::npos);
  }
}

TEST_CASE("startup refuses Azure settings that cannot reach Azure, naming no credential", "[integration][startup]") {
  test::temp_dir dir;
  const std::string key = "azure-key-DO-NOT-LEAK";
  const std::vector<std::string> base{"LISTEN_HOST=127.0.0.1", "PORT=" + std::to_string(test::free_port()),
                                      "DATABASE_PATH=:memory:", "PROVIDER=azure-realtime",
                                      "AZURE_OPENAI_API_KEY=" + key};
  SECTION("a key without the endpoint") {
    const auto [code, output] = run_to_exit(base, dir);
    CHECK(code == 2);
    CHECK(output == "mediabridge: AZURE_OPENAI_ENDPOINT: must be set when AZURE_OPENAI_API_KEY or "
                    "AZURE_OPENAI_AD_TOKEN is (https://<resource>.openai.azure.com)\n");
  }
  SECTION("a key and an endpoint, but no deployment") {
    auto env = base;
    env.push_back("AZURE_OPENAI_ENDPOINT=https://res.openai.azure.com");
    const auto [code, output] = run_to_exit(env, dir);
    CHECK(code == 2);
    CHECK(output.find("mediabridge: AZURE_OPENAI_DEPLOYMENT: must be set: agent profile 'default' uses "
                      "azure-realtime and names no deployment (\"model\")\n") != std::string::npos);
    CHECK(output.find(key) == std::string::npos);
  }
}
