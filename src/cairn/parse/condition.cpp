#include <cairn/parse/condition.hpp>

#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <cairn/util/strings.hpp>

namespace cairn::parse {

namespace {

using doc::Clause;

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

std::optional<int> to_int(std::string_view s) {
  s = util::trim(s);
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// `text` is exactly one backticked span: its content.
std::optional<std::string_view> backticked(std::string_view text) {
  if (text.size() < 3 || text.front() != '`' || text.back() != '`') return std::nullopt;
  const auto inner = text.substr(1, text.size() - 2);
  if (inner.find('`') != std::string_view::npos || util::trim(inner).empty()) return std::nullopt;
  return inner;
}

bool is_word(std::string_view w) {
  if (w.empty()) return false;
  for (char c : w) {
    if (is_space(c) || c == ',') return false;
  }
  return true;
}

// The clause, typed, or nullopt when it is none of the grammar's forms.
std::optional<Clause> typed(std::string_view text) {
  Clause c;
  c.text = std::string(text);
  if (text == "always") {
    c.kind = Clause::Kind::always;
    return c;
  }
  if (text == "approved") {
    c.kind = Clause::Kind::approved;
    return c;
  }
  if (text.size() > 11 && text.starts_with("stage ") && text.ends_with(" done")) {
    const auto name = util::trim(text.substr(6, text.size() - 6 - 5));
    if (!is_word(name)) return std::nullopt;
    c.kind = Clause::Kind::stage_done;
    c.operand = std::string(name);
    return c;
  }
  if (text.starts_with("exit")) {
    auto rest = util::trim(text.substr(4));
    if (rest.starts_with("=")) {
      if (auto n = to_int(rest.substr(1))) {
        c.kind = Clause::Kind::exit_code;
        c.exit_code = *n;
        return c;
      }
    }
    return std::nullopt;
  }
  if (text.size() > 10 && text.starts_with("no ") && text.ends_with(" in log")) {
    auto word = util::trim(text.substr(3, text.size() - 3 - 7));
    if (auto inner = backticked(word)) word = *inner;
    if (word.empty() || word.find('`') != std::string_view::npos) return std::nullopt;
    c.kind = Clause::Kind::no_word_in_log;
    c.operand = std::string(word);
    return c;
  }
  if (text.ends_with(" exits 0")) {
    if (auto cmd = backticked(util::trim(text.substr(0, text.size() - 8)))) {
      c.kind = Clause::Kind::command_ok;
      c.operand = std::string(*cmd);
      return c;
    }
    return std::nullopt;
  }
  if (text.ends_with(" exists")) {
    auto subject = util::trim(text.substr(0, text.size() - 7));
    // `N× GLOB`: a count. Accept the multiplication sign and a plain x, spaced or not.
    int count = 0;
    std::size_t digits = 0;
    while (digits < subject.size() && subject[digits] >= '0' && subject[digits] <= '9') ++digits;
    if (digits > 0) {
      auto rest = util::trim(subject.substr(digits));
      if (rest.starts_with("\xC3\x97")) {
        rest.remove_prefix(2);
      } else if (rest.starts_with("x") || rest.starts_with("X")) {
        rest.remove_prefix(1);
      } else {
        return std::nullopt;
      }
      const auto n = to_int(subject.substr(0, digits));
      if (!n || *n <= 0) return std::nullopt;
      count = *n;
      subject = util::trim(rest);
    }
    if (auto path = backticked(subject)) {
      c.kind = Clause::Kind::file_exists;
      c.operand = std::string(util::trim(*path));
      c.count = count;
      return c;
    }
  }
  return std::nullopt;
}

// The first backticked span in `text`, if any.
std::optional<std::string_view> first_code(std::string_view text) {
  const auto a = text.find('`');
  if (a == std::string_view::npos) return std::nullopt;
  const auto b = text.find('`', a + 1);
  if (b == std::string_view::npos || b == a + 1) return std::nullopt;
  return text.substr(a + 1, b - a - 1);
}

std::vector<std::string_view> words_of(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    const std::size_t b = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

// "DCDs", "PDB", "JSON" -> "dcd", "pdb", "json": a file type named in prose, or "".
std::string file_type(std::string_view w) {
  if (w.ends_with("s") && w.size() > 2) w.remove_suffix(1);
  if (w.size() < 2 || w.size() > 5 || w == "OK" || w == "ID" || w == "NO") return "";
  for (char c : w) {
    if (c < 'A' || c > 'Z') return "";
  }
  return util::lower(w);
}

// A plausible file for prose such as "restart written", "20 production DCDs", "analysis
// JSON exists": a `` `PATH` exists `` or `` N× `GLOB` exists `` clause, or "" if none.
std::string file_clause(std::string_view text) {
  const auto ws = words_of(text);
  if (ws.empty()) return "";
  int count = 0;
  if (auto n = to_int(ws.front()); n && *n > 1) count = *n;
  std::string file;
  for (auto w : ws) {
    if (w == "restart" || w == "restarts") {
      file = "restart.coor";
      break;
    }
    // A bare file name ("npt_equil.restart.xsc") or directory ("snapshots/").
    if (w.find('.') != std::string_view::npos && w.front() != '.' && w.back() != '.' &&
        w.find_first_of("()") == std::string_view::npos) {
      file = std::string(w);
      break;
    }
    if (auto type = file_type(w); !type.empty()) {
      file = "*." + type;
      break;
    }
  }
  if (file.empty()) {
    // "output written", "trajectory present": the word before names the file.
    for (std::size_t i = 1; i < ws.size() && file.empty(); ++i) {
      for (std::string_view verb : {"written", "exists", "exist", "present", "created", "saved", "synced"}) {
        if (ws[i] == verb) {
          file = std::string(ws[i - 1]) + ".*";
          break;
        }
      }
    }
  }
  if (file.empty()) return "";
  if (count > 0 && file.find('*') != std::string::npos) return fmt::format("{}× `{}` exists", count, file);
  return "`" + file + "` exists";
}

// A rewrite the grammar accepts, for the common ways people write conditions in prose.
std::string suggest(std::string_view text) {
  // "smoke job exit=0": the checkable part is in there.
  if (auto e = text.find("exit="); e != std::string_view::npos) {
    std::size_t end = e + 5;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    if (end > e + 5) return "write `" + std::string(text.substr(e, end - e)) + "`";
  }
  // "all green (no FATAL, no NaN)": the words are in there.
  std::vector<std::string> words;
  for (std::size_t p = text.find("no "); p != std::string_view::npos; p = text.find("no ", p + 3)) {
    if (p > 0 && (std::isalnum(static_cast<unsigned char>(text[p - 1])) != 0)) continue;
    std::size_t b = p + 3, e = b;
    while (e < text.size() && !is_space(text[e]) && text[e] != ',' && text[e] != ')') ++e;
    if (e > b) words.push_back(std::string(text.substr(b, e - b)));
  }
  if (!words.empty()) {
    std::string s = "write `";
    for (std::size_t i = 0; i < words.size(); ++i) s += (i ? ", no " : "no ") + words[i] + " in log";
    return s + "`";
  }
  if (util::lower(text).find("approv") != std::string::npos) return "write `approved`";
  // "`x.dcd` reaches 100 ns": the file is the checkable part; whatever else must hold is
  // a check command.
  if (auto code = first_code(text)) {
    return "write `` `" + std::string(*code) +
           "` exists ``, and a check script for the rest as `` `CMD` exits 0 ``";
  }
  if (auto file = file_clause(text); !file.empty()) return "write `` " + file + " `` naming the file";
  return "write one of: always, stage N done, exit=N, `PATH` exists, N× `GLOB` exists, no WORD in log, "
         "`CMD` exits 0, approved";
}

// Calls `f(text, offset)` for every clause of `cell`, in order: the comma-separated
// parts outside backticks and parentheses, trimmed, with empty ones skipped.
template <class F>
void for_each_clause(std::string_view cell, F&& f) {
  std::size_t start = 0;
  bool in_code = false;
  int parens = 0;  // "all green (no FATAL, no NaN)" is one clause, not two half-clauses
  for (std::size_t i = 0; i <= cell.size(); ++i) {
    if (i < cell.size()) {
      const char ch = cell[i];
      if (ch == '`') in_code = !in_code;
      if (!in_code && ch == '(') ++parens;
      if (!in_code && ch == ')' && parens > 0) --parens;
      if (ch != ',' || in_code || parens > 0) continue;
    }
    std::size_t b = start;
    while (b < i && is_space(cell[b])) ++b;
    std::size_t e = i;
    while (e > b && is_space(cell[e - 1])) --e;
    start = i + 1;
    if (e == b) continue;  // "a,,b" or a trailing comma: nothing to check, nothing to flag
    f(cell.substr(b, e - b), b);
  }
}

}  // namespace

doc::Condition parse_condition(std::string_view cell, int column) {
  doc::Condition out;
  const std::string_view whole = util::trim(cell);
  if (whole.empty() || whole == "\xE2\x80\x94" || whole == "-") return out;
  // Every stage of every parsed file keeps two conditions: size the clauses exactly.
  std::size_t count = 0;
  for_each_clause(cell, [&](std::string_view, std::size_t) { ++count; });
  out.clauses.reserve(count);
  for_each_clause(cell, [&](std::string_view text, std::size_t offset) {
    const int at = column + static_cast<int>(offset);
    if (auto c = typed(text)) {
      c->column = at;
      out.clauses.push_back(std::move(*c));
    } else {
      out.uncheckable.push_back({std::string(text), at, suggest(text)});
    }
  });
  if (!out.uncheckable.empty()) out.clauses.shrink_to_fit();
  return out;
}

}  // namespace cairn::parse
