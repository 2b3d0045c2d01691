#include "tests/integration/support/transcript_lines.hpp"

#include <boost/json.hpp>

namespace mb::test {

std::ostream& operator<<(std::ostream& os, const line& l) {
  return os << l.role << " " << l.item_id << " '" << l.text << "' interrupted=" << l.interrupted
            << " heard=" << l.heard_ms << " heard_text='" << l.heard_text << "'"
            << (l.heard_text_estimated ? " (estimated)" : "");
}

line line_from(const boost::json::object& o) {
  line l{std::string(o.at("role").as_string()), std::string(o.at("item_id").as_string()),
         std::string(o.at("text").as_string())};
  if (const auto* i = o.if_contains("interrupted")) l.interrupted = i->as_bool();
  if (const auto* h = o.if_contains("heard_ms")) l.heard_ms = h->as_int64();
  if (const auto* h = o.if_contains("heard_text")) l.heard_text = h->as_string();
  if (const auto* e = o.if_contains("heard_text_estimated")) l.heard_text_estimated = e->as_bool();
  return l;
}

std::vector<line> finals(const listener_client::events_t& events, const std::string& call_sid) {
  std::vector<line> out;
  for (const auto& e : of_type(events, "transcript.final", call_sid)) out.push_back(line_from(e));
  return out;
}

std::vector<line> published_finals(bridge_harness& h, const std::string& call_sid) {
  std::vector<line> out;
  for (const auto& e : h.events().events())
    if (const auto* f = std::get_if<call::transcript_final>(&e.event); f && e.call.call_sid == call_sid)
      out.push_back({call::to_string(f->speaker), f->item_id, f->text, f->interrupted, f->interrupted ? f->heard_ms : -1,
                     f->heard_text, f->heard_text_estimated});
  return out;
}

std::vector<line> stored_lines(const boost::json::object& call) {
  std::vector<line> out;
  for (const auto& l : call.at("transcript").as_array()) out.push_back(line_from(l.as_object()));
  return out;
}

std::string test_call_sid(int n) {
  std::string sid = "CA" + std::string(32, '0');
  const auto digits = std::to_string(n);
  sid.replace(sid.size() - digits.size(), digits.size(), digits);
  return sid;
}

}  // namespace mb::test
