#pragma once
// A real binary as a child process: mediabridge (for signal handling and shutdown tests), or a
// command-line tool whose exit code is under test (mediabridge-call).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <vector>

namespace mb::test {

// A port the kernel just handed out and took back: free unless another process grabs it at once.
std::uint16_t free_port();

class server_process {
 public:
  // Starts MB_MEDIABRIDGE_BINARY with exactly `env` as its environment; stdout and stderr go to log_path.
  // `open_file_limit` sets its RLIMIT_NOFILE (soft and hard) from the start.
  server_process(const std::vector<std::string>& env, const std::string& log_path,
                 std::optional<std::uint64_t> open_file_limit = std::nullopt);
  // Starts `binary` with `args` and exactly `env`; stdout goes to log_path, stderr too.
  server_process(const std::string& binary, const std::vector<std::string>& args, const std::vector<std::string>& env,
                 const std::string& log_path, std::optional<std::uint64_t> open_file_limit = std::nullopt);
  ~server_process();  // SIGKILL if still running
  void signal(int signo) const;
  [[nodiscard]] pid_t pid() const { return pid_; }
  // The wait status once the process has exited within `timeout`.
  std::optional<int> wait_exit(std::chrono::seconds timeout);

 private:
  pid_t pid_ = 0;
  std::future<int> exit_;
};

// Polls /healthz until it answers 200 (process start-up has no event to wait on), bounded by timeout.
bool wait_healthy(std::uint16_t port, std::chrono::seconds timeout);

}  // namespace mb::test
