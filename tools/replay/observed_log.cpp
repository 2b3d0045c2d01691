#include "tools/replay/observed_log.hpp"

#include <algorithm>

namespace mb::tools::replay {

void observed_log::message(record::direction dir, std::string_view text, clock::time_point at) {
  record::log_entry entry;
  entry.dir = dir;
  if (record::minify_json(text, entry.payload)) {
    entry.kind = record::payload_kind::json;
    if (dir == record::direction::twilio_in) entry.payload = record::redact_twilio_start(entry.payload);
  } else {
    entry.kind = record::payload_kind::raw;
    entry.payload.assign(text);
  }
  entries_.push_back({at, std::move(entry)});
}

void observed_log::connection(record::direction dir, std::uint64_t number, std::string detail, clock::time_point at) {
  record::log_entry entry;
  entry.dir = dir;
  entry.number = number;
  entry.detail = std::move(detail);
  entries_.push_back({at, std::move(entry)});
}

std::vector<record::log_entry> observed_log::entries(clock::time_point zero) const {
  std::vector<record::log_entry> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) {
    out.push_back(e.entry);
    out.back().t_ms = std::max(0.0, std::chrono::duration<double, std::milli>(e.at - zero).count());
  }
  return out;
}

}  // namespace mb::tools::replay
