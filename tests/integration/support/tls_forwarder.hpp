#pragma once
// A TLS terminator for tests: accepts TLS on 127.0.0.1 with a given certificate and pipes the
// plaintext to a backend port, like a proxy in front of the upstream. Also makes throwaway CAs.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "net/asio.hpp"

namespace mb::test {

struct test_pki {
  std::filesystem::path dir;
  std::filesystem::path ca_cert;
  std::filesystem::path server_cert;  // for DNS:localhost only, so 127.0.0.1 is a wrong host name
  std::filesystem::path server_key;
};

// Generates a throwaway CA and a server certificate with the openssl command (bounded, local).
test_pki make_test_pki();

class tls_forwarder {
 public:
  tls_forwarder(const test_pki& pki, std::uint16_t backend_port);
  ~tls_forwarder();
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace mb::test
