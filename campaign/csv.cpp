#include "campaign/csv.hpp"

#include <algorithm>
#include <optional>

#include "agents/prompt_template.hpp"

namespace mb::campaign {
namespace {

struct record {
  std::size_t line = 0;
  std::vector<std::string> fields;
  std::optional<std::string> error;  // broken quoting: the record is reported, not used
};

// Reads one record at a time; `line_` counts line breaks, quoted ones included.
class record_reader {
 public:
  explicit record_reader(std::string_view text) : text_(text) {}

  [[nodiscard]] bool at_end() const { return pos_ >= text_.size(); }

  // The next record; blank lines yield a record with one empty field.
  record next() {
    record r{line_, {}, std::nullopt};
    std::string field;
    for (;;) {
      if (at_end()) break;
      const char c = text_[pos_];
      if (c == '\r' || c == '\n') {
        end_line();
        break;
      }
      if (c == ',') {
        r.fields.push_back(std::move(field));
        field.clear();
        ++pos_;
        continue;
      }
      if (c == '"' && field.empty()) {
        if (!read_quoted(field)) {
          r.error = "a quoted field is not closed";
          return r;
        }
        if (!at_end() && text_[pos_] != ',' && text_[pos_] != '\r' && text_[pos_] != '\n') {
          r.error = "text after a closing quote";
          skip_line();
          return r;
        }
        continue;
      }
      if (c == '"') {
        r.error = "a quote inside an unquoted field";
        skip_line();
        return r;
      }
      field.push_back(c);
      ++pos_;
    }
    r.fields.push_back(std::move(field));
    return r;
  }

 private:
  void end_line() {
    if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }

  void skip_line() {
    while (!at_end() && text_[pos_] != '\r' && text_[pos_] != '\n') ++pos_;
    if (!at_end()) end_line();
  }

  // From the opening quote; false when the text ends first (the rest of the CSV is then consumed).
  bool read_quoted(std::string& field) {
    ++pos_;
    while (!at_end()) {
      const char c = text_[pos_];
      if (c == '"') {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
          field.push_back('"');
          pos_ += 2;
          continue;
        }
        ++pos_;
        return true;
      }
      if (c == '\n' || (c == '\r' && !(pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n'))) ++line_;
      field.push_back(c);
      ++pos_;
    }
    return false;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

bool blank(const record& r) { return !r.error && r.fields.size() == 1 && r.fields[0].empty(); }

std::optional<std::string> header_problem(const std::vector<std::string>& names) {
  if (names.size() > max_columns)
    return "at most " + std::to_string(max_columns) + " columns (number and " + std::to_string(max_variables) +
           " variables)";
  for (auto it = names.begin(); it != names.end(); ++it) {
    if (*it != "number" && !agents::valid_variable_name(*it))
      return "column names are template names (1 to 64 of A-Z a-z 0-9 _ . -); '" +
             it->substr(0, 64) + "' is not";
    if (std::find(names.begin(), it, *it) != it) return "column '" + *it + "' is named twice";
  }
  if (std::find(names.begin(), names.end(), "number") == names.end()) return std::string("no 'number' column in the header");
  return std::nullopt;
}

// The row, or why it cannot be dialled.
std::variant<campaign_row, std::string> read_row(const record& r, const std::vector<std::string>& names) {
  if (r.error) return *r.error;
  if (r.fields.size() != names.size())
    return "expected " + std::to_string(names.size()) + " fields, found " + std::to_string(r.fields.size());
  campaign_row row{r.line, {}, {}};
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "number") {
      row.number = r.fields[i];
      if (auto problem = destination_problem(row.number)) return *problem;
      continue;
    }
    if (r.fields[i].empty()) continue;
    if (auto problem = variable_problem(names[i], r.fields[i])) return *problem;
    row.variables.emplace_back(names[i], r.fields[i]);
  }
  return row;
}

}  // namespace

std::variant<parsed_csv, csv_error> parse_campaign_csv(std::string_view csv, std::size_t max_rows) {
  record_reader reader(csv);
  std::optional<record> header;
  while (!reader.at_end() && !header) {
    auto r = reader.next();
    if (!blank(r)) header = std::move(r);
  }
  if (!header) return csv_error{"the CSV is empty: expected a header row naming 'number' and the variables"};
  if (header->error) return csv_error{"the header row: " + *header->error};
  if (auto problem = header_problem(header->fields)) return csv_error{"the header row: " + *problem};

  parsed_csv out;
  std::size_t rows = 0;
  while (!reader.at_end()) {
    auto r = reader.next();
    if (blank(r)) continue;
    if (++rows > max_rows) return csv_error{"more than " + std::to_string(max_rows) + " rows (CAMPAIGN_MAX_ROWS)"};
    auto row = read_row(r, header->fields);
    if (auto* error = std::get_if<std::string>(&row))
      out.rejected.push_back({r.line, std::move(*error)});
    else
      out.rows.push_back(std::move(std::get<campaign_row>(row)));
  }
  return out;
}

}  // namespace mb::campaign
