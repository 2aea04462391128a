// .priors.yaml: cairn reads the `class: orchestration` entries' patterns and leaves every
// other entry and key alone; a bad orchestration entry is an error at its line.

#include <cairn/parse/priors.hpp>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace cairn::parse {
namespace {

std::string fixture() {
  std::ifstream in(std::string(CAIRN_SOURCE_DIR) + "/tests/fixtures/priors/priors.yaml", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Priors, OrchestrationEntriesOfTheProjectFile) {
  const auto priors = parse_priors(".priors.yaml", fixture());
  ASSERT_TRUE(priors.has_value());
  ASSERT_EQ(priors->size(), 3u);
  EXPECT_EQ((*priors)[0].id, "namd-restart-loop");
  EXPECT_EQ((*priors)[0].pattern, "Restarting from .*\\.restart\\.coor");
  EXPECT_EQ(
      (*priors)[0].note,
      "the job keeps restarting from the same checkpoint; look at the walltime and the output frequency");
  EXPECT_EQ((*priors)[1].id, "fast-completions");
  EXPECT_EQ((*priors)[2].id, "line 18");  // no id: named by its line
  EXPECT_EQ((*priors)[2].note, "");
}

TEST(Priors, AListAtTheTopIsReadToo) {
  const auto priors = parse_priors(".priors.yaml", "- {class: orchestration, name: x, pattern: 'RESTART'}\n");
  ASSERT_TRUE(priors.has_value());
  ASSERT_EQ(priors->size(), 1u);
  EXPECT_EQ((*priors)[0].id, "x");
}

TEST(Priors, EmptyFileHasNone) {
  const auto priors = parse_priors(".priors.yaml", "");
  ASSERT_TRUE(priors.has_value());
  EXPECT_TRUE(priors->empty());
}

struct BadPriors {
  const char* text;
  int line;
  int column;
  const char* says;
};

TEST(Priors, BadInputIsAnErrorAtItsPlace) {
  for (const BadPriors& c : {
           BadPriors{"priors:\n  - class: orchestration\n    note: no pattern\n", 2, 5, "needs `pattern:`"},
           BadPriors{"- class: orchestration\n  pattern: 'a(b'\n", 2, 12, "invalid RE2 pattern `a(b`"},
           BadPriors{"priors: 3\n", 1, 9, "expected a list of entries"},
           BadPriors{"other: 3\n", 1, 1, "expected a list of entries"},
           BadPriors{"just text\n", 1, 1, "expected a list of entries"},
           BadPriors{"priors: [\n", 2, 1, "invalid YAML"},
       }) {
    const auto priors = parse_priors(".priors.yaml", c.text);
    ASSERT_FALSE(priors.has_value()) << c.text;
    ASSERT_EQ(priors.error().size(), 1u) << c.text;
    const doc::Diagnostic& d = priors.error()[0];
    EXPECT_EQ(d.path, ".priors.yaml");
    EXPECT_EQ(d.line, c.line) << c.text;
    EXPECT_EQ(d.column, c.column) << c.text;
    EXPECT_NE(d.message.find(c.says), std::string::npos) << d.message;
  }
}

}  // namespace
}  // namespace cairn::parse
