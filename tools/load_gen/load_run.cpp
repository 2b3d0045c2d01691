#include "tools/load_gen/load_run.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <stdexcept>

#include <boost/asio/this_coro.hpp>
#include <boost/json/array.hpp>

#include "server/io_pool.hpp"
#include "tools/load_gen/proc_sampler.hpp"
#include "tools/twilio_sim/twilio_sim.hpp"

namespace mb::tools::load {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using twilio::audio_kind;
using twilio::audio_segment;

// The script repeated until it covers `ms`.
std::vector<audio_segment> repeat(const std::vector<audio_segment>& script, int ms) {
  int cycle = 0;
  for (const auto& s : script) cycle += std::max(0, s.ms);
  std::vector<audio_segment> out;
  if (cycle <= 0) return out;
  for (int covered = 0; covered < ms; covered += cycle) out.insert(out.end(), script.begin(), script.end());
  return out;
}

// Independent calls' 20 ms frame clocks have independent phases. A ramp alone would not give that:
// at 100 calls/s (10 ms apart) every call's frames fell on one of two phases, so frames reached the
// bridge in bursts of half the calls at once, and the latency measured the burst. So each call starts
// at an extra offset within one frame period, spread evenly (golden-ratio sequence).
steady::duration phase_offset(std::size_t i) {
  constexpr double golden = 0.6180339887498949;
  const double fraction = static_cast<double>(i) * golden - std::floor(static_cast<double>(i) * golden);
  return std::chrono::duration_cast<steady::duration>(std::chrono::duration<double, std::milli>(fraction * twilio::frame_ms));
}

bool barges_in(std::size_t i, double share) {
  // Spread evenly: call i barges in when the running count of barge-in calls steps up at i.
  const auto before = static_cast<std::int64_t>(std::floor(static_cast<double>(i) * share));
  const auto after = static_cast<std::int64_t>(std::floor(static_cast<double>(i + 1) * share));
  return after > before;
}

double load_average() {
  std::ifstream in("/proc/loadavg");
  double one = 0;
  in >> one;
  return one;
}

bool is_loopback_url(const std::string& url) {
  return url.rfind("http://127.0.0.1:", 0) == 0 || url.rfind("http://localhost:", 0) == 0 ||
         url.rfind("http://[::1]:", 0) == 0;
}

latency_summary summarise(const latency_histogram& h) {
  latency_summary s;
  s.count = h.count();
  s.p50_us = h.percentile_us(0.50);
  s.p95_us = h.percentile_us(0.95);
  s.p99_us = h.percentile_us(0.99);
  s.p999_us = h.percentile_us(0.999);
  s.max_us = h.max_us();
  s.mean_us = h.mean_us();
  s.over_5ms = h.count_above(5000);
  return s;
}

double seconds_between(steady::time_point a, steady::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double role_cpu(const proc_sample& s, const std::string& role) {
  for (const auto& [r, cpu] : s.role_cpu_s)
    if (r == role) return cpu;
  return 0;
}

// The samples that bound [from, to] as closely as the sampling allows: the last at or before `from`
// and the first at or after `to` (or the nearest available).
std::pair<const proc_sample*, const proc_sample*> bounding(const std::vector<proc_sample>& samples,
                                                          steady::time_point from, steady::time_point to) {
  const proc_sample* a = nullptr;
  const proc_sample* b = nullptr;
  for (const auto& s : samples) {
    if (s.at <= from || a == nullptr) a = &s;
    if (b == nullptr && s.at >= to) b = &s;
  }
  if (b == nullptr && !samples.empty()) b = &samples.back();
  return {a, b};
}

struct call_result {
  bool done = false;
  twilio::call_report report;
};

}  // namespace

std::vector<audio_segment> default_script() {
  return {{audio_kind::speech, 1000}, {audio_kind::silence, 4000}};
}

std::vector<audio_segment> default_barge_in_script() {
  return {{audio_kind::speech, 1000}, {audio_kind::silence, 1500}, {audio_kind::speech, 1000}, {audio_kind::silence, 1500}};
}

std::string script_spec(const std::vector<audio_segment>& script) {
  std::string spec;
  for (const auto& s : script) {
    if (!spec.empty()) spec += ',';
    spec += s.kind == audio_kind::speech ? "speech:" : "silence:";
    spec += std::to_string(s.ms);
  }
  return spec;
}

std::vector<audio_segment> parse_script(std::string_view spec) {
  std::vector<audio_segment> script;
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    const auto item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos) return {};
    audio_segment s;
    const auto kind = item.substr(0, colon);
    if (kind == "speech") s.kind = audio_kind::speech;
    else if (kind == "silence") s.kind = audio_kind::silence;
    else return {};
    const auto ms = item.substr(colon + 1);
    const auto [end, ec] = std::from_chars(ms.data(), ms.data() + ms.size(), s.ms);
    if (ec != std::errc{} || end != ms.data() + ms.size() || s.ms <= 0) return {};
    script.push_back(s);
  }
  return script;
}

