#include <cairn/catalog/catalog.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <map>
#include <memory>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>
#include <fmt/format.h>
#include <re2/re2.h>
#include <re2/set.h>

#include <cairn/catalog/fix.hpp>
#include <cairn/parse/markdown.hpp>
#include <cairn/util/c_handle.hpp>
#include <cairn/util/strings.hpp>
#include <cairn/util/suggest.hpp>

namespace cairn::catalog {

namespace {

constexpr std::size_t kMatchedMax = 200;

enum class Col { cls, exit, state, signature, safe, fix, max, hint };

bool is_empty_marker(std::string_view v) {
  return v.empty() || v == "—" || v == "-" || v == "–";
}

// "Log signature (RE2)" -> "log signature"; "Auto-fix" -> "auto fix".
std::string normalize_header(std::string_view raw) {
  std::string words;
  int depth = 0;
  for (char c : raw) {
    if (c == '(') ++depth;
    if (c == ')') {
      depth = std::max(0, depth - 1);
      continue;
    }
    if (depth > 0 || c == '*' || c == '`') continue;
    words += c == '-' || c == '_' ? ' ' : c;
  }
  return util::lower_words(words);
}

std::optional<Col> column_of(std::string_view header) {
  static const std::map<std::string, Col, std::less<>> kNames = {
      {"class", Col::cls},
      {"exit code", Col::exit},
      {"exit codes", Col::exit},
      {"exit", Col::exit},
      {"scheduler state", Col::state},
      {"scheduler states", Col::state},
      {"state", Col::state},
      {"states", Col::state},
      {"log signature", Col::signature},
      {"signature", Col::signature},
      {"log pattern", Col::signature},
      {"safe to retry", Col::safe},
      {"safe", Col::safe},
      {"retry", Col::safe},
      {"auto fix", Col::fix},
      {"autofix", Col::fix},
      {"fix", Col::fix},
      {"max fixes", Col::max},
      {"max auto fixes", Col::max},
      {"hint", Col::hint},
      {"hints", Col::hint},
  };
  const auto it = kNames.find(normalize_header(header));
  if (it == kNames.end()) return std::nullopt;
  return it->second;
}

// One cell of a row: its text with `\|` unescaped, and where it starts on the line.
struct Cell {
  std::string text;  // trimmed
  int column = 1;    // 1-based byte column of the first non-blank byte
};

// A GFM table row's cells (md::split_row: unescaped pipes, as cmark-gfm's row scanner
// splits, so `\|` inside backticks stays in the cell), trimmed, with `\|` read as `|`.
// Backslashes are otherwise kept: a signature cell is a regular expression.
std::vector<Cell> split_row(std::string_view line) {
  std::vector<Cell> cells;
  for (const parse::md::CellSpan& span : parse::md::split_row(line, 0, line.size())) {
    const std::string_view raw = line.substr(span.begin, span.end - span.begin);
    Cell c;
    c.column = static_cast<int>(span.begin + parse::md::leading_blanks(raw)) + 1;
    const std::string_view t = util::trim(raw);
    c.text.reserve(t.size());
    for (std::size_t k = 0; k < t.size(); ++k) {
      if (t[k] == '\\' && k + 1 < t.size() && t[k + 1] == '|') continue;
      c.text += t[k];
    }
    cells.push_back(std::move(c));
  }
  return cells;
}

// The content of a code span filling the whole cell (`...` or ``...``), or nullopt
// when the cell is plain text.
std::optional<std::string> code_span(std::string_view cell) {
  std::size_t n = 0;
  while (n < cell.size() && cell[n] == '`') ++n;
  if (n == 0 || cell.size() < 2 * n + 1) return std::nullopt;
  const std::string_view fence = cell.substr(0, n);
  if (cell.substr(cell.size() - n) != fence || cell[cell.size() - n - 1] == '`') return std::nullopt;
  std::string_view inner = cell.substr(n, cell.size() - 2 * n);
  if (inner.find(fence) != std::string_view::npos) return std::nullopt;  // two spans
  // CommonMark strips one space on each side when both are present.
  if (inner.size() >= 2 && inner.front() == ' ' && inner.back() == ' ' &&
      inner.find_first_not_of(' ') != std::string_view::npos) {
    inner = inner.substr(1, inner.size() - 2);
  }
  return std::string(inner);
}

std::vector<std::string_view> split_list(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto at = s.find(',', start);
    out.push_back(
        util::trim(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start)));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

// "out_of_memory", "Out-Of-Memory", "OUT OF MEMORY" -> "OUT_OF_MEMORY".
std::string normalize_state(std::string_view s) {
  std::string out;
  for (char c : util::trim(s)) {
    if (c == '-' || c == ' ') c = '_';
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

bool word_byte(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// Position of `word` in `text` as a whole word, or npos.
std::size_t find_word(std::string_view text, std::string_view word) {
  for (std::size_t at = text.find(word); at != std::string_view::npos; at = text.find(word, at + 1)) {
    const bool left = at == 0 || !word_byte(text[at - 1]);
    const bool right = at + word.size() >= text.size() || !word_byte(text[at + word.size()]);
    if (left && right) return at;
  }
  return std::string_view::npos;
}

bool utf8_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// The line of `text` holding byte `at`, trimmed, cut to about kMatchedMax bytes around
// `at` on UTF-8 boundaries.
std::string line_at(std::string_view text, std::size_t at) {
  at = std::min(at, text.size());
  std::size_t begin = 0;
  if (at > 0) {
    const auto nl = text.rfind('\n', at - 1);
    if (nl != std::string_view::npos) begin = nl + 1;
  }
  std::size_t end = text.find('\n', at);
  if (end == std::string_view::npos) end = text.size();
  std::string_view line = text.substr(begin, end - begin);
  std::size_t offset = at - begin;
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
    line.remove_prefix(1);
    offset = offset > 0 ? offset - 1 : 0;
  }
  line = util::trim(line);
  if (line.size() <= kMatchedMax) return std::string(line);
  std::size_t from = offset > kMatchedMax / 3 ? offset - kMatchedMax / 3 : 0;
  std::size_t to = std::min(line.size(), from + kMatchedMax);
  // A character is at most 4 bytes: move at most 3 to reach its start, so a line of
  // invalid UTF-8 (continuation bytes only) is still cut.
  for (int k = 0; k < 3 && from > 0 && utf8_continuation(line[from]); ++k) --from;
  for (int k = 0; k < 3 && to < line.size() && utf8_continuation(line[to]); ++k) ++to;
  return fmt::format("{}{}{}", from > 0 ? "…" : "", line.substr(from, to - from),
                     to < line.size() ? "…" : "");
}

// ---- Markdown: find the catalog tables ---------------------------------------------

struct Table {
  std::vector<int> rows;  // 1-based lines: header, then body rows (delimiter row omitted)
};

bool has_type(cmark_node* n, std::string_view type) {
  const char* s = cmark_node_get_type_string(n);
  return s != nullptr && type == s;
}

// Tables of `text`, all of them or those under the heading whose anchor is `section`.
// Sets `section_found` when `section` is empty or names a heading.
std::vector<Table> find_tables(const std::string& text, const std::string& section, bool& section_found) {
  cmark_gfm_core_extensions_ensure_registered();
  util::CHandle<cmark_parser, cmark_parser_free> parser(cmark_parser_new(CMARK_OPT_DEFAULT));
  if (cmark_syntax_extension* table = cmark_find_syntax_extension("table")) {
    cmark_parser_attach_syntax_extension(parser.get(), table);
  }
  cmark_parser_feed(parser.get(), text.data(), text.size());
  util::CHandle<cmark_node, cmark_node_free> root(cmark_parser_finish(parser.get()));

  const std::string wanted = util::lower(section);
  section_found = wanted.empty();
  bool inside = wanted.empty();
  int section_level = 0;
  std::map<std::string, int> seen;  // GitHub suffixes repeated anchors with -1, -2, ...
  std::vector<Table> tables;

  util::CHandle<cmark_iter, cmark_iter_free> it(cmark_iter_new(root.get()));
  cmark_event_type ev;
  while ((ev = cmark_iter_next(it.get())) != CMARK_EVENT_DONE) {
    if (ev != CMARK_EVENT_ENTER) continue;
    cmark_node* n = cmark_iter_get_node(it.get());
    if (cmark_node_get_type(n) == CMARK_NODE_HEADING && !wanted.empty()) {
      const int level = cmark_node_get_heading_level(n);
      std::string slug = heading_slug(parse::md::node_text(n));
      const int count = seen[slug]++;
      if (count > 0) slug += fmt::format("-{}", count);
      if (inside && level <= section_level) inside = false;
      if (!section_found && slug == wanted) {
        inside = section_found = true;
        section_level = level;
      }
      continue;
    }
    if (!inside || !has_type(n, "table")) continue;
    Table t;
    for (cmark_node* row = cmark_node_first_child(n); row != nullptr; row = cmark_node_next(row)) {
      t.rows.push_back(cmark_node_get_start_line(row));
    }
    if (!t.rows.empty()) tables.push_back(std::move(t));
  }
  return tables;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = nl + 1;
  }
  return lines;
}

// ---- rows -> entries ----------------------------------------------------------------

class Loader {
 public:
  Loader(std::vector<Entry>& entries, std::vector<doc::Diagnostic>& diagnostics)
      : m_entries(entries), m_diagnostics(diagnostics) {}

  void load(const Source& source) {
    m_path = source.path;
    bool section_found = false;
    const auto tables = find_tables(source.text, source.section, section_found);
    if (!section_found) {
      error(0, 0, fmt::format("no heading has the anchor #{}", source.section));
      return;
    }
    const auto lines = split_lines(source.text);
    const std::size_t before = m_entries.size();
    bool any_catalog = false;
    for (const auto& t : tables) any_catalog = load_table(t, lines) || any_catalog;
    if (!any_catalog) {
      error(0, 0,
            source.section.empty()
                ? "no catalog table (a table with a Class column and an Exit code, Scheduler state or "
                  "Log signature column)"
                : fmt::format("no catalog table under #{}", source.section));
    } else if (m_entries.size() == before) {
      warning(0, 0, "the catalog tables hold no usable rows");
    }
  }

 private:
  void error(int line, int column, std::string message) {
    m_diagnostics.push_back({m_path, line, column, doc::Severity::error, std::move(message)});
  }
  void warning(int line, int column, std::string message) {
    m_diagnostics.push_back({m_path, line, column, doc::Severity::warning, std::move(message)});
  }

  // Loads one table; false when it is not a catalog table.
  bool load_table(const Table& t, const std::vector<std::string_view>& lines) {
    const auto line_text = [&](int line) -> std::string_view {
      return line >= 1 && static_cast<std::size_t>(line) <= lines.size()
                 ? lines[static_cast<std::size_t>(line - 1)]
                 : std::string_view();
    };
    const auto header = split_row(line_text(t.rows.front()));
    std::map<Col, std::size_t> cols;
    for (std::size_t i = 0; i < header.size(); ++i) {
      const auto c = column_of(header[i].text);
      if (!c) continue;
      if (!cols.emplace(*c, i).second) {
        error(t.rows.front(), header[i].column, fmt::format("column \"{}\" appears twice", header[i].text));
      }
    }
    const bool has_signature =
        cols.count(Col::exit) + cols.count(Col::state) + cols.count(Col::signature) > 0;
    if (cols.count(Col::cls) == 0 || !has_signature) return false;
    for (std::size_t r = 1; r < t.rows.size(); ++r) {
      const int line = t.rows[r];
      auto cells = split_row(line_text(line));
      if (cells.size() > header.size()) {
        // Point at the code span the stray pipe cut in two, when there is one.
        int at = cells[header.size()].column;
        for (const auto& c : cells) {
          if (std::count(c.text.begin(), c.text.end(), '`') % 2 == 1) {
            at = c.column;
            break;
          }
        }
        error(
            line, at,
            fmt::format("row has {} cells but the header has {} (a `|` inside a regex must be written `\\|`)",
                        cells.size(), header.size()));
        continue;
      }
      cells.resize(header.size(), Cell{"", 1});
      load_row(line, cells, cols);
    }
    return true;
  }

  void load_row(int line, const std::vector<Cell>& cells, const std::map<Col, std::size_t>& cols) {
    const auto cell = [&](Col c) -> const Cell* {
      const auto it = cols.find(c);
      return it == cols.end() ? nullptr : &cells[it->second];
    };
    const auto value = [&](Col c) -> std::string_view {
      const Cell* k = cell(c);
      return k == nullptr || is_empty_marker(k->text) ? std::string_view() : std::string_view(k->text);
    };
    const auto column = [&](Col c) { return cell(c) == nullptr ? 0 : cell(c)->column; };
    const std::size_t errors_before = m_diagnostics.size();

    Entry e;
    e.path = m_path;
    e.line = line;
    const std::string_view cls = value(Col::cls);
    const auto cls_code = code_span(cls);
    e.error_class = cls_code ? *cls_code : std::string(cls);
    if (e.error_class.empty()) {
      error(line, column(Col::cls), "row has no Class");
    } else if (!std::all_of(e.error_class.begin(), e.error_class.end(), [](char c) {
                 return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
               })) {
      error(line, column(Col::cls),
            fmt::format("class \"{}\" may hold only letters, digits, `-`, `_` and `.`", e.error_class));
    }

    for (auto item : split_list(value(Col::exit))) {
      if (item.empty() && value(Col::exit).empty()) break;
      if (item.size() >= 2 && item.front() == '`' && item.back() == '`')
        item = util::trim(item.substr(1, item.size() - 2));
      int code = 0;
      const auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), code);
      if (item.empty() || ec != std::errc() || p != item.data() + item.size()) {
        error(line, column(Col::exit),
              fmt::format("exit code \"{}\" is not a number (write e.g. `137, 9`)", item));
        continue;
      }
      e.exit_codes.push_back(code);
    }

    for (auto item : split_list(value(Col::state))) {
      if (item.empty() && value(Col::state).empty()) break;
      std::string state = normalize_state(item);
      if (state.empty() || !std::all_of(state.begin(), state.end(), word_byte)) {
        error(line, column(Col::state),
              fmt::format("scheduler state \"{}\" is not a state name like TIMEOUT or NODE_FAIL", item));
        continue;
      }
      e.states.push_back(std::move(state));
    }

    if (const std::string_view sig = value(Col::signature); !sig.empty()) {
      e.signature_text = std::string(sig);
      if (const auto code = code_span(sig)) {
        e.signature = *code;
      } else {
        e.signature = RE2::QuoteMeta(sig);
      }
      RE2::Options options;
      options.set_log_errors(false);
      auto re = std::make_shared<const RE2>("(?m)" + e.signature, options);
      if (!re->ok()) {
        error(line, column(Col::signature),
              fmt::format("invalid RE2 regex `{}`: {}", e.signature, re->error()));
      } else if (RE2::PartialMatch("", *re)) {
        error(line, column(Col::signature),
              fmt::format("regex `{}` matches empty text, so it would match every log", e.signature));
      } else {
        e.regex = std::move(re);
      }
    }
    if (value(Col::exit).empty() && value(Col::state).empty() && value(Col::signature).empty()) {
      error(line, 1, "row has no Exit code, Scheduler state or Log signature; it would match every failure");
    }

    const std::string safe = util::lower(value(Col::safe));
    if (safe == "yes" || safe == "true" || safe == "y") {
      e.safe_to_retry = true;
    } else if (safe == "transient") {
      e.safe_to_retry = e.transient = true;
    } else if (!safe.empty() && safe != "no" && safe != "false" && safe != "n") {
      error(line, column(Col::safe), fmt::format("Safe to retry \"{}\" is not yes, no or transient", safe));
    }

    const std::string_view fix_cell = value(Col::fix);
    if (const auto fix = canonical_fix(fix_cell)) {
      e.fix = *fix;
      e.destructive = util::lower(util::trim(fix_cell)) == "destructive";
    } else {
      // The fix's name is its first word (`walltime` of `walltime x2`, `partition` of
      // `partition=gpu`): that is what a typo is in.
      const std::string_view name = fix_cell.substr(0, fix_cell.find_first_of(" =+"));
      static constexpr std::string_view kFixNames[] = {"walltime",
                                                       "mem",
                                                       "gpus",
                                                       "partition",
                                                       "priority",
                                                       "resubmit",
                                                       "resubmit-from-checkpoint",
                                                       "exclude-node",
                                                       "none",
                                                       "destructive",
                                                       "escalate"};
      error(line, column(Col::fix),
            fmt::format("unknown auto-fix \"{}\"{} (known: walltime xN, mem xN, gpus +N, partition=NAME, "
                        "priority=LOW, resubmit, resubmit-from-checkpoint, exclude-node, none, destructive)",
                        fix_cell, util::did_you_mean(name, kFixNames)));
    }

    if (const std::string_view max = value(Col::max); !max.empty()) {
      int n = 0;
      const auto [p, ec] = std::from_chars(max.data(), max.data() + max.size(), n);
      if (ec != std::errc() || p != max.data() + max.size() || n < 0) {
        error(line, column(Col::max), fmt::format("Max fixes \"{}\" is not a whole number", max));
      } else {
        e.max_auto_fixes = n;
      }
    } else if (e.fix.empty()) {
      e.max_auto_fixes = 0;
    }
    e.hint = std::string(value(Col::hint));

    if (m_diagnostics.size() == errors_before) m_entries.push_back(std::move(e));
  }

