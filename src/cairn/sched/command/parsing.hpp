#pragma once

// What the command backend's presets share when they read a tool's answer: trimmed
// lines, number-or-string JSON fields (qstat and bjobs print numbers as strings), and
// records of one id with task indices folded into one job.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <cairn/sched/command.hpp>
#include <cairn/util/strings.hpp>

namespace cairn::sched::command {

using json = nlohmann::json;

// util/strings.hpp's, for the presets.
using util::lower;
using util::to_int;
using util::trim;
// Whether `hay` contains `needle`, ignoring ASCII case.
bool icontains(std::string_view hay, std::string_view needle);
// `s`, cut to `n` characters and ending in "..." when it was longer.
std::string clip(std::string_view s, std::size_t n = 160);

// The non-empty trimmed lines of `text` with their 1-based line numbers.
std::vector<std::pair<int, std::string_view>> numbered_lines(std::string_view text);

// The field `key` of a JSON object as a string: strings as they are, numbers and
// booleans as JSON prints them; "" when absent, null or of another type.
std::string json_str(const json& j, const char* key);
// The field as an integer: an integer, a double that fits, or a string of digits.
std::optional<std::int64_t> json_int(const json& j, const char* key);
// The field as a number: a number, or a string std::stod reads.
std::optional<double> json_double(const json& j, const char* key);
// `text` as one JSON document. Fails (findings) saying `what` printed no JSON, with its
// first line.
Expected<json> parse_document(std::string_view what, std::string_view text);

// The first group of the RE2 `pattern` in `text`; "" when the pattern is invalid, has no
// group or does not match.
std::string first_group(const std::string& pattern, std::string_view text);

// Status records in the order a tool listed them. Records of one id with a task index
// (an array's elements) become one job whose tasks they are (engine::summarize_tasks);
// an id without tasks keeps its last record.
class JobRows {
 public:
  // Adds `job`; a non-empty `task` makes it one task of its id.
  void add(CommandJob job, const std::string& task);
  // The jobs, one per id, in first-listed order.
  std::vector<CommandJob> fold() &&;

 private:
  std::map<std::string, std::vector<CommandJob>> m_by_id;
  std::vector<std::string> m_order;
};

}  // namespace cairn::sched::command
