#pragma once
// A SIP call as its sideband shows it (docs/sip.md, docs/architecture.md "SIP mode"): the provider's
// events in, call events (transcripts, tool calls, DTMF, call control) and commands out. Pure: time
// comes with every input. The sideband task defines it.

namespace mb::sip {

class sideband_state {};

}  // namespace mb::sip
