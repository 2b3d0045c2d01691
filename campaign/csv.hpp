#pragma once
// A campaign's CSV (docs/tools.md, "Outbound calls and campaigns"): a header row naming `number` and
// the variable columns, then one call per row. RFC 4180 quoting: a field in double quotes may hold
// commas, line breaks and "" for a quote. Blank lines are skipped; CRLF and LF both end a row.
//
// Each bad row (wrong field count, bad number, bad variable value, broken quoting) is reported with
// its line and reason and never dialled; the other rows go on. A problem with the CSV as a whole (no
// header, no `number` column, a bad or repeated column name, too many rows or columns) rejects it.
//
// @par Thread Safety
// Pure functions.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "campaign/destination.hpp"

namespace mb::campaign {

inline constexpr std::size_t max_columns = max_variables + 1;

struct campaign_row {
  std::size_t line = 0;  // 1-based line of the CSV where the row starts (the header is line 1)
  std::string number;
  call_variables variables;  // in column order; empty cells left out
};

struct rejected_row {
  std::size_t line = 0;
  std::string error;
};

struct parsed_csv {
  std::vector<campaign_row> rows;
  std::vector<rejected_row> rejected;
};

struct csv_error {
  std::string message;
};

// `max_rows` bounds the data rows, good and bad together (CAMPAIGN_MAX_ROWS).
[[nodiscard]] std::variant<parsed_csv, csv_error> parse_campaign_csv(std::string_view csv, std::size_t max_rows);

}  // namespace mb::campaign
