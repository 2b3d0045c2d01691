#include "probe/probe_script.hpp"

// Skeleton: the probescript task implements the script (docs/latency.md "Probe stages").
namespace mb::probe {

struct probe_script::impl {
  std::unique_ptr<upstream::adapter> adapter;
  protocol::session_config config;
  script_options options;
  probe_run run;
  clock::time_point deadline;
  bool finished = false;
};

probe_script::probe_script(std::unique_ptr<upstream::adapter> adapter, protocol::session_config config,
                           script_options options, probe_run identity, clock::time_point now)
    : impl_(std::make_unique<impl>(impl{std::move(adapter), std::move(config), options, std::move(identity),
                                        now + options.timeout, false})) {}
probe_script::~probe_script() = default;
probe_script::probe_script(probe_script&&) noexcept = default;
probe_script& probe_script::operator=(probe_script&&) noexcept = default;

void probe_script::on_connected(const connect_timings&, clock::time_point, std::vector<std::string>&) {}
void probe_script::on_connect_failed(error_kind kind, std::string_view detail, clock::time_point) {
  impl_->run.error = kind;
  impl_->run.error_detail = std::string(detail);
  impl_->finished = true;
}
void probe_script::on_message(std::string_view, std::size_t, clock::time_point, std::vector<std::string>&) {}
void probe_script::on_tick(clock::time_point, std::vector<std::string>&) {}
void probe_script::on_closed(std::string_view detail, clock::time_point now) {
  on_connect_failed(now >= impl_->deadline ? error_kind::timeout : error_kind::protocol, detail, now);
}
probe_script::clock::time_point probe_script::next_wakeup() const noexcept { return impl_->deadline; }
bool probe_script::finished() const noexcept { return impl_->finished; }
const probe_run& probe_script::result() const noexcept { return impl_->run; }

}  // namespace mb::probe
