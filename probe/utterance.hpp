#pragma once
// The caller's utterance a probe run plays: "Hello, can you hear me? What time is it?", spoken by
// espeak-ng, about 1.8 s of 8 kHz μ-law (probe/assets/utterance.ulaw, made by
// scripts/make-probe-utterance), embedded at build time: nothing is read or fetched at run time.

#include <cstdint>
#include <span>

namespace mb::probe {

[[nodiscard]] std::span<const std::uint8_t> utterance() noexcept;

}  // namespace mb::probe