bool load_report::clean() const {
  const auto broken = [](const frame_counts& f) { return f.lost + f.duplicated + f.reordered + f.misrouted; };
  return calls_failed == 0 && calls_ok == options.calls && other_provider_sessions == 0 && broken(up_frames) == 0 &&
         broken(down_frames) == 0;
}

load_report run_load(const load_options& o, load_probe& probe) {
  if (o.calls == 0 || o.calls > max_calls) throw std::invalid_argument("calls must be 1.." + std::to_string(max_calls));
  if (!(o.ramp_per_s > 0)) throw std::invalid_argument("the ramp rate must be > 0");
  if (o.duration_s <= 0) throw std::invalid_argument("the duration must be > 0");
  if (!is_loopback_url(o.webhook_url)) throw std::invalid_argument("the webhook must be on loopback (http://127.0.0.1:…)");

  load_report report;
  report.options = o;
  report.load_average_start = load_average();
  const int duration_ms = o.duration_s * 1000;
  const auto ramp = std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(1.0 / o.ramp_per_s));
  const auto ramp_total = ramp * static_cast<std::int64_t>(o.calls - 1) + milliseconds(twilio::frame_ms);
  const auto hard_bound = ramp_total + milliseconds(duration_ms) + std::chrono::seconds(60);

  std::atomic<std::uint64_t> active{0};
  std::vector<call_result> results(o.calls);
  proc_sampler sampler(o.bridge_pid, milliseconds(o.sample_interval_ms), active);

  // One io_context per generator thread, each call on one of them: a call needs no strand, and
  // strands on a shared context cost a mutex per handler (2.4% of the generator's CPU, measured).
  server::io_pool pool(static_cast<std::size_t>(std::max(o.threads, 1)));
  auto& ioc = pool.first();
  const auto t0 = steady::now() + milliseconds(200);
  // Steady state: every call started and settled, none hung up yet (the first is due at t0 + duration).
  auto window_start = t0 + ramp_total + milliseconds(o.settle_ms);
  auto window_end = t0 + milliseconds(duration_ms) - milliseconds(500);
  report.steady_window = window_end - window_start >= std::chrono::seconds(1);
  if (!report.steady_window) {
    window_start = t0;
    window_end = t0 + hard_bound;
  }

  const auto spawn = [&](std::size_t i) {
    twilio::call_options c;
    c.webhook_url = o.webhook_url;
    c.auth_token = o.auth_token;
    char number[16];
    std::snprintf(number, sizeof number, "+1500555%04zu", i % 10000);
    c.from = number;
    c.script = repeat(barges_in(i, o.barge_in_share) ? o.barge_in_script : o.script, duration_ms);
    c.hangup_when_audio_ends = false;
    c.hangup_after_ms = duration_ms;
    c.timeout_ms = duration_ms + 30000;
    c.send_grid = std::chrono::microseconds(o.send_grid_us);
    c.record_sent_audio = c.record_played_audio = c.record_media_arrivals = c.record_marks = false;
    c.stamp_frame = [&probe, i](std::uint64_t chunk, std::span<std::uint8_t> f) { probe.twilio_stamp_frame(i, chunk, f); };
    c.on_media = [&probe, i](std::string_view p, twilio::clock::time_point at, std::uint64_t pos) {
      probe.twilio_media(i, p, at, pos);
    };
    c.on_clear = [&probe, i](twilio::clock::time_point at, std::uint64_t played) { probe.twilio_clear(i, at, played); };
    active.fetch_add(1, std::memory_order_relaxed);
    const auto lease = pool.acquire();
    asio::co_spawn(lease.context, twilio::run_call(std::move(c)),
                   [&results, &active, &pool, i, index = lease.index](std::exception_ptr e, twilio::call_report r) {
                     if (e) {
                       r.outcome = twilio::call_outcome::stream_failed;
                       r.failure = "exception in the simulated call";
                     }
                     results[i] = {true, std::move(r)};
                     active.fetch_sub(1, std::memory_order_relaxed);
                     pool.release(index);
                   });
  };

  // The ramp, and the measuring window, on the generator's own io_context.
  asio::co_spawn(
      ioc,
      [&]() -> net::awaitable<void> {
        // Offsets can reorder neighbours, so start the calls in time order.
        std::vector<std::pair<steady::time_point, std::size_t>> starts;
        for (std::size_t i = 0; i < o.calls; ++i)
          starts.emplace_back(t0 + ramp * static_cast<std::int64_t>(i) + phase_offset(i), i);
        std::sort(starts.begin(), starts.end());
        asio::steady_timer timer(co_await asio::this_coro::executor);
        for (const auto& [at, i] : starts) {
          timer.expires_at(at);
          co_await timer.async_wait(net::use_awaitable);
          spawn(i);
        }
        pool.release_work();  // from now on, each context runs until its calls end
      },
      asio::detached);
  asio::co_spawn(
      ioc,
      [&]() -> net::awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor, window_start);
        co_await timer.async_wait(net::use_awaitable);
        report.active_calls_in_window = active.load();
        probe.set_measuring(true);
        if (!report.steady_window) co_return;  // measure until the run ends
        timer.expires_at(window_end);
        co_await timer.async_wait(net::as_tuple_awaitable);
        probe.set_measuring(false);
      },
      asio::detached);

  const auto baseline = sampler.sample_now();
  sampler.start();
  pool.run_for(std::chrono::duration_cast<milliseconds>(hard_bound) + milliseconds(500),
               [] { register_current_thread("generator"); });
  pool.stop();
  sampler.stop();
  probe.set_measuring(false);
  const auto finished = steady::now();
  report.elapsed_s = seconds_between(t0, finished);
  report.load_average_end = load_average();

  // Calls.
  latency_histogram stale_audio;
  for (auto& r : results) {
    for (const auto ms : r.report.stale_audio_ms) stale_audio.record(static_cast<std::int64_t>(ms * 1000));
    if (r.done && r.report.ok()) {
      ++report.calls_ok;
    } else {
      ++report.calls_failed;
      const std::string outcome = r.done ? twilio::to_string(r.report.outcome) : "not_finished";
      ++report.failures[outcome];
      if (report.first_failure.empty()) report.first_failure = r.done ? r.report.failure : "still running at the bound";
    }
    report.max_send_lag_ms = std::max(report.max_send_lag_ms, r.report.max_send_lag_ms);
    report.send_queue_drops += r.report.send_queue_drops;
  }

  // What the probe saw.
  report.caller_to_upstream = summarise(probe.caller_to_upstream());
  report.upstream_to_caller = summarise(probe.upstream_to_caller());
  report.barge_in_clear = summarise(probe.barge_in_clear());
  report.stale_audio = summarise(stale_audio);
  report.up_frames = probe.up_counts();
  report.down_frames = probe.down_counts();
  report.clears = probe.clears();
  report.clears_without_speech = probe.clears_without_speech();
  report.unmapped_sessions = probe.unmapped_sessions();
  for (const auto provider : upstream::all_providers)
    (provider == o.provider ? report.provider_sessions : report.other_provider_sessions) += probe.sessions_on(provider);
  auto truncates = probe.truncates(report.truncates_unmatched);
  report.truncates = truncates.size();
  if (!truncates.empty()) {
    std::vector<std::int64_t> errors, abs_errors;
    for (const auto& t : truncates) {
      if (!t.accepted) ++report.truncates_rejected;
      errors.push_back(t.error_ms);
      abs_errors.push_back(std::abs(t.error_ms));
    }
    std::sort(errors.begin(), errors.end());
    std::sort(abs_errors.begin(), abs_errors.end());
    report.truncate_error_p50_ms = errors[errors.size() / 2];
    report.truncate_error_p95_abs_ms = abs_errors[std::min(abs_errors.size() - 1, abs_errors.size() * 95 / 100)];
    report.truncate_error_min_ms = errors.front();
    report.truncate_error_max_ms = errors.back();
  }

  // CPU and memory over the window.
  report.window_start_s = seconds_between(t0, window_start);
  report.window_end_s = seconds_between(t0, std::min(window_end, finished));
  const auto samples = sampler.samples();
  const auto [a, b] = bounding(samples, window_start, std::min(window_end, finished));
  if (a && b && b->at > a->at) {
    const double span = seconds_between(a->at, b->at);
    // Without a steady state the calls overlapped only partly: divide by the most that ran at once.
    std::uint64_t peak = report.active_calls_in_window;
    if (!report.steady_window)
      for (const auto& s : samples) peak = std::max(peak, s.active_calls);
    const double calls = static_cast<double>(std::max<std::uint64_t>(1, peak));
    report.generator_cpu_percent = 100 * (role_cpu(*b, "generator") - role_cpu(*a, "generator")) / span;
    report.simulator_cpu_percent = 100 * (role_cpu(*b, "simulator") - role_cpu(*a, "simulator")) / span;
    report.process_cpu_percent = 100 * (b->self.cpu_s - a->self.cpu_s) / span;
    if (o.bridge_pid != 0 && a->bridge.ok && b->bridge.ok && baseline.bridge.ok) {
      auto& u = report.bridge;
      u.sampled = true;
      u.cpu_percent = 100 * (b->bridge.cpu_s - a->bridge.cpu_s) / span;
      u.cpu_ms_per_call_second = 1000 * (b->bridge.cpu_s - a->bridge.cpu_s) / span / calls;
      u.rss_baseline_mb = static_cast<double>(baseline.bridge.rss_bytes) / (1 << 20);
      u.rss_mb = static_cast<double>(b->bridge.rss_bytes) / (1 << 20);
      for (const auto& s : samples) u.rss_peak_mb = std::max(u.rss_peak_mb, static_cast<double>(s.bridge.rss_bytes) / (1 << 20));
      u.rss_per_call_kb = (static_cast<double>(b->bridge.rss_bytes) - static_cast<double>(baseline.bridge.rss_bytes)) /
                          1024.0 / calls;
    }
  }
  return report;
}

