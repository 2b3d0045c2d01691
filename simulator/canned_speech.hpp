#pragma once
// The words of a canned transcript, released as the audio they belong to goes out: of W words
// spread over C audio chunks, word w is due just before chunk w·C/W. Every word but the first
// keeps its leading space, so the released words concatenate to the text. Pure.
//
// @par Thread Safety
// Not thread-safe; one instance per spoken item or turn.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mb::simulator {

// What the simulated model says in item `item` of its response `response_index` (0-based): "This is
// simulated reply number N." for the first item, "This is part K of simulated reply number N." after.
[[nodiscard]] inline std::string assistant_reply_text(std::uint32_t response_index, std::uint32_t item) {
  const std::string number = std::to_string(response_index + 1) + ".";
  if (item == 0) return "This is simulated reply number " + number;
  return "This is part " + std::to_string(item + 1) + " of simulated reply number " + number;
}

class canned_speech {
 public:
  canned_speech() = default;
  explicit canned_speech(std::string text) : text_(std::move(text)) {
    for (std::size_t i = 0; i < text_.size(); ++i)
      if (text_[i] == ' ') word_ends_.push_back(i);
    word_ends_.push_back(text_.size());
  }

  // The chunk before which word `word` of `words` is due, out of `chunks`; word `words` (one past
  // the last) is due at `chunks`, the end of the audio.
  [[nodiscard]] static std::uint64_t due_chunk(std::uint64_t word, std::uint64_t words, std::uint64_t chunks) noexcept {
    return word * chunks / words;
  }

  // The next word due before chunk `chunk` of `chunks`, once; nullopt when none is due yet.
  [[nodiscard]] std::optional<std::string_view> next_due(std::uint64_t chunk, std::uint64_t chunks) {
    if (released_ >= words() || due_chunk(released_, words(), chunks) > chunk) return std::nullopt;
    const std::size_t begin = released_ == 0 ? 0 : word_ends_[released_ - 1];
    const std::string_view word(text_.data() + begin, word_ends_[released_] - begin);
    ++released_;
    return word;
  }

  [[nodiscard]] std::size_t words() const noexcept { return word_ends_.size(); }
  [[nodiscard]] std::size_t released() const noexcept { return released_; }
  // The words released so far.
  [[nodiscard]] std::string_view spoken() const noexcept {
    return {text_.data(), released_ == 0 ? 0 : word_ends_[released_ - 1]};
  }

 private:
  std::string text_;
  std::vector<std::size_t> word_ends_;
  std::size_t released_ = 0;
};

}  // namespace mb::simulator