  std::vector<Entry>& m_entries;
  std::vector<doc::Diagnostic>& m_diagnostics;
  std::string m_path;
};

}  // namespace

std::string heading_slug(std::string_view heading) {
  std::string out;
  for (unsigned char c : util::trim(heading)) {
    if (c >= 0x80 || std::isalnum(c) != 0 || c == '-' || c == '_') {
      out += static_cast<char>(c >= 0x80 ? c : std::tolower(c));
    } else if (c == ' ') {
      out += '-';
    }
  }
  return out;
}

struct SignatureIndex {
  std::unique_ptr<RE2::Set> set;
  std::vector<std::size_t> entry_of;  // set pattern -> entry
  std::vector<bool> outside;          // per entry: has a signature the set could not take
};

namespace {

// The DFA of a thousand-pattern set needs more room than RE2's default 8 MiB to scan
// a 10,000-line tail without starting over; it is only spent as states are built.
constexpr std::int64_t kSetMaxMem = 64 << 20;

std::shared_ptr<const SignatureIndex> index_signatures(const std::vector<Entry>& entries) {
  if (std::none_of(entries.begin(), entries.end(), [](const Entry& e) { return e.regex != nullptr; })) {
    return nullptr;
  }
  auto index = std::make_shared<SignatureIndex>();
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kSetMaxMem);
  index->set = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
  index->outside.assign(entries.size(), false);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].regex) continue;
    // The entry's own pattern, flags included, so the set matches exactly where it does.
    if (index->set->Add(entries[i].regex->pattern(), nullptr) < 0) {
      index->outside[i] = true;
      continue;
    }
    index->entry_of.push_back(i);
  }
  // Without a set (too big to compile), classify runs each entry's regex on its own.
  if (index->entry_of.empty() || !index->set->Compile()) index->set.reset();
  return index;
}

}  // namespace

