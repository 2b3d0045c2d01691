#pragma once
// The dashboard's static files (web/*.html, *.css, *.js, *.svg), compiled into the binary by
// web/embed_assets.cmake. server/dashboard.cpp serves them at / and /static/<name>.
//
// @par Thread Safety
// Immutable data: safe from any thread.

#include <string_view>

namespace mb::web {

struct asset {
  std::string_view name;          // file name without folders, e.g. "app.js"
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view body;
};

// nullptr when web/ has no such file.
[[nodiscard]] const asset* find_asset(std::string_view name);

}  // namespace mb::web
