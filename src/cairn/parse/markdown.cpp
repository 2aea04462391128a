#include <cairn/parse/markdown.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>

#include <cairn/util/c_handle.hpp>
#include <cairn/util/strings.hpp>

namespace cairn::parse::md {

LineIndex::LineIndex(std::string_view text) : m_size(text.size()) {
  // Counting the lines first (a vectorised scan) sizes both vectors exactly.
  const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  m_begin.reserve(lines);
  m_end.reserve(lines);
  std::size_t pos = 0;
  while (pos < text.size()) {
    const void* hit = std::memchr(text.data() + pos, '\n', text.size() - pos);
    const std::size_t nl =
        hit == nullptr ? text.size() : static_cast<std::size_t>(static_cast<const char*>(hit) - text.data());
    std::size_t end = nl;
    if (nl < text.size() && end > pos && text[end - 1] == '\r') --end;
    if (m_begin.empty()) m_crlf = nl < text.size() && end < nl;
    m_begin.push_back(static_cast<std::uint32_t>(pos));
    m_end.push_back(static_cast<std::uint32_t>(end));
    pos = nl == text.size() ? nl : nl + 1;
  }
}

std::size_t LineIndex::next(int i) const {
  const auto n = static_cast<std::size_t>(i) + 1;
  return n < m_begin.size() ? m_begin[n] : m_size;
}

int LineIndex::line_of(std::size_t offset) const {
  if (m_begin.empty()) return 0;
  auto it = std::upper_bound(m_begin.begin(), m_begin.end(), static_cast<std::uint32_t>(offset));
  return static_cast<int>(it - m_begin.begin()) - 1;
}

std::optional<std::size_t> find_lone_cr(std::string_view text) {
  for (std::size_t i = text.find('\r'); i != std::string_view::npos; i = text.find('\r', i + 1)) {
    if (i + 1 == text.size() || text[i + 1] != '\n') return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> find_invalid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0u) != 0x80u) return i;
      cp = (cp << 6) | (s[i + k] & 0x3Fu);
    }
    const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return i;
    i += len;
  }
  return std::nullopt;
}

std::size_t display_width(std::string_view s) {
  std::size_t w = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0u) != 0x80u) ++w;
  }
  return w;
}

std::vector<CellSpan> split_row(std::string_view text, std::size_t begin, std::size_t end) {
  std::vector<CellSpan> cells;
  // At most one cell per pipe, plus the text after the last: one allocation per row.
  cells.reserve(static_cast<std::size_t>(std::count(text.begin() + begin, text.begin() + end, '|')) + 1);
  std::size_t p = begin;
  while (p < end && (text[p] == ' ' || text[p] == '\t')) ++p;
  const bool leading_pipe = p < end && text[p] == '|';
  std::size_t cell_begin = leading_pipe ? p + 1 : begin;
  std::size_t q = leading_pipe ? p + 1 : p;
  for (; q < end; ++q) {
    if (text[q] == '\\' && q + 1 < end) {
      ++q;
      continue;
    }
    if (text[q] == '|') {
      cells.push_back({static_cast<std::uint32_t>(cell_begin), static_cast<std::uint32_t>(q)});
      cell_begin = q + 1;
    }
  }
  // Text after the last pipe is a cell unless it is only blanks (the trailing pipe).
  if (!util::is_blank(text.substr(cell_begin, end - cell_begin)) || cells.empty()) {
    cells.push_back({static_cast<std::uint32_t>(cell_begin), static_cast<std::uint32_t>(end)});
  }
  return cells;
}

std::size_t leading_blanks(std::string_view raw) {
  std::size_t i = 0;
  while (i < raw.size() && (raw[i] == ' ' || raw[i] == '\t')) ++i;
  return i;
}

