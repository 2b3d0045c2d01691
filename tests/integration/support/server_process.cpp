#include "tests/integration/support/server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <stdexcept>
#include <thread>

#include <boost/asio/ip/tcp.hpp>

#include "net/asio.hpp"
#include "tests/integration/support/raw_stream.hpp"

namespace mb::test {

std::uint16_t free_port() {
  asio::io_context ioc;
  asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

server_process::server_process(const std::vector<std::string>& env, const std::string& log_path)
    : server_process(MB_MEDIABRIDGE_BINARY, {}, env, log_path) {}

server_process::server_process(const std::string& binary, const std::vector<std::string>& args,
                               const std::vector<std::string>& env, const std::string& log_path) {
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::vector<char*> argv{const_cast<char*>(binary.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + binary);
  exit_ = std::async(std::launch::async, [pid = pid_] {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
  });
}

server_process::~server_process() {
  if (exit_.valid() && exit_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    ::kill(pid_, SIGKILL);
    exit_.wait();
  }
}

void server_process::signal(int signo) const { ::kill(pid_, signo); }

std::optional<int> server_process::wait_exit(std::chrono::seconds timeout) {
  if (exit_.wait_for(timeout) != std::future_status::ready) return std::nullopt;
  return exit_.get();
}

bool wait_healthy(std::uint16_t port, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (http("GET", "http://127.0.0.1:" + std::to_string(port) + "/healthz").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling a condition, bounded above
  }
  return false;
}

}  // namespace mb::test
