#pragma once
// TwiML documents the voice webhook answers with (Content-Type: text/xml).
//
// Every text node and attribute value is made safe for XML 1.0 here, so callers may pass any bytes:
// the five markup characters are escaped; tab, LF and CR become character references (a parser would
// otherwise normalise them to spaces in attribute values); other characters XML 1.0 forbids (C0
// controls, U+FFFE, U+FFFF) are dropped; ill-formed UTF-8 becomes U+FFFD, one per maximal ill-formed
// subsequence (Unicode 15 §3.9, as the WHATWG decoder does); well-formed UTF-8 passes through.
//
// The renderer does not validate what Twilio enforces (twilio-doc "TwiML Voice: <Stream>"): the
// stream URL must be absolute wss:// without a query string, and each <Parameter> name plus value must
// stay under 500 characters. Those come from configuration, which checks them once.
//
// @par Thread Safety
// Pure functions.

#include <string>
#include <string_view>
#include <vector>

namespace mb::twiml {

// Delivered to the bridge in the Media Streams `start` message as start.customParameters.
struct stream_parameter {
  std::string name;
  std::string value;
};

// <Connect><Stream>: a bidirectional Media Stream. Verbs after <Connect> would run only once our
// server closes the WebSocket, so none are emitted.
struct connect_stream {
  std::string say;         // optional <Say> spoken before connecting; empty: none
  std::string stream_url;  // wss://host/path
  std::vector<stream_parameter> parameters;
};

// For when the bridge cannot take the call: optional <Say>, then <Dial> to a number or <Hangup/>.
struct fallback {
  std::string say;          // empty: none
  std::string dial_number;  // non-empty: <Dial>number</Dial> instead of <Hangup/>
};

// A cold transfer (docs/tools.md, "Transfer"): the call leaves the Media Stream for this document.
struct transfer {
  std::string say;        // optional announcement before dialling; empty: none
  std::string target;     // +E.164 number, or a sip: URI (dialled as <Sip>)
  std::string caller_id;  // <Dial callerId="…">; empty: Twilio keeps the caller's number
};

// <?xml version="1.0" encoding="UTF-8"?><Response>[<Say>…</Say>]<Connect><Stream url="…">
// <Parameter name="…" value="…"/>…</Stream></Connect></Response>, without whitespace between elements.
[[nodiscard]] std::string render_connect(const connect_stream& stream);

// <?xml version="1.0" encoding="UTF-8"?><Response>[<Say>…</Say>](<Hangup/>|<Dial>…</Dial>)</Response>
[[nodiscard]] std::string render_fallback(const fallback& call);

// <?xml version="1.0" encoding="UTF-8"?><Response>[<Say>…</Say>]<Dial[ callerId="…"]>(number|<Sip>uri</Sip>)
// </Dial></Response>. The target is checked by configuration (E.164 or sip:), not here.
[[nodiscard]] std::string render_transfer(const transfer& call);

// Appends `text` with the sanitising escape described above, as used for every text node and
// attribute value.
void append_xml_escaped(std::string& out, std::string_view text);

}  // namespace mb::twiml