std::string cell_value(std::string_view raw) {
  std::size_t b = leading_blanks(raw);
  std::size_t e = raw.size();
  while (e > b && (raw[e - 1] == ' ' || raw[e - 1] == '\t')) --e;
  const std::string_view v = raw.substr(b, e - b);
  if (v == "—") return {};
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size();) {
    if (v[i] != '\\') {
      out += v[i++];
      continue;
    }
    std::size_t run = 0;
    while (i + run < v.size() && v[i + run] == '\\') ++run;
    const bool before_pipe = i + run < v.size() && v[i + run] == '|';
    out.append(before_pipe ? run / 2 : run, '\\');
    i += run;
  }
  return out;
}

std::string escape_cell(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 8);
  std::size_t run = 0;  // backslashes just written
  for (char c : value) {
    if (c == '\n' || c == '\r') c = ' ';
    if (c == '|') {
      out.append(run + 1, '\\');  // double the run, then escape the pipe
    }
    run = c == '\\' ? run + 1 : 0;
    out += c;
  }
  return out;
}

std::string table_row(const std::vector<std::string>& values) {
  std::string out = "|";
  for (const auto& v : values) {
    out += ' ';
    out += v.empty() ? std::string("—") : escape_cell(v);
    out += " |";
  }
  return out;
}

std::vector<Block> outline_cmark(std::string_view text, const LineIndex& lines, int first_line) {
  static std::once_flag registered;
  std::call_once(registered, [] { cmark_gfm_core_extensions_ensure_registered(); });

  std::vector<Block> blocks;
  if (first_line >= lines.count()) return blocks;
  const std::string_view body = text.substr(lines.begin(first_line));

  util::CHandle<cmark_parser, cmark_parser_free> parser(cmark_parser_new(CMARK_OPT_DEFAULT));
  cmark_syntax_extension* table = cmark_find_syntax_extension("table");
  if (table != nullptr) cmark_parser_attach_syntax_extension(parser.get(), table);
  cmark_parser_feed(parser.get(), body.data(), body.size());
  util::CHandle<cmark_node, cmark_node_free> doc(cmark_parser_finish(parser.get()));

  const int last = lines.count() - 1;
  auto file_line = [&](int cmark_line) { return std::clamp(first_line + cmark_line - 1, first_line, last); };
  auto trim_end = [&](int from, int to) {
    while (to > from && util::is_blank(lines.line(text, to))) --to;
    return to;
  };

  for (cmark_node* n = cmark_node_first_child(doc.get()); n != nullptr; n = cmark_node_next(n)) {
    Block b;
    b.first_line = file_line(cmark_node_get_start_line(n));
    b.last_line = trim_end(b.first_line, file_line(cmark_node_get_end_line(n)));
    const cmark_node_type type = cmark_node_get_type(n);
    if (type == CMARK_NODE_HEADING) {
      b.kind = Block::Kind::heading;
      b.level = cmark_node_get_heading_level(n);
      b.text = node_text(n);
    } else if (type == CMARK_NODE_LIST) {
      b.kind = Block::Kind::list;
      for (cmark_node* item = cmark_node_first_child(n); item != nullptr; item = cmark_node_next(item)) {
        const int s = file_line(cmark_node_get_start_line(item));
        b.items.emplace_back(s, trim_end(s, file_line(cmark_node_get_end_line(item))));
      }
    } else if (std::strcmp(cmark_node_get_type_string(n), "table") == 0) {
      b.kind = Block::Kind::table;
      // The header's own start line is unreliable when the table follows a paragraph
      // line, so locate header and delimiter from the first body row (or the end).
      std::vector<int> body_rows;
      for (cmark_node* row = cmark_node_first_child(n); row != nullptr; row = cmark_node_next(row)) {
        if (std::strcmp(cmark_node_get_type_string(row), "table_row") == 0) {
          body_rows.push_back(file_line(cmark_node_get_start_line(row)));
        }
      }
      const int delim = body_rows.empty() ? b.last_line : body_rows.front() - 1;
      b.rows.push_back(delim - 1);
      b.rows.push_back(delim);
      b.rows.insert(b.rows.end(), body_rows.begin(), body_rows.end());
      b.first_line = delim - 1;
    }
    blocks.push_back(std::move(b));
  }
  return blocks;
}

