// The plain-subset block scanner must outline every file exactly as cmark-gfm does,
// and leave to cmark whatever it does not know.

#include <cairn/parse/markdown.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace cairn::parse::md {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The 0-based line after the closing `---` of the frontmatter (0 without one).
int body_line(const std::string& text, const LineIndex& lines) {
  if (lines.count() == 0 || lines.line(text, 0) != "---") return 0;
  for (int i = 1; i < lines.count(); ++i) {
    if (lines.line(text, i) == "---") return i + 1;
  }
  return 0;
}

std::string shown(const std::vector<Block>& blocks) {
  std::string s;
  for (const auto& b : blocks) {
    s += std::to_string(static_cast<int>(b.kind)) + " " + std::to_string(b.first_line) + "-" +
         std::to_string(b.last_line) + " h" + std::to_string(b.level) + " '" + b.text + "' rows";
    for (int r : b.rows) s += " " + std::to_string(r);
    s += " items";
    for (auto [a, z] : b.items) s += " " + std::to_string(a) + "-" + std::to_string(z);
    s += "\n";
  }
  return s;
}

void expect_agree(const std::string& text, const std::string& where, bool must_be_plain) {
  const LineIndex lines(text);
  const int first = body_line(text, lines);
  const auto plain = outline_plain(text, lines, first);
  if (must_be_plain) {
    EXPECT_TRUE(plain) << where << " should stay within the plain subset";
  }
  if (plain) {
    EXPECT_EQ(shown(*plain), shown(outline_cmark(text, lines, first))) << where;
  }
}

TEST(OutlinePlain, AgreesWithCmarkOnEveryFixtureAndTemplate) {
  int checked = 0;
  for (const char* dir : {"tests/fixtures/workflows", "tests/fixtures/golden", "templates"}) {
    for (const auto& e : fs::recursive_directory_iterator(fs::path(CAIRN_SOURCE_DIR) / dir)) {
      if (e.path().extension() != ".md") continue;
      expect_agree(slurp(e.path()), e.path().string(), false);
      ++checked;
    }
  }
  EXPECT_GE(checked, 10);
  expect_agree(slurp(fs::path(CAIRN_SOURCE_DIR) / "templates/WORKFLOW.namd-ensemble.md"), "namd template",
               true);
  expect_agree(slurp(fs::path(CAIRN_SOURCE_DIR) / "templates/WORKFLOW.template.md"), "generic template",
               true);
}

TEST(OutlinePlain, AgreesWithCmarkOnTrickyShapes) {
  const char* cases[] = {
      ("# T\n\nSome text\nmore text\n\n## Stages\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n## Action queue\n\n"
       "- [ ] one\n- [x] two\n  continued\n\n- three\n\n## Lessons learned\n\n(none)\n"),  // one case, two
                                                                                           // lines
      "## Heading ##\n\n- a\n\n  para in a\n- b\n## Next\n| x |\n|---|\n## After\n",
      "para\n- item interrupts\n",
      "| a | b |\n|---|---|\n| 1 |\n\ntext\n",
      "- a\n  - nested\n    - deeper\n- b\n",
  };
  for (const char* c : cases) expect_agree(c, c, true);
}

TEST(OutlinePlain, LeavesWhatItDoesNotKnowToCmark) {
  const char* foreign[] = {
      "```\ncode\n```\n",
      "> quote\n",
      "<!-- comment -->\n",
      "Title\n=====\n",
      "para\n---\n",
      "1. one\n2. two\n",
      "* star\n",
      "- a\nlazy\n",
      "| a | b |\n|---|\n",
      "para\n| a |\n|---|\n",
      "    indented code\n",
      "## `code` head\n",
      "| a |\n|---|\nno pipe\n",
  };
  for (const char* f : foreign) {
    const std::string text(f);
    const LineIndex lines(text);
    EXPECT_FALSE(outline_plain(text, lines, 0)) << f;
    // outline() still answers, through cmark.
    EXPECT_FALSE(outline(text, lines, 0).empty()) << f;
  }
}

// Issue 19, finding 6: any text survives a trip through one cell, escaped once.
TEST(Cells, EscapeAndValueAreInverses) {
  const std::vector<std::string> texts = {"",       "plain",      "a|b", "a\\|b", "a\\\\|b", "\\",
                                          "x\\",    "\\\\",       "|",   "||",    "`a|b`",   "C:\\tmp\\",
                                          "\\|\\|", "a \\ b | c", "—x",  "|end\\"};
  for (const auto& t : texts) {
    const std::string row = table_row({t, "next"});
    const auto cells = split_row(row, 0, row.size());
    ASSERT_EQ(cells.size(), 2u) << row;
    EXPECT_EQ(cell_value(std::string_view(row).substr(cells[0].begin, cells[0].end - cells[0].begin)), t)
        << row;
    EXPECT_EQ(cell_value(std::string_view(row).substr(cells[1].begin, cells[1].end - cells[1].begin)), "next")
        << row;
  }
  EXPECT_EQ(escape_cell("41.0 | OOM | what"), "41.0 \\| OOM \\| what");
  EXPECT_EQ(escape_cell("a\\|b"), "a\\\\\\|b");
  EXPECT_EQ(escape_cell("two\nlines"), "two lines");
  // What people write by hand keeps its meaning: one backslash before a pipe escapes it.
  EXPECT_EQ(cell_value(" a \\| b "), "a | b");
  EXPECT_EQ(cell_value(" C:\\tmp "), "C:\\tmp");
}

}  // namespace
}  // namespace cairn::parse::md
