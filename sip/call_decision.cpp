#include "sip/call_decision.hpp"

#include <algorithm>
#include <strings.h>

namespace mb::sip {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool starts_with_icase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

const agents::agent_profile* profile_claiming(const agents::agent_catalog& catalog, std::string_view number) {
  if (number.empty()) return nullptr;
  for (const auto& p : catalog.profiles())
    if (p.mode == agents::call_mode::sip && std::find(p.numbers.begin(), p.numbers.end(), number) != p.numbers.end())
      return &p;
  return nullptr;
}

// The X-Mb-Var-* values the profile's templates use, matched case-insensitively (SIP header names are).
void add_header_variables(const protocol::incoming_sip_call& call, const agents::agent_profile& profile,
                          agents::variables& out) {
  const auto used = profile.variables_used();
  std::size_t read = 0;
  for (const auto& header : call.sip_headers) {
    if (!starts_with_icase(header.name, protocol::sip_variable_header_prefix)) continue;
    if (++read > max_sip_variables) break;
    const auto name = std::string_view(header.name).substr(protocol::sip_variable_header_prefix.size());
    const auto it = std::find_if(used.begin(), used.end(), [&](const std::string& u) { return iequals(u, name); });
    if (it == used.end()) continue;
    const bool known = std::any_of(out.begin(), out.end(), [&](const auto& v) { return v.first == *it; });
    if (!known) out.emplace_back(*it, header.value);
  }
}

call_decision reject(call_decision d, int status, std::string reason) {
  d.verdict = call_verdict::reject;
  d.reject_status = status;
  d.reason = std::move(reason);
  return d;
}

}  // namespace

bool accepts_on(const agents::agent_profile& profile, protocol::sip_runtime runtime) noexcept {
  switch (profile.provider) {
    case upstream::provider_kind::openai_realtime: return runtime == protocol::sip_runtime::realtime;
    case upstream::provider_kind::openai_live: return runtime == protocol::sip_runtime::live;
    default: return false;
  }
}

call_decision decide_call(const agents::agent_catalog& catalog, const protocol::incoming_sip_call& call,
                          token_status token, bool draining) {
  call_decision d;
  d.from = protocol::sip_user_of(protocol::sip_header_value(call.sip_headers, "From"));
  d.to = protocol::sip_user_of(protocol::sip_header_value(call.sip_headers, "To"));
  d.call_sid = call.call_id;

  switch (token) {
    case token_status::invalid: return reject(std::move(d), 403, "X-Mb-Token is not valid for X-Mb-Call-Sid");
    case token_status::valid: {
      d.call_sid = std::string(protocol::sip_header_value(call.sip_headers, protocol::sip_call_sid_header));
      const auto agent = protocol::sip_header_value(call.sip_headers, protocol::sip_agent_header);
      const auto* profile = agent.empty() ? nullptr : catalog.select(agent, {});
      if (!profile || profile->mode != agents::call_mode::sip)
        return reject(std::move(d), 404, "X-Mb-Agent names no SIP-mode agent profile");
      d.profile = profile;
      break;
    }
    case token_status::absent:
      d.profile = profile_claiming(catalog, d.to);
      if (!d.profile) return reject(std::move(d), 404, "no SIP-mode agent profile claims the called number");
      break;
  }

  if (!accepts_on(*d.profile, call.runtime)) {
    d.verdict = call_verdict::ignore;
    d.reason = "the agent profile's provider takes the call on the other runtime";
    return d;
  }
  d.variables = {{"CallSid", d.call_sid}, {"From", d.from}, {"To", d.to}};
  if (token == token_status::valid) add_header_variables(call, *d.profile, d.variables);
  if (draining) return reject(std::move(d), 503, "draining");
  d.verdict = call_verdict::accept;
  d.reason = "accepted";
  return d;
}

}  // namespace mb::sip
