#include "tests/integration/support/raw_stream.hpp"

#include <boost/json.hpp>

#include "net/ws_writer.hpp"

namespace mb::test {

namespace {
template <class T>
std::optional<T> run_bounded(asio::io_context& ioc, net::awaitable<T> op, std::chrono::milliseconds timeout) {
  std::optional<T> result;
  ioc.restart();
  asio::co_spawn(ioc, std::move(op), [&](std::exception_ptr, T value) { result = std::move(value); });
  ioc.run_for(timeout);
  return result;
}
}  // namespace

raw_stream::raw_stream(std::uint16_t port, std::vector<std::pair<std::string, std::string>> headers,
                       const std::string& target) {
  net::connect_request req;
  req.url = "ws://127.0.0.1:" + std::to_string(port) + target;
  req.headers = std::move(headers);
  req.limits.idle_timeout_ms = 0;
  auto r = run_bounded(ioc_, net::connect_websocket(req, nullptr), std::chrono::seconds(5));
  if (!r) return;
  http_status_ = r->http_status;
  socket_ = std::move(r->socket);
}

raw_stream::~raw_stream() {
  if (socket_ && !closed_) socket_->abort();
}

bool raw_stream::send(const std::string& text) {
  if (!socket_) return false;
  auto ec = run_bounded(ioc_, net::write_message(*socket_, text), std::chrono::seconds(5));
  return ec && !*ec;
}

bool raw_stream::send_binary(const std::string& bytes) {
  if (!socket_) return false;
  auto ec = run_bounded(ioc_, socket_->write_binary(bytes), std::chrono::seconds(5));
  return ec && !*ec;
}

std::optional<std::string> raw_stream::read(std::chrono::milliseconds timeout) {
  if (!socket_ || closed_) return std::nullopt;
  std::string buffer;
  auto r = run_bounded(ioc_, socket_->read(buffer, 0), timeout);
  if (!r) return std::nullopt;
  if (r->status == net::read_status::message || r->status == net::read_status::binary_message) return buffer;
  closed_ = true;
  close_code_ = socket_->peer_close_reason().code;
  return std::nullopt;
}

int raw_stream::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!closed_ && std::chrono::steady_clock::now() < deadline)
    read(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
  return closed_ ? close_code_ : 0;
}

std::string raw_stream::connected_message() { return R"({"event":"connected","protocol":"Call","version":"1.0.0"})"; }

std::string raw_stream::start_message(const std::string& call_sid, const std::string& stream_sid,
                                      const std::vector<std::pair<std::string, std::string>>& parameters) {
  boost::json::object custom;
  for (const auto& [k, v] : parameters) custom[k] = v;
  return boost::json::serialize(boost::json::object{
      {"event", "start"},
      {"sequenceNumber", "1"},
      {"streamSid", stream_sid},
      {"start",
       {{"streamSid", stream_sid},
        {"accountSid", "AC0123456789abcdef0123456789abcdef"},
        {"callSid", call_sid},
        {"tracks", boost::json::array{"inbound"}},
        {"customParameters", custom},
        {"mediaFormat", {{"encoding", "audio/x-mulaw"}, {"sampleRate", 8000}, {"channels", 1}}}}}});
}

std::string raw_stream::media_message(const std::string& stream_sid, int chunk, const std::string& payload_b64) {
  return boost::json::serialize(boost::json::object{
      {"event", "media"},
      {"streamSid", stream_sid},
      {"media",
       {{"track", "inbound"}, {"chunk", std::to_string(chunk)}, {"timestamp", std::to_string(chunk * 20)},
        {"payload", payload_b64}}}});
}

std::string raw_stream::stop_message(const std::string& stream_sid) {
  return R"({"event":"stop","streamSid":")" + stream_sid + R"("})";
}

}  // namespace mb::test

namespace mb::test {
net::http_response http(std::string method, std::string url, std::vector<std::pair<std::string, std::string>> headers,
                        std::string body) {
  asio::io_context ioc;
  auto r = run_bounded(ioc, net::http_request(std::move(method), std::move(url), std::move(headers), std::move(body), nullptr, 5000),
                       std::chrono::seconds(6));
  return r.value_or(net::http_response{});
}
}  // namespace mb::test
