#pragma once

// Byte-level helpers for reading a WORKFLOW.md body without changing it: a line index,
// UTF-8 validation, pipe-table row splitting with exact byte offsets, and an outline of
// the top-level Markdown blocks (via cmark-gfm) with their file line numbers.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct cmark_node;

namespace cairn::parse::md {

// The text of a cmark-gfm node's inline content (text, code, inline HTML), line breaks as
// spaces: a heading's or a table cell's words, as a reader sees them.
std::string node_text(cmark_node* node);

// Where every line of a text starts and where its content (without `\n`/`\r\n`) ends.
// Lines are 0-based here; diagnostics add 1.
class LineIndex {
 public:
  LineIndex() = default;
  // Indexes `text`; a final line without a line ending still counts as a line.
  explicit LineIndex(std::string_view text);

  // Number of lines (0 for an empty text).
  int count() const { return static_cast<int>(m_begin.size()); }
  // Byte offset of the first byte of line `i`.
  std::size_t begin(int i) const { return m_begin[static_cast<std::size_t>(i)]; }
  // Byte offset just past the content of line `i` (before its line ending).
  std::size_t content_end(int i) const { return m_end[static_cast<std::size_t>(i)]; }
  // Byte offset just past line `i` including its line ending.
  std::size_t next(int i) const;
  // The content of line `i` in `text` (the text this index was built from).
  std::string_view line(std::string_view text, int i) const {
    return text.substr(begin(i), content_end(i) - begin(i));
  }
  // The 0-based line holding byte `offset` (the last line for offsets past the end).
  int line_of(std::size_t offset) const;
  // True when the first line ends in `\r\n` (the file's line-ending style).
  bool crlf() const { return m_crlf; }

 private:
  std::vector<std::uint32_t> m_begin;
  std::vector<std::uint32_t> m_end;
  std::size_t m_size = 0;
  bool m_crlf = false;
};

// Returns the byte offset of the first byte that is not part of valid UTF-8
// (overlong forms, surrogates and code points above U+10FFFF are invalid), or nullopt.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

// Returns the offset of the first carriage return not followed by a line feed, or nullopt.
// CommonMark ends a line there; LineIndex does not, so such a file has no agreed line numbers.
std::optional<std::size_t> find_lone_cr(std::string_view text);

// Number of code points in `s` (the width a table cell occupies in a monospace view,
// good enough for the Latin text, `—` and `≈` WORKFLOW.md files hold).
std::size_t display_width(std::string_view s);

// One cell of a pipe-table row: the bytes between its pipes, margins included.
struct CellSpan {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

// Splits the row occupying bytes [begin, end) of `text` into cells at unescaped `|`.
// A leading and a trailing pipe are optional, as in GFM.
std::vector<CellSpan> split_row(std::string_view text, std::size_t begin, std::size_t end);

// The value of a raw cell: trimmed, `—` (the empty marker) read as "", and pipes
// unescaped: 2k+1 backslashes before a `|` stand for k backslashes and the pipe (a
// backslash elsewhere is itself). The inverse of escape_cell.
std::string cell_value(std::string_view raw);

// `value` as the text of one cell: line breaks become spaces, each `|` is written `\|`
// and the backslashes right before it doubled, so split_row() never splits inside it and
// cell_value() gives `value` back (one line). Every table cairn writes (WORKFLOW.md,
// commit messages, issues) escapes here and nowhere else. Never fails.
std::string escape_cell(std::string_view value);

// `| a | b |` with each value through escape_cell (empty as `—`), no padding, no newline.
std::string table_row(const std::vector<std::string>& values);

// Byte offset of the first non-blank byte of `raw` (raw.size() when all blank).
std::size_t leading_blanks(std::string_view raw);

// A top-level Markdown block with its 0-based file lines.
struct Block {
  enum class Kind { heading, table, list, other };
  Kind kind = Kind::other;
  int level = 0;       // headings: 1..6
  int first_line = 0;  // first line of the block
  int last_line = 0;   // last non-blank line of the block
  std::string text;    // headings: the heading text
  // tables: the header line, the delimiter line, then one line per body row.
  std::vector<int> rows;
  // lists: the first and last non-blank line of every top-level item.
  std::vector<std::pair<int, int>> items;
};

// The top-level blocks of the body (the text from 0-based file line `first_line` on),
// in order; `lines`/`text` are the whole file. Never fails: anything is some Markdown.
// Uses outline_plain when the body stays within its subset, else outline_cmark.
std::vector<Block> outline(std::string_view text, const LineIndex& lines, int first_line);

// The same outline from cmark-gfm with its table extension: the reference.
std::vector<Block> outline_cmark(std::string_view text, const LineIndex& lines, int first_line);

// The same outline from a line scanner that knows only the Markdown cairn's files use:
// ATX headings of plain text, pipe tables after a blank line, `- ` lists (nested content
// indented), and paragraphs. nullopt for anything else (fences, HTML, quotes, setext
// headings, ordered lists, tabs, lazy continuations...), where only cmark can say.
// cmark parses every inline span, which is most of its cost; this reads each line once.
std::optional<std::vector<Block>> outline_plain(std::string_view text, const LineIndex& lines,
                                                int first_line);

// `markdown` rendered to HTML by cmark-gfm with its table, strikethrough and autolink
// extensions (GitHub's rendering of a dashboard). Raw HTML in the input is left out
// (CMARK_OPT_DEFAULT, not UNSAFE); fenced code keeps its info string as
// `class="language-<info>"`. Never fails.
std::string to_html(std::string_view markdown);

}  // namespace cairn::parse::md
