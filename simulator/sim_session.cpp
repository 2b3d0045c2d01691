#include "simulator/sim_session.hpp"

#include <algorithm>
#include <cctype>
#include <exception>
#include <iterator>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "protocol/base64.hpp"
#include "protocol/simdjson_parse.hpp"
#include "simulator/audio_pattern.hpp"

namespace mb::simulator {
namespace {

namespace json = boost::json;

// One parser per thread: parsing never spans a co_await, and sharing it spares thousands of
// sessions their own parser buffers.
simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// Which credential header the upgrade carried, by the name session_snapshot::credentials uses.
std::string credentials_in(const net::upgrade_request& request) {
  if (has_bearer_token(request.header("Authorization"))) return "bearer";
  if (!request.header("api-key").empty()) return "api-key";
  if (!request.header("x-goog-api-key").empty()) return "x-goog-api-key";
  return {};
}

std::string describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const asio::multiple_exceptions& m) {
    return describe(m.first_exception());
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace

bool has_bearer_token(std::string_view authorization) noexcept {
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() <= scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return false;
  return authorization.find_first_not_of(' ', scheme.size()) != std::string_view::npos;
}

sim_session::sim_session(state_ptr state, asio::any_io_executor strand, std::uint64_t number,
                         upstream::provider_kind provider)
    : state_(std::move(state)),
      options_(state_->options),
      number_(number),
      provider_(provider),
      pace_timer_(strand, clock::time_point::max()),
      delay_timer_(std::move(strand)) {
  set_chunk_audio_ms(options_.chunk_bytes / 8.0);  // μ-law: 8 bytes per ms
}

// ---------------------------------------------------------------------------------------------
// Coroutines

net::awaitable<void> sim_session::run(net::accept_result accepted) {
  socket_ = std::move(accepted.socket);
  writer_.emplace(*socket_, options_.writer_queue);
  started_ = clock::now();

  session_snapshot record;
  record.number = number_;
  record.provider = provider_;
  record.target = std::move(accepted.request.target);
  record.had_authorization = has_bearer_token(accepted.request.header("Authorization"));
  record.credentials = credentials_in(accepted.request);
  record.key_in_query = credential_in_query(record.target);
  open(record);
  bool stopping = false;
  {
    std::lock_guard lock(state_->mutex);
    record_ = state_->records.size();
    state_->records.push_back(record);
    state_->live.emplace(number_, weak_from_this());
    stopping = state_->stopping;
  }
  state_->changed.notify_all();
  state_->sessions_active.fetch_add(1, std::memory_order_relaxed);
  if (provider_ == upstream::provider_kind::openai_live || provider_ == upstream::provider_kind::azure_live)
    state_->live_sessions.fetch_add(1, std::memory_order_relaxed);
  if (provider_ == upstream::provider_kind::gemini_live)
    state_->gemini_sessions.fetch_add(1, std::memory_order_relaxed);
  if (auto* probe = options_.probe.get()) probe->on_session_opened(number_, provider_);
  if (options_.log_sessions)
    spdlog::info("simulator: session {} ({}, {}) started: target={} authorization={}", number_, record.session_id,
                 upstream::to_string(provider_), record.target, record.had_authorization ? "bearer" : "none");

  opened();
  if (stopping) close({1001, "simulator stopping"});

  try {
    using namespace asio::experimental::awaitable_operators;
    co_await (read_loop() && write_loop() && pace_loop());
  } catch (...) {
    spdlog::error("simulator: session {} failed: {}", number_, describe(std::current_exception()));
    socket_->abort();
  }
  finish_record(end_status_);
}

net::awaitable<void> sim_session::read_loop() {
  for (;;) {
    const auto result = co_await socket_->read(frame_, simdjson::SIMDJSON_PADDING);
    if (result.status == net::read_status::message) {
      handle_frame();
    } else if (result.status == net::read_status::binary_message) {
      client_event_id_.clear();
      note_received({});
      reject_event("Binary messages are not supported; send JSON text.", "");
    } else {
      end_status_ = result.status;
      break;
    }
    if (delayed_reply_) {
      delay_timer_.expires_after(std::chrono::milliseconds(options_.session_updated_delay_ms));
      co_await delay_timer_.async_wait(net::as_tuple_awaitable);
      std::exchange(delayed_reply_, nullptr)();
    }
  }
  reader_done_ = true;
  ending_ = true;
  pace_timer_.cancel();
  reading_ended();
  if (end_status_ == net::read_status::closed)
    writer_->close({1000, ""});
  else
    writer_->abort_now();
}

net::awaitable<void> sim_session::write_loop() {
  co_await writer_->run();
  // A failed write leaves the reader waiting on a socket nobody will write to again.
  if (!reader_done_ && writer_->error()) socket_->abort();
}

net::awaitable<void> sim_session::pace_loop() {
  while (!ending_) {
    // Re-arming the timer cancels this wait; only a real expiry is a tick.
    co_await pace_timer_.async_wait(net::as_tuple_awaitable);
    if (ending_) break;
    if (pace_timer_.expiry() <= clock::now()) {
      pace_timer_.expires_at(clock::time_point::max());
      // A client that does not read gets its audio later rather than an overflowing queue.
      if (client_lagging())
        schedule_tick(clock::now() + chunk_period());
      else
        on_tick();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Hooks (any thread)

void sim_session::drop() {
  asio::post(pace_timer_.get_executor(), [self = shared_from_this()] {
    if (!self->writer_ || self->writer_->done()) return;
    self->closed_by_simulator_ = true;
    self->delay_timer_.cancel();
    self->writer_->abort_now();
  });
}

void sim_session::close(net::close_reason reason) {
  asio::post(pace_timer_.get_executor(), [self = shared_from_this(), reason = std::move(reason)]() mutable {
    self->close_now(std::move(reason));
  });
}

void sim_session::inject(std::string text) {
  asio::post(pace_timer_.get_executor(), [self = shared_from_this(), text = std::move(text)] {
    if (self->writer_) self->send([&text](std::string& s) { s.assign(text); });
  });
}

void sim_session::inject_error(std::string type, std::string code, std::string message) {
  asio::post(pace_timer_.get_executor(),
             [self = shared_from_this(), type = std::move(type), code = std::move(code), message = std::move(message)] {
               if (!self->writer_ || !self->accepts_injected_errors()) return;
               self->client_event_id_.clear();
               self->send_error(type, code, message, "");
             });
}

// ---------------------------------------------------------------------------------------------
// Client events

void sim_session::handle_frame() {
  client_event_id_.clear();
  simdjson::dom::element doc;
  simdjson::dom::object event;
  if (protocol::parse_padded(thread_parser(), frame_, frame_.capacity()).get(doc) || doc.get_object().get(event)) {
    note_received({});
    return reject_event("The event is not a JSON object.", "");
  }
  handle_message(event);
}

void sim_session::handle_message(simdjson::dom::object event) {
  std::string_view type;
  const bool has_type = !event["type"].get_string().get(type);
  std::string_view event_id;
  if (!event["event_id"].get_string().get(event_id)) client_event_id_.assign(event_id);
  note_received(has_type ? type : std::string_view{});
  if (!has_type) return reject_event("The 'type' field is missing.", "type");
  handle_event(type, event);
}

void sim_session::reject_event(std::string_view message, std::string_view param) {
  send_error("invalid_request_error", "invalid_event", message, param);
}

std::optional<json::object> sim_session::event_object(std::vector<std::string> session_snapshot::*log) {
  const std::string_view raw(frame_.data(), frame_.size());
  update_record([&](session_snapshot& r) { (r.*log).emplace_back(raw); });
  boost::system::error_code ec;
  json::value event = json::parse(raw, ec);
  if (ec || !event.is_object()) {
    reject_event("The event is not valid JSON.", "");
    return std::nullopt;
  }
  return std::move(event.get_object());
}

void sim_session::send_config_error(const config_error& e) {
  send_error("invalid_request_error", e.code, e.message, e.param);
}

void sim_session::note_received(std::string_view type) {
  ++received_;
  state_->messages_received.fetch_add(1, std::memory_order_relaxed);
  update_record([&](session_snapshot& r) {
    ++r.messages_received;
    if (options_.record_events) r.received_types.emplace_back(type);
  });
}

bool sim_session::take_audio(std::string_view audio_b64) {
  if (!protocol::base64_decode(audio_b64, decoded_)) return false;
  const std::string& bytes = decoded_;
  if (auto* probe = options_.probe.get())
    probe->on_input_audio(number_, {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  state_->audio_bytes_received.fetch_add(bytes.size(), std::memory_order_relaxed);
  update_record([&](session_snapshot& r) {
    ++r.input_audio_messages;
    r.input_audio_bytes += bytes.size();
    if (options_.record_audio) r.input_audio.insert(r.input_audio.end(), bytes.begin(), bytes.end());
  });
  return true;
}

// ---------------------------------------------------------------------------------------------
// Output

std::string_view sim_session::audio_chunk(std::uint32_t response, std::uint32_t item, std::uint32_t chunk) {
  std::string_view b64 = state_->deltas.base64(response, item, chunk, scratch_);
  if (auto* probe = options_.probe.get()) {
    if (b64.data() != scratch_.data()) scratch_.assign(b64);
    probe->on_output_audio(number_, response, state_->deltas.chunk_offset(item, chunk), scratch_);
    b64 = scratch_;
  }
  state_->audio_deltas_sent.fetch_add(1, std::memory_order_relaxed);
  return b64;
}

std::string_view sim_session::pcm_chunk(std::uint32_t response, std::uint64_t offset, std::uint64_t samples,
                                        std::uint32_t rate_hz) {
  pcm_.resize(samples * 2);
  fill_assistant_pcm16(response, offset, rate_hz, {reinterpret_cast<std::uint8_t*>(pcm_.data()), pcm_.size()});
  protocol::base64_encode(pcm_, scratch_);
  state_->audio_deltas_sent.fetch_add(1, std::memory_order_relaxed);
  return scratch_;
}

void sim_session::reply_to_configuration(std::function<void()> reply) {
  if (options_.close_after_configuration != 0)
    reply = [this, confirm = std::move(reply)] {
      confirm();
      close_now({options_.close_after_configuration, "simulated failure after configuration"});
    };
  if (options_.session_updated_delay_ms > 0)
    delayed_reply_ = std::move(reply);
  else
    reply();
}

void sim_session::close_now(net::close_reason reason) {
  if (!writer_ || writer_->done()) return;
  closed_by_simulator_ = true;
  delay_timer_.cancel();
  update_record([&](session_snapshot& r) {
    r.simulator_close_code = reason.code;
    r.simulator_close_reason = reason.reason;
  });
  writer_->close(std::move(reason));
}

void sim_session::emit_json(std::string_view type, json::object fields) {
  json::object event;
  event.reserve(fields.size() + 2);
  event["type"] = type;
  event["event_id"] = next_event_id();
  for (auto& field : fields) event[field.key()] = std::move(field.value());
  send([&event](std::string& s) { s = json::serialize(event); });
}

void sim_session::overflow() {
  overflowed_ = true;
  closed_by_simulator_ = true;
  state_->overflows.fetch_add(1, std::memory_order_relaxed);
  writer_->abort_now();
}

std::string sim_session::next_event_id() { return fmt::format("event_{}_{}", number_, ++event_seq_); }

void sim_session::set_chunk_audio_ms(double audio_ms) {
  chunk_period_ = std::chrono::microseconds(
      std::max<std::int64_t>(1, static_cast<std::int64_t>(audio_ms * 1000.0 / options_.speed)));
}

bool sim_session::client_lagging() const noexcept { return writer_->queued() * 2 > options_.writer_queue; }

void sim_session::schedule_tick(clock::time_point at) {
  next_tick_ = at;
  pace_timer_.expires_at(at);
}

void sim_session::schedule_first_chunk() {
  schedule_tick(clock::now() + std::chrono::milliseconds(options_.first_audio_delay_ms) + chunk_period());
}

void sim_session::schedule_next_chunk() {
  // Fixed cadence without drift; after a stall, resume from now rather than bursting.
  schedule_tick(std::max(next_tick_ + chunk_period(), clock::now()));
}

void sim_session::finish_record(net::read_status status) {
  const net::close_reason peer = socket_->peer_close_reason();
  {
    std::lock_guard lock(state_->mutex);
    session_snapshot& r = state_->records[record_];
    r.closed = true;
    r.close_code = peer.code;
    r.close_reason = peer.reason;
    r.clean_close = status == net::read_status::closed && peer.code != 0;
    r.closed_by_simulator = closed_by_simulator_;
    state_->live.erase(number_);
  }
  state_->changed.notify_all();
  state_->sessions_active.fetch_sub(1, std::memory_order_relaxed);
  if (options_.log_sessions)
    spdlog::info("simulator: session {} ended after {:.1f} s: {} events in, {} out, {} responses, close {}{}", number_,
                 std::chrono::duration<double>(clock::now() - started_).count(), received_, sent_, responses_started_,
                 peer.code, closed_by_simulator_ ? " (by simulator)" : "");
}

}  // namespace mb::simulator
