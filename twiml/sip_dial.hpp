#pragma once
// <Dial><Sip> to OpenAI's SIP endpoint for a SIP-mode profile (docs/protocols.md J5): the call's
// parameters travel as custom SIP headers, written as the SIP URI's query (name=value&...). Twilio
// sends each as a header of its INVITE; OpenAI hands them back in the webhook's sip_headers.
//
// Twilio refuses a <Sip> whose headers part (after '?') exceeds 1024 characters (Twilio error 13251),
// so the URI is bounded here: headers that would take it past the bound are left out and named, for
// the caller to log.
//
// @par Thread Safety
// Pure functions.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mb::twiml {

// Twilio's bound on the headers part of a <Sip> URI (Twilio error 13251).
inline constexpr std::size_t max_sip_headers_chars = 1024;

struct sip_header_field {
  std::string name;  // e.g. X-Mb-Agent: letters, digits and '-' (other bytes are percent-encoded too)
  std::string value;
};

struct sip_dial_uri {
  std::string uri;                    // base?name=value&...: percent-encoded, not yet XML-escaped
  std::vector<std::string> left_out;  // the names of headers that did not fit, in order
};

// `base` (OPENAI_SIP_URI: a sip: URI without a query) plus `headers` in order, each name and value
// percent-encoded (everything but RFC 3986 unreserved characters, so '&', '=', '%' and spaces cannot
// split or merge headers). A header that would take the headers part past `max_chars` is left out;
// later, shorter ones may still fit. Callers put the headers they need first.
[[nodiscard]] sip_dial_uri make_sip_dial_uri(std::string_view base, const std::vector<sip_header_field>& headers,
                                             std::size_t max_chars = max_sip_headers_chars);

// <?xml version="1.0" encoding="UTF-8"?><Response>[<Say>…</Say>]<Dial><Sip>uri</Sip></Dial></Response>,
// the URI XML-escaped.
[[nodiscard]] std::string render_dial_sip(std::string_view say, std::string_view uri);

// RFC 3986 percent-encoding of every byte outside A-Z a-z 0-9 - . _ ~ (uppercase hex).
void append_percent_encoded(std::string& out, std::string_view text);

}  // namespace mb::twiml
