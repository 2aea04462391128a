#pragma once

// The small string operations every module needs, in one place. ASCII only: the texts
// they see (scheduler output, cells, keys) are compared by their ASCII parts, and UTF-8
// bytes above 0x7F pass through untouched. Pure: no I/O, no allocation beyond the result.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::util {

// `s` without leading and trailing ASCII whitespace (space, \t, \n, \r, \f, \v).
std::string_view trim(std::string_view s);

// Whether `s` holds only spaces and tabs (an empty string is blank).
bool is_blank(std::string_view s);

// `s` with ASCII letters lowered.
std::string lower(std::string_view s);

// `s` lowered, runs of blanks (spaces, tabs) as one space, none at either end:
// "Walltime  X2 " -> "walltime x2". For names a person writes by hand.
std::string lower_words(std::string_view s);

// `parts` with `sep` between them.
std::string join(const std::vector<std::string>& parts, std::string_view sep);

// The whole of `s` (trimmed) as a decimal integer, or nullopt when it is not one or does
// not fit in 64 bits.
std::optional<std::int64_t> to_int(std::string_view s);

// `s` on one line: every \n and \r becomes a space.
std::string one_line(std::string_view s);

}  // namespace cairn::util