// --- output --------------------------------------------------------------------------------------

namespace {

json::object to_json(const latency_summary& s) {
  return {{"count", s.count},   {"p50_us", s.p50_us}, {"p95_us", s.p95_us},   {"p99_us", s.p99_us},
          {"p999_us", s.p999_us}, {"max_us", s.max_us}, {"mean_us", s.mean_us}, {"over_5ms", s.over_5ms}};
}

json::object to_json(const frame_counts& f) {
  return {{"sent", f.sent},
          {"received", f.received},
          {"lost", f.lost},
          {"dropped_by_clear", f.dropped_by_clear},
          {"duplicated", f.duplicated},
          {"reordered", f.reordered},
          {"misrouted", f.misrouted},
          {"unstamped", f.unstamped}};
}

std::string ms(std::int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(us) / 1000.0);
  return buf;
}

}  // namespace

json::object load_report::to_json() const {
  json::object failures_json;
  for (const auto& [k, v] : failures) failures_json[k] = v;
  json::object out{
      {"provider", upstream::to_string(options.provider)},
      {"upstream_sessions", {{"on_provider", provider_sessions}, {"on_other_provider", other_provider_sessions}}},
      {"calls", options.calls},
      {"ramp_per_s", options.ramp_per_s},
      {"duration_s", options.duration_s},
      {"barge_in_share", options.barge_in_share},
      {"generator_threads", options.threads},
      {"send_grid_us", options.send_grid_us},
      {"elapsed_s", elapsed_s},
      {"load_average_1m", {{"start", load_average_start}, {"end", load_average_end}}},
      {"calls_ok", calls_ok},
      {"calls_failed", calls_failed},
      {"failures", std::move(failures_json)},
      {"first_failure", first_failure},
      {"window", {{"steady", steady_window}, {"start_s", window_start_s}, {"end_s", window_end_s},
                  {"active_calls", active_calls_in_window}}},
      {"relay_latency", {{"caller_to_upstream", load::to_json(caller_to_upstream)},
                         {"upstream_to_caller", load::to_json(upstream_to_caller)}}},
      {"barge_in_clear", load::to_json(barge_in_clear)},
      {"stale_audio_after_speech", load::to_json(stale_audio)},
      {"clears", clears},
      {"clears_without_speech_started", clears_without_speech},
      {"truncates", {{"count", truncates}, {"rejected", truncates_rejected}, {"unmatched", truncates_unmatched},
                     {"error_p50_ms", truncate_error_p50_ms}, {"error_p95_abs_ms", truncate_error_p95_abs_ms},
                     {"error_min_ms", truncate_error_min_ms}, {"error_max_ms", truncate_error_max_ms}}},
      {"frames", {{"caller_to_upstream", load::to_json(up_frames)}, {"upstream_to_caller", load::to_json(down_frames)}}},
      {"unmapped_sessions", unmapped_sessions},
      {"generator", {{"cpu_percent", generator_cpu_percent}, {"simulator_cpu_percent", simulator_cpu_percent},
                     {"process_cpu_percent", process_cpu_percent}, {"max_send_lag_ms", max_send_lag_ms},
                     {"send_queue_drops", send_queue_drops}}},
      {"clean", clean()},
  };
  if (bridge.sampled)
    out["bridge"] = {{"cpu_percent", bridge.cpu_percent},
                     {"cpu_ms_per_call_second", bridge.cpu_ms_per_call_second},
                     {"rss_baseline_mb", bridge.rss_baseline_mb},
                     {"rss_mb", bridge.rss_mb},
                     {"rss_peak_mb", bridge.rss_peak_mb},
                     {"rss_per_call_kb", bridge.rss_per_call_kb}};
  return out;
}