CatalogSet::CatalogSet(std::vector<Entry> entries, std::vector<doc::Diagnostic> diagnostics)
    : m_entries(std::move(entries)),
      m_diagnostics(std::move(diagnostics)),
      m_index(index_signatures(m_entries)) {}

std::vector<bool> CatalogSet::signature_hits(const engine::Evidence& evidence) const {
  std::vector<bool> hits(m_entries.size(), true);
  if (!m_index || !m_index->set) return hits;
  for (std::size_t i = 0; i < m_entries.size(); ++i) hits[i] = !m_entries[i].regex || m_index->outside[i];
  std::vector<int> found;
  for (const std::string* text : {&evidence.log_tail, &evidence.reason}) {
    RE2::Set::ErrorInfo error{};
    found.clear();
    if (!m_index->set->Match(*text, &found, &error) && error.kind != RE2::Set::kNoError) {
      // The DFA ran out of memory: let every entry's own regex decide.
      std::fill(hits.begin(), hits.end(), true);
      return hits;
    }
    for (const int k : found) hits[m_index->entry_of[static_cast<std::size_t>(k)]] = true;
  }
  return hits;
}

std::optional<engine::Classification> CatalogSet::classify(const engine::Evidence& evidence) const {
  const std::string state = normalize_state(evidence.state);
  // Scanned for all signatures at once, and only once an entry's other columns match.
  std::optional<std::vector<bool>> hits;
  for (std::size_t i = 0; i < m_entries.size(); ++i) {
    const Entry& e = m_entries[i];
    std::string matched;
    if (!e.exit_codes.empty()) {
      if (!evidence.exit_code ||
          std::find(e.exit_codes.begin(), e.exit_codes.end(), *evidence.exit_code) == e.exit_codes.end()) {
        continue;
      }
      matched = fmt::format("exit code {}", *evidence.exit_code);
    }
    if (!e.states.empty()) {
      bool hit = false;
      for (const auto& s : e.states) {
        if (s == state) {
          matched = fmt::format("scheduler state {}", state);
          hit = true;
          break;
        }
        // Scheduler reasons spell states in upper case ("NODE_FAIL", "TIMEOUT").
        if (const auto at = find_word(evidence.reason, s); at != std::string_view::npos) {
          matched = line_at(evidence.reason, at);
          hit = true;
          break;
        }
      }
      if (!hit) continue;
    }
    if (e.regex) {
      if (!hits) hits = signature_hits(evidence);
      if (!(*hits)[i]) continue;
      bool hit = false;
      for (const std::string* text : {&evidence.log_tail, &evidence.reason}) {
        re2::StringPiece m;
        if (e.regex->Match(*text, 0, text->size(), RE2::UNANCHORED, &m, 1)) {
          matched = line_at(*text, static_cast<std::size_t>(m.data() - text->data()));
          hit = true;
          break;
        }
      }
      if (!hit) continue;
    }
    engine::Classification c = e.classification();
    c.matched = std::move(matched);
    return c;
  }
  return std::nullopt;
}

