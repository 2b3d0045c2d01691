#pragma once
// Making a peer-controlled string safe to put in a log line: one physical line, readable, bounded.

#include <cstddef>
#include <string>
#include <string_view>

namespace mb::log {

// Sizes for peer-controlled parts of a line, in bytes of escaped text.
inline constexpr std::size_t name_bytes = 200;    // event and mark names, SIDs, item ids
inline constexpr std::size_t reason_bytes = 400;  // error messages, close reasons, end details

// Returns `text` with every byte that could break or disguise a log line escaped:
//  - \n, \r and \t as those two characters; other C0 controls, DEL and bytes that are not part of valid
//    UTF-8 as \xNN;
//  - C1 controls, U+2028/U+2029 (line and paragraph separators) and the bidirectional overrides and
//    isolates (U+202A–U+202E, U+2066–U+2069) as \uNNNN.
// Backslashes are kept as they are, so escaping is idempotent: escaping escaped text changes nothing.
// When the escaped text would exceed `max_bytes`, it is cut at a character boundary and ends with
// "...[cut N bytes]", N counting the bytes of `text` left out.
std::string escape_for_log(std::string_view text, std::size_t max_bytes = std::string_view::npos);

}  // namespace mb::log
