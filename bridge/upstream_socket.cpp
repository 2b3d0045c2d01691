#include "bridge/upstream_socket.hpp"

#include <string>
#include <utility>
#include <variant>

namespace mb::bridge {

void upstream_socket::attach(std::unique_ptr<net::message_socket> socket, std::size_t writer_queue,
                             net::ws_writer::write_observer observer) {
  socket_ = std::move(socket);
  writer_.emplace(*socket_, writer_queue);
  writer_->observe_writes(std::move(observer));
}

void upstream_socket::detach() noexcept {
  writer_.reset();
  socket_.reset();
}

void upstream_socket::close(net::close_reason reason) {
  if (writer_) writer_->close(std::move(reason));
}

void upstream_socket::abort_now() {
  if (writer_) writer_->abort_now();
}

const std::vector<call::action>& upstream_socket::close_for_end(call::call_state& state) {
  close_request_.clear();
  if (!writer_) return close_request_;
  if (state.upstream().caps().acknowledges_close && state.upstream_ready()) {
    state.close_upstream_session(close_request_);
    for (auto& a : close_request_)
      if (auto* e = std::get_if<call::send_upstream_event>(&a))
        writer_->emplace_timed({}, [&](std::string& s) { s.assign(e->json); });
    awaiting_answer_ = true;
    return close_request_;
  }
  writer_->close({1000, "call ended"});
  return close_request_;
}

bool upstream_socket::answered(const upstream::event& ev) {
  if (ev.kind != upstream::event_kind::session_ended || !awaiting_answer_) return false;
  awaiting_answer_ = false;
  close({1000, "call ended"});
  return true;
}

}  // namespace mb::bridge
