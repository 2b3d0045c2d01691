#include "simulator/delta_cache.hpp"

#include <algorithm>

#include "protocol/base64.hpp"
#include "simulator/audio_pattern.hpp"

namespace mb::simulator {
namespace {

constexpr std::uint64_t max_cached_responses = 16;
constexpr std::uint64_t cache_budget_bytes = 8 << 20;

}  // namespace

delta_cache::delta_cache(const simulator_options& options)
    : item_bytes_(std::uint64_t{options.response_ms} * 8),
      chunk_bytes_(options.chunk_bytes),
      chunks_per_item_(static_cast<std::uint32_t>((item_bytes_ + chunk_bytes_ - 1) / chunk_bytes_)),
      items_(options.audio_items_per_response) {
  const std::uint64_t per_response = items_ * item_bytes_ * 4 / 3 + 1;
  const std::uint64_t count = std::min(max_cached_responses, cache_budget_bytes / per_response);
  cached_.resize(count);
  for (std::uint32_t n = 0; n < count; ++n) {
    cached_[n].reserve(std::size_t{items_} * chunks_per_item_);
    for (std::uint32_t k = 0; k < items_; ++k)
      for (std::uint32_t j = 0; j < chunks_per_item_; ++j) cached_[n].push_back(encode(n, k, j));
  }
}

std::uint64_t delta_cache::chunk_len(std::uint32_t chunk) const noexcept {
  const std::uint64_t start = std::uint64_t{chunk} * chunk_bytes_;
  return start >= item_bytes_ ? 0 : std::min(chunk_bytes_, item_bytes_ - start);
}

std::string_view delta_cache::base64(std::uint32_t response, std::uint32_t item, std::uint32_t chunk,
                                     std::string& scratch) const {
  if (response < cached_.size()) return cached_[response][std::size_t{item} * chunks_per_item_ + chunk];
  scratch = encode(response, item, chunk);
  return scratch;
}

std::string delta_cache::encode(std::uint32_t response, std::uint32_t item, std::uint32_t chunk) const {
  std::string bytes(chunk_len(chunk), '\0');
  fill_assistant_audio(response, chunk_offset(item, chunk),
                       {reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size()});
  return protocol::base64_encode(bytes);
}

}  // namespace mb::simulator
