#pragma once
// Which words of a cut assistant turn the caller heard. The Realtime API does not say: the
// conversation.item.truncated event carries only the item, content index and audio_end_ms, and the
// service drops the item's transcript (protocols.md A7). So the heard part is estimated from how much
// of the turn's audio was played, assuming the words are spread evenly over the audio.
//
// @par Thread Safety
// Pure functions.

#include <cstdint>
#include <string_view>

namespace mb::call {

// The prefix of `text` the caller heard after `heard_ms` of the turn's `audio_ms` of audio: the text
// up to the same share of its characters (code points, not bytes), cut back to the end of the last
// word wholly inside it, without trailing whitespace. Words are separated by whitespace; in scripts
// written without spaces (CJK, Thai, …) each character counts as a word. Never cuts a UTF-8 sequence.
// Nothing heard (heard_ms <= 0, or no audio) gives ""; all of it (heard_ms >= audio_ms) gives `text`.
[[nodiscard]] std::string_view heard_prefix(std::string_view text, std::int64_t heard_ms, std::int64_t audio_ms);

}  // namespace mb::call
