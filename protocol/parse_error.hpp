#pragma once
#include <string>

namespace mb::protocol {

// Why a message was rejected, as a short phrase for the call's log line ("media.payload is not a string").
struct parse_error {
  std::string what;
};

}  // namespace mb::protocol
