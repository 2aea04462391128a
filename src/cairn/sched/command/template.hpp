#pragma once

// Placeholders of command templates (parse_command_template and
// expand_command_template are declared in sched/command.hpp).

#include <set>
#include <string>
#include <string_view>

#include <cairn/sched/command.hpp>

namespace cairn::sched::command {

// Whether `s` is a placeholder name: [a-z_][a-z0-9_]*.
bool is_identifier(std::string_view s);

// The placeholders cairn fills itself ({key}, {dir}, {time}, {job_ids}, ...); a setting
// may not shadow them.
const std::set<std::string, std::less<>>& builtin_placeholders();

// Calls f(name) for each placeholder {name} in `element`; literal braces ({.metadata},
// JSON) are not placeholders.
template <class F>
void for_each_placeholder(std::string_view element, F f) {
  std::size_t i = 0;
  while ((i = element.find('{', i)) != std::string_view::npos) {
    auto close = element.find('}', i + 1);
    if (close == std::string_view::npos) return;
    auto name = element.substr(i + 1, close - i - 1);
    if (is_identifier(name)) {
      f(name);
      i = close + 1;
    } else {
      ++i;
    }
  }
}

// Whether any element of `tmpl` names the placeholder {name}.
bool uses_placeholder(const CommandTemplate& tmpl, std::string_view name);

}  // namespace cairn::sched::command
