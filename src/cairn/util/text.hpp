#pragma once

// Text for humans: widths in terminal columns, cutting to a width, and the part of a
// growing log not yet shown. Pure: no I/O.

#include <string>
#include <string_view>

namespace cairn::util {

// The columns `s` takes on a terminal: UTF-8 code points (so `—` is one), ANSI colour
// sequences (ESC [ ... m) not counted. Never fails.
std::size_t display_width(std::string_view s);

// `s` cut to at most `width` columns, ending in `…` when it was cut. A width of 0 gives
// "". Code points are never split. Never fails.
std::string cut_to_width(std::string_view s, std::size_t width);

// What `now` (a log's tail, fetched again) adds to `before` (the same tail fetched
// earlier): the text after the longest suffix of `before` that starts a line and is a
// prefix of `now`. All of `now` when they share nothing (the log moved on by more than
// a window, or was rewritten). Never fails.
std::string appended(std::string_view before, std::string_view now);

}  // namespace cairn::util
