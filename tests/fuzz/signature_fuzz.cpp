// X-Twilio-Signature: for any token, URL and params, the signature we compute validates (unless the
// token is empty), does not depend on param order, stops validating when a param changes, and an
// arbitrary header validates only if it has a signature's shape.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "protocol/base64.hpp"
#include "protocol/twilio_signature.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

namespace proto = mb::protocol;

constexpr std::size_t signature_chars = 28;  // base64 of a 20-byte HMAC-SHA1

void check_changed_param(const std::string& token, const std::string& url, const proto::form_fields& params,
                         std::size_t index, const std::string& signature) {
  proto::form_fields changed = params;
  // A byte no URL variant adds or removes, so no variant can absorb the change.
  changed[index].second += '\x01';
  // Signing dedups equal pairs: when the change creates or removes a duplicate the signed data may
  // legitimately stay the same. Otherwise it gains exactly one byte.
  if (std::count(params.begin(), params.end(), params[index]) != 1 ||
      std::count(params.begin(), params.end(), changed[index]) != 0)
    return;
  MB_FUZZ_CHECK(proto::twilio_signature(token, url, changed) != signature);
  MB_FUZZ_CHECK(!proto::validate_twilio_signature(token, url, changed, signature));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string token = in.ConsumeRandomLengthString(64);
  const std::string url = in.ConsumeRandomLengthString(512);
  proto::form_fields params(in.ConsumeIntegralInRange<std::size_t>(0, 8));
  for (auto& [name, value] : params) {
    name = in.ConsumeRandomLengthString(64);
    value = in.ConsumeRandomLengthString(64);
  }
  const std::string header = in.ConsumeRemainingBytesAsString();

  const bool header_valid = proto::validate_twilio_signature(token, url, params, header);
  if (header_valid) MB_FUZZ_CHECK(!token.empty() && header.size() == signature_chars);
  MB_FUZZ_CHECK(!proto::validate_twilio_signature(token, url, params, ""));

  const auto signature = proto::twilio_signature(token, url, params);
  MB_FUZZ_CHECK(signature.size() == signature_chars && proto::is_base64(signature));
  MB_FUZZ_CHECK(proto::base64_decoded_size(signature) == 20);
  MB_FUZZ_CHECK(proto::validate_twilio_signature(token, url, params, signature) == !token.empty());

  proto::form_fields reversed(params.rbegin(), params.rend());
  MB_FUZZ_CHECK(proto::twilio_signature(token, url, reversed) == signature);
  for (std::size_t i = 0; i < params.size(); ++i) check_changed_param(token, url, params, i, signature);

  // The WebSocket upgrade: no params, and the URL with a trailing slash is accepted too.
  const auto stream_signature = proto::twilio_signature(token, url, {});
  MB_FUZZ_CHECK(proto::validate_twilio_stream_signature(token, url, stream_signature) == !token.empty());
  if (url.find_first_of("?#") == std::string::npos && (url.empty() || url.back() != '/')) {
    const auto slash_signature = proto::twilio_signature(token, url + "/", {});
    MB_FUZZ_CHECK(proto::validate_twilio_stream_signature(token, url, slash_signature) == !token.empty());
  }

  const auto digest = proto::sha256_hex(header);
  MB_FUZZ_CHECK(digest.size() == 64 && digest.find_first_not_of("0123456789abcdef") == std::string::npos);
  return 0;
}
