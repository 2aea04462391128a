#include <cairn/cli/table.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include <cairn/util/text.hpp>

namespace cairn::cli {

namespace {

// No column is cut below this many columns (`ab…`-style stubs say too little to help).
constexpr std::size_t kMinColumn = 4;

Terminal detect() {
  Terminal t;
  const bool tty = isatty(STDOUT_FILENO) != 0;
  const char* no_colour = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  t.colour = tty && (no_colour == nullptr || *no_colour == '\0') &&
             !(term != nullptr && std::string(term) == "dumb");
  if (const char* columns = std::getenv("COLUMNS"); columns != nullptr && *columns != '\0') {
    char* end = nullptr;
    const long n = std::strtol(columns, &end, 10);
    if (*end == '\0' && n > 0) t.width = static_cast<std::size_t>(n);
  }
  if (t.width == 0 && tty) {
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) t.width = ws.ws_col;
  }
  return t;
}

std::string wrap(std::string_view text, std::string_view code, const Terminal& term) {
  if (!term.colour || text.empty()) return std::string(text);
  return "\x1b[" + std::string(code) + "m" + std::string(text) + "\x1b[0m";
}

}  // namespace

const Terminal& terminal() {
  static const Terminal t = detect();
  return t;
}

std::string status_colour(std::string_view text, const Terminal& term) {
  if (text == "done") return wrap(text, "32", term);
  if (text == "running" || text == "ready") return wrap(text, "36", term);
  if (text == "failed" || text == "escalated" || text == "invalid") return wrap(text, "31", term);
  if (text == "pending") return wrap(text, "2", term);
  return std::string(text);
}

std::string bold(std::string_view text, const Terminal& term) {
  return wrap(text, "1", term);
}

std::string render_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows, const Terminal& term) {
  std::vector<std::size_t> widths(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], util::display_width(row[i]));
    }
  };
  measure(header);
  for (const auto& r : rows) measure(r);
  if (term.width > 0 && !widths.empty()) {
    auto total = [&] {
      std::size_t sum = 2 * (widths.size() - 1);
      for (const std::size_t w : widths) sum += w;
      return sum;
    };
    while (total() > term.width) {
      std::size_t widest = widths.size();
      for (std::size_t i = 0; i < widths.size(); ++i) {
        if (widths[i] > kMinColumn && (widest == widths.size() || widths[i] > widths[widest])) widest = i;
      }
      if (widest == widths.size()) break;  // every column at its floor: the terminal wraps
      --widths[widest];
    }
  }
  const auto status_column = std::find(header.begin(), header.end(), "STATUS") - header.begin();
  std::string out;
  auto emit = [&](const std::vector<std::string>& row, bool is_header) {
    std::string line;
    for (std::size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = util::cut_to_width(i < row.size() ? row[i] : "", widths[i]);
      const std::size_t pad = widths[i] - util::display_width(cell);
      if (is_header) {
        line += bold(cell, term);
      } else if (static_cast<std::ptrdiff_t>(i) == status_column) {
        line += status_colour(cell, term);
      } else {
        line += cell;
      }
      if (i + 1 < widths.size()) line += std::string(pad + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  emit(header, true);
  for (const auto& r : rows) emit(r, false);
  return out;
}

}  // namespace cairn::cli
