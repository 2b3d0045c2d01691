#pragma once
// Where each response.output_audio.delta's bytes come from, and their base64 for the first
// responses of every session. All sessions send the same pattern for response n, so encoding it
// once saves the per-delta pattern and base64 work that dominates a many-session load test.
//
// Geometry: an assistant item has item_bytes() = response_ms · 8 μ-law bytes, sent in
// chunks_per_item() deltas of chunk_bytes (the last one may be shorter). Chunk j of item k of
// response n covers pattern offsets [k·item_bytes + j·chunk_bytes, … + chunk_len(j)).
//
// @par Thread Safety
// Immutable after construction; safe to share between threads.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/upstream_simulator.hpp"

namespace mb::simulator {

class delta_cache {
 public:
  explicit delta_cache(const simulator_options& options);

  [[nodiscard]] std::uint64_t item_bytes() const noexcept { return item_bytes_; }
  [[nodiscard]] std::uint32_t chunks_per_item() const noexcept { return chunks_per_item_; }
  [[nodiscard]] std::uint64_t chunk_len(std::uint32_t chunk) const noexcept;
  [[nodiscard]] std::uint64_t chunk_offset(std::uint32_t item, std::uint32_t chunk) const noexcept {
    return item * item_bytes_ + std::uint64_t{chunk} * chunk_bytes_;
  }

  // Base64 of the chunk. `scratch` holds the result when the response is not cached.
  [[nodiscard]] std::string_view base64(std::uint32_t response, std::uint32_t item, std::uint32_t chunk,
                                        std::string& scratch) const;

 private:
  [[nodiscard]] std::string encode(std::uint32_t response, std::uint32_t item, std::uint32_t chunk) const;

  std::uint64_t item_bytes_;
  std::uint64_t chunk_bytes_;
  std::uint32_t chunks_per_item_;
  std::uint32_t items_;
  std::vector<std::vector<std::string>> cached_;  // [response][item · chunks_per_item + chunk]
};

}  // namespace mb::simulator
