#pragma once
// Reading what a server wrote: a log file, and one sample of a Prometheus exposition.

#include <fstream>
#include <sstream>
#include <string>

namespace mb::test {

// The whole file; "" when it cannot be read.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The value of the sample line that starts with `series ` ("" when absent).
inline std::string sample(const std::string& exposition, const std::string& series) {
  const auto at = exposition.find("\n" + series + " ");
  if (at == std::string::npos) return "";
  const auto start = at + series.size() + 2;
  return exposition.substr(start, exposition.find('\n', start) - start);
}

}  // namespace mb::test
