#pragma once

// Plain-text tables for humans: columns padded to their widest cell, fitted to the
// terminal (the widest columns give way first, long cells cut with `…`; `--json` keeps
// the full text), campaign and stage statuses in colour on a terminal.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::cli {

// How human output looks on this stdout.
struct Terminal {
  bool colour = false;    // ANSI colour: stdout is a TTY, NO_COLOR unset, TERM not `dumb`
  std::size_t width = 0;  // columns to fit tables into; 0 = no limit
};

// What stdout is: colour as above; width from $COLUMNS when it is a number (so `COLUMNS=80
// cairn status | less` fits too), else the TTY's own width, else no limit. Read once.
const Terminal& terminal();

// `text` in the colour of a status word (done green, running and ready cyan, failed and
// escalated red, pending dim) when `term.colour`, else unchanged.
std::string status_colour(std::string_view text, const Terminal& term = terminal());

// `text` in bold when `term.colour` (headings), else unchanged.
std::string bold(std::string_view text, const Terminal& term = terminal());

// Renders `rows` under `header`, two spaces between columns, widths in terminal columns,
// fitted to `term.width`: while too wide, the widest column loses a column (never below
// 4), its cells (the header's too, last) cut with `…`. A column whose header is STATUS is
// coloured by status_colour(). Never fails.
std::string render_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows,
                         const Terminal& term = terminal());

}  // namespace cairn::cli
