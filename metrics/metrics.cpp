#include "metrics/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace mb::metrics {

namespace detail {
std::uint32_t assign_shard() noexcept {
  static std::atomic<std::uint32_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed) % shard_count;
}
}  // namespace detail

std::uint64_t counter::value() const noexcept {
  std::uint64_t sum = 0;
  for (const auto& c : cells_) sum += c.value.load(std::memory_order_relaxed);
  return sum;
}

histogram::histogram(std::vector<double> upper_bounds_s) : bounds_s_(std::move(upper_bounds_s)) {
  if (!std::is_sorted(bounds_s_.begin(), bounds_s_.end()) ||
      std::adjacent_find(bounds_s_.begin(), bounds_s_.end()) != bounds_s_.end())
    throw std::invalid_argument("histogram bounds must be strictly ascending");
  for (const double b : bounds_s_) bounds_ns_.push_back(std::llround(b * 1e9));
  constexpr std::size_t per_line = cache_line_bytes / sizeof(std::atomic<std::uint64_t>);
  const std::size_t used = bounds_s_.size() + 2;  // buckets, +Inf, sum
  stride_ = (used + per_line - 1) / per_line * per_line;
  cells_ = std::make_unique<std::atomic<std::uint64_t>[]>(stride_ * shard_count);
}

void histogram::observe(std::chrono::nanoseconds d) noexcept {
  const std::int64_t ns = std::max<std::int64_t>(0, d.count());
  // Few bounds, and most observations land in the first ones: a linear scan beats a binary search.
  std::size_t bucket = 0;
  while (bucket < bounds_ns_.size() && ns > bounds_ns_[bucket]) ++bucket;
  auto* cells = shard(this_thread_shard());
  cells[bucket].fetch_add(1, std::memory_order_relaxed);
  cells[bounds_ns_.size() + 1].fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
}

histogram::snapshot histogram::collect() const {
  snapshot s;
  s.upper_bounds_s = bounds_s_;
  std::vector<std::uint64_t> per_bucket(bounds_s_.size() + 1, 0);
  std::uint64_t sum_ns = 0;
  for (std::size_t sh = 0; sh < shard_count; ++sh) {
    const auto* cells = shard(sh);
    for (std::size_t b = 0; b < per_bucket.size(); ++b) per_bucket[b] += cells[b].load(std::memory_order_relaxed);
    sum_ns += cells[per_bucket.size()].load(std::memory_order_relaxed);
  }
  std::uint64_t running = 0;
  for (const auto n : per_bucket) s.cumulative.push_back(running += n);
  s.count = running;
  s.sum_s = static_cast<double>(sum_ns) / 1e9;
  return s;
}

namespace buckets {
std::vector<double> relay() {
  return {10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 1.0};
}
std::vector<double> network() {
  return {1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1.0, 2.5, 5.0, 10.0, 30.0};
}
std::vector<double> turn() {
  return {50e-3, 100e-3, 200e-3, 300e-3, 500e-3, 750e-3, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0};
}
}  // namespace buckets

// --- registry ------------------------------------------------------------------------------------

registry::series& registry::add(std::string_view name, std::string_view help, kind type, label_list labels) {
  std::lock_guard lock(mutex_);
  family* f = nullptr;
  for (auto& existing : families_)
    if (existing->name == name) f = existing.get();
  if (f == nullptr) {
    families_.push_back(std::make_unique<family>(family{std::string(name), std::string(help), type, {}}));
    f = families_.back().get();
  } else if (f->type != type) {
    throw std::invalid_argument("metric " + std::string(name) + " registered with two types");
  }
  // Series are reached through unique_ptrs, so growing this vector never moves a metric.
  f->members.push_back(series{std::move(labels), nullptr, nullptr, nullptr, {}});
  return f->members.back();
}

counter& registry::add_counter(std::string_view name, std::string_view help, label_list labels) {
  auto c = std::make_unique<counter>();
  auto& ref = *c;
  add(name, help, kind::counter, std::move(labels)).c = std::move(c);
  return ref;
}

gauge& registry::add_gauge(std::string_view name, std::string_view help, label_list labels) {
  auto g = std::make_unique<gauge>();
  auto& ref = *g;
  add(name, help, kind::gauge, std::move(labels)).g = std::move(g);
  return ref;
}

histogram& registry::add_histogram(std::string_view name, std::string_view help, std::vector<double> upper_bounds_s,
                                   label_list labels) {
  auto h = std::make_unique<histogram>(std::move(upper_bounds_s));
  auto& ref = *h;
  add(name, help, kind::histogram, std::move(labels)).h = std::move(h);
  return ref;
}

void registry::add_counter_fn(std::string_view name, std::string_view help, std::function<double()> read,
                              label_list labels) {
  add(name, help, kind::counter, std::move(labels)).read = std::move(read);
}

void registry::add_gauge_fn(std::string_view name, std::string_view help, std::function<double()> read,
                            label_list labels) {
  add(name, help, kind::gauge, std::move(labels)).read = std::move(read);
}

namespace {

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc{} ? end : buf);
}

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_number(std::string& out, std::int64_t v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Label values escape backslash, double quote and line feed; HELP text escapes backslash and line feed.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (const char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (quote && c == '"') out += "\\\"";
    else out += c;
  }
}

void append_labels(std::string& out, const label_list& labels, std::string_view le = {}) {
  if (labels.empty() && le.empty()) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    append_escaped(out, v, true);
    out += '"';
  }
  if (!le.empty()) {
    if (!first) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

}  // namespace

std::string registry::render() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& f : families_) {
    out += "# HELP ";
    out += f->name;
    out += ' ';
    append_escaped(out, f->help, false);
    out += "\n# TYPE ";
    out += f->name;
    out += f->type == kind::counter ? " counter\n" : f->type == kind::gauge ? " gauge\n" : " histogram\n";
    for (const auto& s : f->members) {
      if (s.h) {
        const auto snap = s.h->collect();
        std::string le;
        for (std::size_t b = 0; b <= snap.upper_bounds_s.size(); ++b) {
          le.clear();
          if (b < snap.upper_bounds_s.size())
            append_number(le, snap.upper_bounds_s[b]);
          else
            le = "+Inf";
          out += f->name;
          out += "_bucket";
          append_labels(out, s.labels, le);
          out += ' ';
          append_number(out, snap.cumulative[b]);
          out += '\n';
        }
        out += f->name;
        out += "_sum";
        append_labels(out, s.labels);
        out += ' ';
        append_number(out, snap.sum_s);
        out += '\n';
        out += f->name;
        out += "_count";
        append_labels(out, s.labels);
        out += ' ';
        append_number(out, snap.count);
        out += '\n';
        continue;
      }
      out += f->name;
      append_labels(out, s.labels);
      out += ' ';
      if (s.read) append_number(out, s.read());
      else if (s.c) append_number(out, s.c->value());
      else append_number(out, s.g->value());
      out += '\n';
    }
  }
  return out;
}

}  // namespace mb::metrics
