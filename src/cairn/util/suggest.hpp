#pragma once

// Did-you-mean: the one helper every lookup of a name uses (backends, stages, config
// keys, frontmatter fields, fix names, campaigns, CLI verbs and flags).

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::util {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
// two adjacent characters each cost 1. Case-sensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The largest distance at which `name` still reads as a typo of another name: 1 for
// names of up to 4 characters, 2 up to 8, 3 beyond.
std::size_t typo_budget(std::string_view name);

// The known name closest to `name` within typo_budget(name) (the first of equally close
// ones; a case-insensitive match counts as distance 0), or nullopt when none is close
// enough or `name` is itself known.
std::optional<std::string> closest(std::string_view name, std::span<const std::string> known);
std::optional<std::string> closest(std::string_view name, std::span<const std::string_view> known);

// "; did you mean `x`?" when closest() finds one, else "". Appended to the message of
// the lookup that failed.
std::string did_you_mean(std::string_view name, std::span<const std::string> known);
std::string did_you_mean(std::string_view name, std::span<const std::string_view> known);

}  // namespace cairn::util