namespace {

std::size_t spaces(std::string_view l) {
  std::size_t i = 0;
  while (i < l.size() && l[i] == ' ') ++i;
  return i;
}

// `#`..`######` then a space or the end: the level, else 0.
int atx_level(std::string_view l) {
  int n = 0;
  while (n < static_cast<int>(l.size()) && l[static_cast<std::size_t>(n)] == '#') ++n;
  if (n < 1 || n > 6) return 0;
  if (static_cast<std::size_t>(n) < l.size() && l[static_cast<std::size_t>(n)] != ' ') return 0;
  return n;
}

// The heading's text when it is plain (no inline markup cmark would rewrite).
std::optional<std::string> plain_heading_text(std::string_view l, int level) {
  std::string_view t = l.substr(static_cast<std::size_t>(level));
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  // A closing run of #s after a space is not part of the text.
  std::size_t e = t.size();
  while (e > 0 && t[e - 1] == '#') --e;
  if (e < t.size() && (e == 0 || t[e - 1] == ' ')) {
    t = t.substr(0, e);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  }
  if (t.find_first_of("`*_[]&\\!~") != std::string_view::npos) return std::nullopt;
  // `<Campaign Title>` is literal text or an inline HTML tag, whose literal cmark also
  // reports; only an autolink (`<https://...>`, `<a@b>`) would lose its brackets.
  if (t.find('<') != std::string_view::npos && t.find_first_of(":@") != std::string_view::npos)
    return std::nullopt;
  return std::string(t);
}

bool is_item(std::string_view l) {
  return l.starts_with("- ") || l == "-";
}

bool is_delimiter_row(std::string_view l) {
  if (l.find('-') == std::string_view::npos) return false;
  for (char c : l) {
    if (c != '|' && c != '-' && c != ':' && c != ' ') return false;
  }
  return true;
}

// A line that could start some block this scanner does not know.
bool foreign_start(std::string_view l) {
  if (l.empty()) return false;
  if (l.find('\t') != std::string_view::npos) return true;
  const char c = l.front();
  if (c == '>' || c == '<' || c == '*' || c == '+' || c == '_' || c == '=' || c == '`' || c == '~' ||
      c == '[') {
    return true;
  }
  if (c == '-' && !l.starts_with("- ")) return true;  // thematic break, setext underline
  if (c >= '0' && c <= '9') {
    std::size_t i = 0;
    while (i < l.size() && l[i] >= '0' && l[i] <= '9') ++i;
    if (i < l.size() && (l[i] == '.' || l[i] == ')')) return true;  // ordered list
  }
  return c == '#' && atx_level(l) == 0 && l.find_first_not_of('#') == std::string_view::npos;
}

}  // namespace

