#include "simulator/tool_webhook.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace mb::simulator {
namespace {

namespace json = boost::json;

constexpr std::size_t max_tool_name = 64;

template <class Number>
std::optional<Number> number_of(std::string_view text) {
  Number value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<tool_reply> parse_tool_reply(std::string_view spec) {
  const auto colon = spec.find(':');
  const std::string_view word = spec.substr(0, colon);
  const std::string_view arg = colon == std::string_view::npos ? std::string_view() : spec.substr(colon + 1);
  const bool has_arg = colon != std::string_view::npos;
  tool_reply reply;
  if (word == "echo" && !has_arg) return reply;
  if (word == "invalid" && !has_arg) {
    reply.kind = tool_reply_kind::invalid_json;
    return reply;
  }
  if (word == "oversize" && !has_arg) {
    reply.kind = tool_reply_kind::oversize;
    return reply;
  }
  if (word == "json" && has_arg) {
    json::error_code ec;
    (void)json::parse(arg, ec);
    if (ec) return std::nullopt;
    reply.kind = tool_reply_kind::fixed;
    reply.body = arg;
    return reply;
  }
  if (word == "status" && has_arg) {
    const auto status = number_of<unsigned>(arg);
    if (!status || *status < 100 || *status > 599) return std::nullopt;
    reply.kind = tool_reply_kind::fixed;
    reply.status = *status;
    reply.body = R"({"error":"scripted status )" + std::string(arg) + "\"}";
    return reply;
  }
  if (word == "delay" && has_arg) {
    const auto ms = number_of<std::uint32_t>(arg);
    if (!ms) return std::nullopt;
    reply.delay = std::chrono::milliseconds(*ms);
    return reply;
  }
  return std::nullopt;
}

std::optional<std::string> tool_name_of(std::string_view target) {
  constexpr std::string_view prefix = "/tools/";
  if (!target.starts_with(prefix)) return std::nullopt;
  const std::string_view name = target.substr(prefix.size());
  const bool plain = !name.empty() && name.size() <= max_tool_name && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  if (!plain) return std::nullopt;
  return std::string(name);
}

std::string tool_reply_body(const tool_reply& reply, std::string_view tool, std::string_view request_body) {
  switch (reply.kind) {
    case tool_reply_kind::fixed: return reply.body;
    case tool_reply_kind::invalid_json: return R"({"ok":true,"result":)";
    case tool_reply_kind::oversize: {
      constexpr std::string_view head = R"({"ok":true,"padding":")";
      constexpr std::string_view tail = "\"}";
      std::string body(head);
      body.append(oversize_reply_bytes - head.size() - tail.size(), 'x');
      body.append(tail);
      return body;
    }
    case tool_reply_kind::echo: break;
  }
  json::error_code ec;
  const json::value request = json::parse(request_body, ec);
  json::value arguments = nullptr;
  if (!ec && request.is_object())
    if (const json::value* a = request.as_object().if_contains("arguments")) arguments = *a;
  return json::serialize(json::object{{"ok", true}, {"tool", tool}, {"arguments", std::move(arguments)}});
}

}  // namespace mb::simulator