engine::Classification Entry::classification() const {
  engine::Classification c;
  c.error_class = error_class;
  c.fix = fix;
  c.safe_to_retry = safe_to_retry;
  c.transient = transient;
  c.destructive = destructive;
  c.max_auto_fixes = max_auto_fixes;
  c.hint = hint;
  c.source = fmt::format("{}:{}", path, line);
  return c;
}

std::optional<engine::Classification> CatalogSet::by_class(std::string_view wanted) const {
  for (const auto& e : m_entries) {
    if (e.error_class == wanted) return e.classification();
  }
  return std::nullopt;
}

Expected<engine::FixPlan> CatalogSet::plan_fix(std::string_view fix, const doc::StageSpec& spec,
                                               const doc::ResourceCeilings& ceilings,
                                               const engine::SpecInfo* declared) const {
  return catalog::plan_fix(fix, spec, ceilings, declared);
}

Expected<CatalogSet, std::vector<doc::Diagnostic>> load_catalogs(std::vector<Source> sources) {
  std::vector<Entry> entries;
  std::vector<doc::Diagnostic> diagnostics;
  Loader loader(entries, diagnostics);
  for (const auto& s : sources) loader.load(s);
  if (entries.empty()) {
    if (diagnostics.empty())
      diagnostics.push_back({"", 0, 0, doc::Severity::error, "no failure catalog given"});
    return diagnostics;
  }
  return CatalogSet(std::move(entries), std::move(diagnostics));
}

}  // namespace cairn::catalog
