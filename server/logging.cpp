#include "server/logging.hpp"

#include <boost/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "log/escape.hpp"

namespace mb::server {
namespace {

// %j: the message as a JSON string (quotes and escapes from Boost.JSON), for LOG_FORMAT=json.
class json_message_flag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const auto text = boost::json::serialize(boost::json::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(text.data(), text.data() + text.size());
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<json_message_flag>();
  }
};

// %q: the message with control characters escaped, for LOG_FORMAT=text. Call sites escape what a peer
// sends already; this catches any string that reaches a line unescaped, so no peer can forge a line.
class escaped_message_flag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const auto text = log::escape_for_log(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(text.data(), text.data() + text.size());
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<escaped_message_flag>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> make_log_formatter(config::log_format format) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (format == config::log_format::json)
    formatter->add_flag<json_message_flag>('j').set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":%j})");
  else
    formatter->add_flag<escaped_message_flag>('q').set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %q");
  return formatter;
}

void configure_logging(const config::settings& settings) {
  auto logger = spdlog::stderr_color_mt("mediabridge");
  logger->set_formatter(make_log_formatter(settings.log_fmt));
  logger->set_level(spdlog::level::from_str(settings.log_level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace mb::server
