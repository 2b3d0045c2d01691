#pragma once
// ITU-T G.711 companding: μ-law (Twilio Media Streams, OpenAI "audio/pcmu") and A-law ("audio/pcma").
//
// Units: one code byte per sample; linear samples are signed 16-bit PCM at the same rate (8 kHz on the
// phone leg). The codes are the transmitted octets, i.e. with G.711's bit inversions already applied
// (μ-law: all bits inverted; A-law: even bits inverted, XOR 0x55).
//
// Decoded values follow the common 16-bit convention of Sun's reference g711.c: μ-law's 14-bit range
// scaled by 4 (±32124 max), A-law's 13-bit range scaled by 8 (±32256 max). Encoding matches the ITU-T
// G.191 reference encoder bit for bit: it discards the bits below that resolution, rounds to the
// nearest reconstruction value and clips at the largest code.
//
// @par Thread Safety
// All functions are pure and reentrant.

#include <cstdint>
#include <span>

namespace mb::codec {

// μ-law code of a zero sample; agents-js pads gaps in inbound Twilio audio with it. 0x7F decodes to
// zero as well ("negative zero") but the encoder never produces it.
inline constexpr std::uint8_t ulaw_silence = 0xFF;

[[nodiscard]] std::int16_t ulaw_to_linear(std::uint8_t code) noexcept;
[[nodiscard]] std::uint8_t linear_to_ulaw(std::int16_t sample) noexcept;
[[nodiscard]] std::int16_t alaw_to_linear(std::uint8_t code) noexcept;
[[nodiscard]] std::uint8_t linear_to_alaw(std::int16_t sample) noexcept;

// Decode/encode a buffer, one sample per code byte.
// Precondition: in.size() == out.size(); a mismatch throws std::length_error and writes nothing, so a
// caller bug cannot turn into an out-of-bounds write.
void decode_ulaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out);
void encode_ulaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out);

}  // namespace mb::codec
