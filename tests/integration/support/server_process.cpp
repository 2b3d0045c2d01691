#include "tests/integration/support/server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

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

server_process::server_process(const std::vector<std::string>& env, const std::string& log_path,
                               std::optional<std::uint64_t> open_file_limit)
    : server_process(MB_MEDIABRIDGE_BINARY, {}, env, log_path, open_file_limit) {}

server_process::server_process(const std::string& binary, const std::vector<std::string>& args,
                               const std::vector<std::string>& env, const std::string& log_path,
                               std::optional<std::uint64_t> open_file_limit) {
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::vector<char*> argv{const_cast<char*>(binary.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // posix_spawn cannot set resource limits: fork, and only async-signal-safe calls before exec.
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("cannot fork to start " + binary);
  if (pid_ == 0) {
    if (open_file_limit) {
      const rlimit limit{*open_file_limit, *open_file_limit};
      if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::_exit(126);
    }
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log < 0 || ::dup2(log, 1) < 0 || ::dup2(log, 2) < 0) ::_exit(126);
    ::execve(binary.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
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
