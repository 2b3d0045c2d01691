#pragma once
// The simulated OpenAI's POST /v1/realtime/client_secrets (docs/protocols.md K1), so that demo mode and
// tests can mint client secrets without an API key. Pure: upstream_simulator.cpp records each request
// and carries the reply out.
//
// Choices where the service documents nothing: a missing or wrong key gets 401 invalid_api_key whose
// message quotes the key presented (the service masks most of it; quoting all of it tests that
// mediabridge never passes it on); a body that is not an object, or a bad expires_after or session type,
// gets 400 invalid_request_error. The secret is "ek_sim<serial>_<16 hex digits>"; the realtime WebSocket
// accepts it as it accepts any bearer.
//
// @par Thread Safety
// Pure functions and plain values.

#include <cstdint>
#include <string>
#include <string_view>

namespace mb::simulator {

// One request, as received and answered.
struct client_secret_record {
  std::string body;          // as received
  bool key_matched = false;  // its Bearer was the key the simulator expects (any, when it expects none)
  unsigned status = 0;
  std::string value;         // the secret minted; empty when refused
  std::int64_t expires_at = 0;
};

inline constexpr std::size_t max_client_secret_records = 4096;

struct client_secret_rules {
  std::string api_key;          // the Bearer accepted; empty: any non-empty one
  unsigned failure_status = 0;  // every request refused with this status (an OpenAI error body); 0: none
};

struct client_secret_reply {
  unsigned status = 200;
  std::string body;
  client_secret_record record;
};

[[nodiscard]] bool is_client_secrets_target(std::string_view target);

// The answer to one request at `now_s` (unix seconds); `serial` numbers the secrets; `entropy` makes
// each value unguessable.
[[nodiscard]] client_secret_reply mint_client_secret(const client_secret_rules& rules, std::string_view authorization,
                                                     std::string_view body, std::int64_t now_s, std::uint64_t serial,
                                                     std::uint64_t entropy);

}  // namespace mb::simulator
