#include "tools/load_gen/proc_sampler.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

namespace mb::tools::load {
namespace {

// utime and stime are fields 14 and 15 of a stat file; the command (field 2) may contain spaces, so
// fields are counted from its closing parenthesis.
double stat_cpu_seconds(const std::string& path, bool& ok) {
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  ok = paren != std::string::npos && paren + 2 < text.size();
  if (!ok) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  ok = static_cast<bool>(fields);
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

struct thread_roles {
  std::mutex mutex;
  std::vector<std::pair<pid_t, std::string>> threads;
};
thread_roles& roles() {
  static thread_roles r;
  return r;
}

}  // namespace

cpu_rss read_process(pid_t pid) {
  const std::string base = pid == 0 ? "/proc/self" : "/proc/" + std::to_string(pid);
  cpu_rss r;
  r.cpu_s = stat_cpu_seconds(base + "/stat", r.ok);
  std::ifstream statm(base + "/statm");
  std::uint64_t size = 0, resident = 0;
  if (statm >> size >> resident) r.rss_bytes = resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  else r.ok = false;
  return r;
}

double read_thread_cpu(pid_t tid) {
  bool ok = false;
  return stat_cpu_seconds("/proc/self/task/" + std::to_string(tid) + "/stat", ok);
}

void register_current_thread(const std::string& role) {
  auto& r = roles();
  std::lock_guard lock(r.mutex);
  r.threads.emplace_back(static_cast<pid_t>(::syscall(SYS_gettid)), role);
}

proc_sampler::proc_sampler(pid_t bridge_pid, std::chrono::milliseconds interval, const std::atomic<std::uint64_t>& active)
    : bridge_pid_(bridge_pid), interval_(interval), active_(active) {}

proc_sampler::~proc_sampler() { stop(); }

proc_sample proc_sampler::sample_now() const {
  proc_sample s;
  s.at = steady::now();
  if (bridge_pid_ != 0) s.bridge = read_process(bridge_pid_);
  s.self = read_process(0);
  std::map<std::string, double> per_role;
  {
    auto& r = roles();
    std::lock_guard lock(r.mutex);
    for (const auto& [tid, role] : r.threads) per_role[role] += read_thread_cpu(tid);
  }
  s.role_cpu_s.assign(per_role.begin(), per_role.end());
  s.active_calls = active_.load(std::memory_order_relaxed);
  return s;
}

void proc_sampler::start() {
  thread_ = std::thread([this] {
    while (!stopping_.load()) {
      auto s = sample_now();
      {
        std::lock_guard lock(mutex_);
        samples_.push_back(std::move(s));
      }
      const auto until = steady::now() + interval_;
      while (!stopping_.load() && steady::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}

void proc_sampler::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<proc_sample> proc_sampler::samples() const {
  std::lock_guard lock(mutex_);
  return samples_;
}

}  // namespace mb::tools::load