std::optional<std::vector<Block>> outline_plain(std::string_view text, const LineIndex& lines,
                                                int first_line) {
  std::vector<Block> blocks;
  const int n = lines.count();
  auto line = [&](int i) { return lines.line(text, i); };
  auto blank = [&](int i) { return util::is_blank(line(i)); };
  int i = first_line;
  while (i < n) {
    const std::string_view l = line(i);
    if (util::is_blank(l)) {
      ++i;
      continue;
    }
    if (spaces(l) > 0 || foreign_start(l)) return std::nullopt;
    Block b;
    b.first_line = i;
    if (const int level = atx_level(l); level > 0) {
      auto t = plain_heading_text(l, level);
      if (!t) return std::nullopt;
      b.kind = Block::Kind::heading;
      b.level = level;
      b.text = std::move(*t);
      b.last_line = i++;
    } else if (l.front() == '|' && i + 1 < n && is_delimiter_row(line(i + 1))) {
      const std::size_t header_cells = split_row(text, lines.begin(i), lines.content_end(i)).size();
      if (split_row(text, lines.begin(i + 1), lines.content_end(i + 1)).size() != header_cells)
        return std::nullopt;
      b.kind = Block::Kind::table;
      b.rows = {i, i + 1};
      i += 2;
      while (i < n && !blank(i)) {
        const std::string_view r = line(i);
        if (r.front() != '|') {
          if (atx_level(r) > 0) break;  // a heading ends the table
          return std::nullopt;          // GFM would take it as a row: leave it to cmark
        }
        b.rows.push_back(i++);
      }
      b.last_line = b.rows.back();
    } else if (is_item(l)) {
      b.kind = Block::Kind::list;
      for (;;) {
        const int start = i;
        int last = i++;
        // The item's own content: lines indented under it, across blank lines.
        for (int j = i; j < n; ++j) {
          if (blank(j)) continue;
          if (spaces(line(j)) < 2) break;
          last = j;
          i = j + 1;
        }
        b.items.emplace_back(start, last);
        int k = i;
        while (k < n && blank(k)) ++k;
        if (k < n && is_item(line(k))) {
          i = k;
          continue;
        }
        // Text right under an item continues its paragraph ("lazy"): cmark's call.
        if (k == i && k < n && atx_level(line(k)) == 0) return std::nullopt;
        break;
      }
      b.last_line = b.items.back().second;
    } else {
      // A paragraph: until a blank line, a heading or a list item.
      b.kind = Block::Kind::other;
      int last = i++;
      while (i < n && !blank(i)) {
        const std::string_view r = line(i);
        if (atx_level(r) > 0 || r.starts_with("- ")) break;
        if (foreign_start(r) || is_delimiter_row(r) || r.front() == '|') return std::nullopt;
        last = i++;
      }
      b.last_line = last;
    }
    blocks.push_back(std::move(b));
  }
  return blocks;
}

std::vector<Block> outline(std::string_view text, const LineIndex& lines, int first_line) {
  if (auto fast = outline_plain(text, lines, first_line)) return std::move(*fast);
  return outline_cmark(text, lines, first_line);
}

std::string to_html(std::string_view markdown) {
  static std::once_flag registered;
  std::call_once(registered, [] { cmark_gfm_core_extensions_ensure_registered(); });
  util::CHandle<cmark_parser, cmark_parser_free> parser(cmark_parser_new(CMARK_OPT_DEFAULT));
  for (const char* name : {"table", "strikethrough", "autolink"}) {
    if (cmark_syntax_extension* ext = cmark_find_syntax_extension(name)) {
      cmark_parser_attach_syntax_extension(parser.get(), ext);
    }
  }
  cmark_parser_feed(parser.get(), markdown.data(), markdown.size());
  util::CHandle<cmark_node, cmark_node_free> doc(cmark_parser_finish(parser.get()));
  char* html =
      cmark_render_html(doc.get(), CMARK_OPT_DEFAULT, cmark_parser_get_syntax_extensions(parser.get()));
  std::string out = html != nullptr ? html : "";
  cmark_get_default_mem_allocator()->free(html);
  return out;
}

std::string node_text(cmark_node* node) {
  std::string out;
  util::CHandle<cmark_iter, cmark_iter_free> it(cmark_iter_new(node));
  cmark_event_type ev;
  while ((ev = cmark_iter_next(it.get())) != CMARK_EVENT_DONE) {
    if (ev != CMARK_EVENT_ENTER) continue;
    cmark_node* n = cmark_iter_get_node(it.get());
    const cmark_node_type t = cmark_node_get_type(n);
    if (t == CMARK_NODE_TEXT || t == CMARK_NODE_CODE || t == CMARK_NODE_HTML_INLINE) {
      if (const char* lit = cmark_node_get_literal(n)) out += lit;
    } else if (t == CMARK_NODE_SOFTBREAK || t == CMARK_NODE_LINEBREAK) {
      out += ' ';
    }
  }
  return out;
}

}  // namespace cairn::parse::md
