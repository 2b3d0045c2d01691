#include "tests/integration/support/tls_forwarder.hpp"

#include <array>
#include <cstdlib>
#include <stdexcept>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>

namespace mb::test {

namespace {
using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;
using namespace asio::experimental::awaitable_operators;

void run(const std::string& command) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + command);
}
}  // namespace

test_pki make_test_pki() {
  test_pki pki;
  pki.dir = std::filesystem::temp_directory_path() / ("mb-pki-" + std::to_string(::getpid()) + "-" +
                                                      std::to_string(std::rand()));
  std::filesystem::create_directories(pki.dir);
  pki.ca_cert = pki.dir / "ca.pem";
  pki.server_cert = pki.dir / "server.pem";
  pki.server_key = pki.dir / "server.key";
  const auto d = pki.dir.string();
  run("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=mediabridge-test-ca -keyout " + d +
      "/ca.key -out " + d + "/ca.pem");
  run("openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout " + d + "/server.key -out " + d + "/server.csr");
  run("printf 'subjectAltName=DNS:localhost\\n' > " + d + "/san.ext");
  run("openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.pem -CAkey " + d + "/ca.key -CAcreateserial -days 1 -out " +
      d + "/server.pem -extfile " + d + "/san.ext");
  return pki;
}

struct tls_forwarder::impl {
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_server};
  tcp::acceptor acceptor{ioc};
  std::uint16_t backend;

  static net::awaitable<void> pipe(auto& from, auto& to) {
    std::array<char, 16384> buf;
    for (;;) {
      auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), net::as_tuple_awaitable);
      if (ec) break;
      auto [wec, w] = co_await asio::async_write(to, asio::buffer(buf.data(), n), net::as_tuple_awaitable);
      if (wec) break;
    }
    error_code ignored;
    to.lowest_layer().close(ignored);
    from.lowest_layer().close(ignored);
  }

  net::awaitable<void> serve(tcp::socket client) {
    ssl::stream<tcp::socket> tls(std::move(client), ctx);
    auto [hec] = co_await tls.async_handshake(ssl::stream_base::server, net::as_tuple_awaitable);
    if (hec) co_return;  // the client refused our certificate: exactly what some tests expect
    tcp::socket plain(ioc);
    auto [cec] = co_await plain.async_connect({asio::ip::make_address("127.0.0.1"), backend}, net::as_tuple_awaitable);
    if (cec) co_return;
    co_await (pipe(tls, plain) && pipe(plain, tls));
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(net::as_tuple_awaitable);
      if (ec) co_return;
      asio::co_spawn(ioc, serve(std::move(socket)), asio::detached);
    }
  }
};

tls_forwarder::tls_forwarder(const test_pki& pki, std::uint16_t backend_port) : impl_(std::make_unique<impl>()) {
  impl_->backend = backend_port;
  impl_->ctx.use_certificate_chain_file(pki.server_cert.string());
  impl_->ctx.use_private_key_file(pki.server_key.string(), ssl::context::pem);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  thread_ = std::thread([this] { impl_->ioc.run(); });
}

tls_forwarder::~tls_forwarder() {
  impl_->ioc.stop();
  thread_.join();
}

}  // namespace mb::test