std::string load_report::table() const {
  std::string t;
  char line[256];
  const auto add = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof line, fmt, args...);
    t += line;
  };
  add("provider        %s (%llu upstream sessions, %llu on another protocol)\n",
      std::string(upstream::to_string(options.provider)).c_str(), static_cast<unsigned long long>(provider_sessions),
      static_cast<unsigned long long>(other_provider_sessions));
  add("calls           %zu requested, %llu ok, %llu failed", options.calls,
      static_cast<unsigned long long>(calls_ok), static_cast<unsigned long long>(calls_failed));
  for (const auto& [k, v] : failures) add(" (%s: %llu)", k.c_str(), static_cast<unsigned long long>(v));
  t += "\n";
  if (!first_failure.empty()) add("first failure   %s\n", first_failure.c_str());
  add("window          %.1f-%.1f s%s, %llu calls active; load average %.2f -> %.2f\n", window_start_s, window_end_s,
      steady_window ? "" : " (no steady state: whole run)", static_cast<unsigned long long>(active_calls_in_window),
      load_average_start, load_average_end);
  t += "latency (ms)    count       p50      p95      p99    p99.9      max   >5ms\n";
  const auto row = [&](const char* name, const latency_summary& s) {
    add("%-15s %8llu %8s %8s %8s %8s %8s %6llu\n", name, static_cast<unsigned long long>(s.count), ms(s.p50_us).c_str(),
        ms(s.p95_us).c_str(), ms(s.p99_us).c_str(), ms(s.p999_us).c_str(), ms(s.max_us).c_str(),
        static_cast<unsigned long long>(s.over_5ms));
  };
  row("caller->upstr", caller_to_upstream);
  row("upstr->caller", upstream_to_caller);
  row("barge-in clear", barge_in_clear);
  row("stale audio", stale_audio);
  t += "frames          sent      recv      lost  by-clear  dup  reord  misrouted  unstamped\n";
  const auto frames = [&](const char* name, const frame_counts& f) {
    add("%-13s %8llu %9llu %8llu %9llu %4llu %6llu %10llu %10llu\n", name, static_cast<unsigned long long>(f.sent),
        static_cast<unsigned long long>(f.received), static_cast<unsigned long long>(f.lost),
        static_cast<unsigned long long>(f.dropped_by_clear), static_cast<unsigned long long>(f.duplicated),
        static_cast<unsigned long long>(f.reordered), static_cast<unsigned long long>(f.misrouted),
        static_cast<unsigned long long>(f.unstamped));
  };
  frames("caller->upstr", up_frames);
  frames("upstr->caller", down_frames);
  add("barge-ins       %llu clears (%llu without speech_started); %llu truncates (%llu rejected, %llu unmatched)\n",
      static_cast<unsigned long long>(clears), static_cast<unsigned long long>(clears_without_speech),
      static_cast<unsigned long long>(truncates), static_cast<unsigned long long>(truncates_rejected),
      static_cast<unsigned long long>(truncates_unmatched));
  add("truncate error  audio_end_ms - played: p50 %lld ms, p95 |err| %lld ms, min %lld, max %lld\n",
      static_cast<long long>(truncate_error_p50_ms), static_cast<long long>(truncate_error_p95_abs_ms),
      static_cast<long long>(truncate_error_min_ms), static_cast<long long>(truncate_error_max_ms));
  if (bridge.sampled)
    add("bridge          CPU %.1f%% (%.3f ms per call-second), RSS %.1f MB (baseline %.1f, peak %.1f), %.1f KB per call\n",
        bridge.cpu_percent, bridge.cpu_ms_per_call_second, bridge.rss_mb, bridge.rss_baseline_mb, bridge.rss_peak_mb,
        bridge.rss_per_call_kb);
  add("generator       CPU %.1f%%, simulator CPU %.1f%%, process %.1f%%; max send lag %.1f ms, %llu queue drops\n",
      generator_cpu_percent, simulator_cpu_percent, process_cpu_percent, max_send_lag_ms,
      static_cast<unsigned long long>(send_queue_drops));
  if (options.send_grid_us > 0) add("send grid       caller frames leave on a %d µs grid\n", options.send_grid_us);
  add("result          %s\n",
      clean() ? "CLEAN (0 failed calls, 0 lost/duplicated/reordered frames, every session on the provider)"
              : "NOT CLEAN");
  return t;
}

}  // namespace mb::tools::load
