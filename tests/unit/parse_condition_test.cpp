#include <cairn/parse/condition.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cairn::parse {
namespace {

using Kind = doc::Clause::Kind;

// ---- one checkable clause per cell, table-driven ----

struct Typed {
  const char* cell;
  Kind kind;
  const char* stage = "";
  int exit_code = 0;
  const char* path = "";
  int count = 0;
  const char* word = "";
  const char* command = "";
};

class ParseConditionTyped : public ::testing::TestWithParam<Typed> {};

TEST_P(ParseConditionTyped, IsOneCheckableClauseWithItsFields) {
  const Typed& c = GetParam();
  const doc::Condition got = parse_condition(c.cell, 5);
  ASSERT_TRUE(got.checkable()) << c.cell << " -> " << got.uncheckable.front().suggestion;
  ASSERT_EQ(got.clauses.size(), 1u) << c.cell;
  const doc::Clause& k = got.clauses[0];
  EXPECT_EQ(k.kind, c.kind) << c.cell;
  EXPECT_EQ(k.text, c.cell);
  EXPECT_EQ(k.column, 5);
  // One operand per kind: whichever the case names.
  const std::string operand = std::string(c.stage) + c.path + c.word + c.command;
  EXPECT_EQ(k.operand, operand) << c.cell;
  EXPECT_EQ(k.exit_code, c.exit_code) << c.cell;
  EXPECT_EQ(k.count, c.count) << c.cell;
}

INSTANTIATE_TEST_SUITE_P(
    Grammar, ParseConditionTyped,
    ::testing::Values(
        Typed{"always", Kind::always}, Typed{"approved", Kind::approved},
        Typed{"stage 0 done", Kind::stage_done, "0"}, Typed{"stage 12 done", Kind::stage_done, "12"},
        Typed{"stage lambdas done", Kind::stage_done, "lambdas"},
        Typed{"stage cool-prod-array done", Kind::stage_done, "cool-prod-array"},
        Typed{"exit=0", Kind::exit_code}, Typed{"exit=3", Kind::exit_code, "", 3},
        Typed{"exit = 2", Kind::exit_code, "", 2}, Typed{"exit =1", Kind::exit_code, "", 1},
        Typed{"`output/final.dat` exists", Kind::file_exists, "", 0, "output/final.dat"},
        Typed{"`out/lambda_*.dat` exists", Kind::file_exists, "", 0, "out/lambda_*.dat"},
        Typed{"20× `out/prod_*.dcd` exists", Kind::file_exists, "", 0, "out/prod_*.dcd", 20},
        Typed{"20x `out/prod_*.dcd` exists", Kind::file_exists, "", 0, "out/prod_*.dcd", 20},
        Typed{"3 × `a*.pdb` exists", Kind::file_exists, "", 0, "a*.pdb", 3},
        Typed{"1×`one.txt` exists", Kind::file_exists, "", 0, "one.txt", 1},
        Typed{"no FATAL in log", Kind::no_word_in_log, "", 0, "", 0, "FATAL"},
        Typed{"no NaN in log", Kind::no_word_in_log, "", 0, "", 0, "NaN"},
        Typed{"no `Segmentation fault` in log", Kind::no_word_in_log, "", 0, "", 0, "Segmentation fault"},
        Typed{"`python check.py` exits 0", Kind::command_ok, "", 0, "", 0, "", "python check.py"},
        Typed{"`deploy_hpc.sh --dry-run --npt` exits 0", Kind::command_ok, "", 0, "", 0, "",
              "deploy_hpc.sh --dry-run --npt"},
        Typed{"`test -s a,b.txt` exits 0", Kind::command_ok, "", 0, "", 0, "", "test -s a,b.txt"}));

// ---- splitting and columns ----

TEST(ParseCondition, EmptyAndDashCellsHaveNoClausesAndAreCheckable) {
  for (const char* cell : {"", "—", "-", "   "}) {
    const auto c = parse_condition(cell, 10);
    EXPECT_TRUE(c.clauses.empty()) << cell;
    EXPECT_TRUE(c.checkable()) << cell;
  }
}

TEST(ParseCondition, ClauseColumnsAreFileColumnsOfTheirFirstCharacter) {
  //                    0         1         2
  //                    0123456789012345678901234567
  const auto c = parse_condition("exit=0,  no FATAL in log,`x` exists", 40);
  ASSERT_TRUE(c.checkable());
  ASSERT_EQ(c.clauses.size(), 3u);
  EXPECT_EQ(c.clauses[0].column, 40);
  EXPECT_EQ(c.clauses[1].column, 40 + 9);
  EXPECT_EQ(c.clauses[1].text, "no FATAL in log");
  EXPECT_EQ(c.clauses[2].column, 40 + 25);
  EXPECT_EQ(c.clauses[2].kind, Kind::file_exists);
}

TEST(ParseCondition, ColumnsCountBytesNotCharacters) {
  // "×" is two bytes in UTF-8; the next clause's column counts both.
  const auto c = parse_condition("2× `a` exists, approved", 1);
  ASSERT_EQ(c.clauses.size(), 2u);
  EXPECT_EQ(c.clauses[1].column, 1 + 16);
}

TEST(ParseCondition, CommasInsideBackticksDoNotSplit) {
  const auto c = parse_condition("`grep -q a,b log` exits 0, `x,y.dat` exists", 1);
  ASSERT_TRUE(c.checkable());
  ASSERT_EQ(c.clauses.size(), 2u);
  EXPECT_EQ(c.clauses[0].operand, "grep -q a,b log");
  EXPECT_EQ(c.clauses[1].operand, "x,y.dat");
  EXPECT_EQ(c.clauses[1].column, 28);
}

TEST(ParseCondition, CommasInsideParenthesesKeepProseTogether) {
  const auto c = parse_condition("20 production DCDs, all green (no FATAL, no NaN)", 1);
  ASSERT_EQ(c.uncheckable.size(), 2u);
  EXPECT_EQ(c.uncheckable[1].text, "all green (no FATAL, no NaN)");
  EXPECT_EQ(c.uncheckable[1].column, 21);
}

TEST(ParseCondition, MixedCellKeepsTheCheckablePartsAndReportsTheRest) {
  const auto c = parse_condition("exit=0, density within 5% target, no FATAL in log", 3);
  EXPECT_FALSE(c.checkable());
  ASSERT_EQ(c.clauses.size(), 2u);
  EXPECT_EQ(c.clauses[0].kind, Kind::exit_code);
  EXPECT_EQ(c.clauses[1].kind, Kind::no_word_in_log);
  ASSERT_EQ(c.uncheckable.size(), 1u);
  EXPECT_EQ(c.uncheckable[0].text, "density within 5% target");
  EXPECT_EQ(c.uncheckable[0].column, 3 + 8);
  EXPECT_FALSE(c.uncheckable[0].suggestion.empty());
}

TEST(ParseCondition, EmptyClausesBetweenCommasAreSkipped) {
  const auto c = parse_condition("exit=0,, approved,", 1);
  EXPECT_TRUE(c.checkable());
  ASSERT_EQ(c.clauses.size(), 2u);
  EXPECT_EQ(c.clauses[1].kind, Kind::approved);
  EXPECT_EQ(c.clauses[1].column, 10);
}

// ---- near misses are uncheckable, never guessed ----

TEST(ParseCondition, NearMissesAreUncheckable) {
  for (const char* cell : {"Always",
                           "exit==0",
                           "exit=zero",
                           "exit 0",
                           "exits=0",
                           "stage done",
                           "stage a b done",
                           "`a` exist",
                           "`a` exists now",
                           "output.dat exists",
                           "0× `a` exists",
                           "x `a` exists",
                           "99999999999× `a` exists",
                           "`a` exits 1",
                           "python check.py exits 0",
                           "no FATAL",
                           "no  in log",
                           "no `unclosed in log",
                           "`unclosed, exists",
                           "looks fine",
                           "ρ ≈ ρ*"}) {
    const auto c = parse_condition(cell, 1);
    EXPECT_FALSE(c.checkable()) << cell;
    EXPECT_TRUE(c.clauses.empty()) << cell;
  }
}

// ---- suggestions ----

struct Suggested {
  const char* clause;
  const char* suggestion_contains;
};

class ParseConditionSuggestion : public ::testing::TestWithParam<Suggested> {};

TEST_P(ParseConditionSuggestion, SaysWhatToWriteInstead) {
  const auto c = parse_condition(GetParam().clause, 1);
  ASSERT_EQ(c.uncheckable.size(), 1u) << GetParam().clause;
  EXPECT_EQ(c.uncheckable[0].text, GetParam().clause);
  EXPECT_NE(c.uncheckable[0].suggestion.find(GetParam().suggestion_contains), std::string::npos)
      << GetParam().clause << " -> " << c.uncheckable[0].suggestion;
}

INSTANTIATE_TEST_SUITE_P(
    Prose, ParseConditionSuggestion,
    ::testing::Values(Suggested{"restart written", "`restart.coor` exists"},
                      Suggested{"smoke job exit=0", "write `exit=0`"},
                      Suggested{"all green (no FATAL, no NaN)", "write `no FATAL in log, no NaN in log`"},
                      Suggested{"human approves", "write `approved`"},
                      Suggested{"Approval", "write `approved`"},
                      Suggested{"`randomize_1000K.dcd` reaches 100 ns", "`randomize_1000K.dcd` exists"},
                      Suggested{"20 production DCDs", "20× `*.dcd` exists"},
                      Suggested{"analysis JSON exists with provenance stamp", "`*.json` exists"},
                      Suggested{"npt_equil.restart.xsc", "`npt_equil.restart.xsc` exists"},
                      Suggested{"trajectory present", "`trajectory.*` exists"},
                      Suggested{"looks fine", "write one of: always, stage N done, exit=N"},
                      Suggested{"manifest OK", "write one of:"}));

// ---- real files: the clauses meant to be checkable are ----

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The Entry and Exit cells (columns 3 and 4) of every `## Stages` row in `text`.
std::vector<std::string> condition_cells(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  bool in_stages = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_stages = line.rfind("## Stages", 0) == 0;
    if (!in_stages || line.rfind("|", 0) != 0 || line.find("---") != std::string::npos) continue;
    std::vector<std::string> cells;
    std::size_t p = 1;
    while (p < line.size()) {
      const std::size_t q = line.find('|', p);
      if (q == std::string::npos) break;
      std::string cell = line.substr(p, q - p);
      cell.erase(0, cell.find_first_not_of(' '));
      cell.erase(cell.find_last_not_of(' ') + 1);
      cells.push_back(cell);
      p = q + 1;
    }
    if (cells.size() >= 4 && cells[0] != "#") {
      out.push_back(cells[2]);
      out.push_back(cells[3]);
    }
  }
  return out;
}

TEST(ParseConditionRealFiles, OurTemplatesAndStagedFixturesAreFullyCheckable) {
  const std::filesystem::path root(CAIRN_SOURCE_DIR);
  int cells = 0;
  for (const char* rel : {"templates/WORKFLOW.template.md", "templates/WORKFLOW.namd-ensemble.md",
                          "tests/fixtures/workflows/with-stages/WORKFLOW.md"}) {
    const std::string text = slurp(root / rel);
    ASSERT_FALSE(text.empty()) << rel;
    for (const auto& cell : condition_cells(text)) {
      ++cells;
      const auto c = parse_condition(cell, 1);
      EXPECT_TRUE(c.checkable()) << rel << ": " << cell;
    }
  }
  EXPECT_GE(cells, 4);
}

TEST(ParseConditionRealFiles, NamdUpstreamProseIsReportedWithSuggestions) {
  const std::string text =
      slurp(std::filesystem::path(CAIRN_SOURCE_DIR) / "tests/fixtures/workflows/WORKFLOW.namd-ensemble.md");
  ASSERT_FALSE(text.empty());
  int uncheckable = 0;
  for (const auto& cell : condition_cells(text)) {
    for (const auto& u : parse_condition(cell, 1).uncheckable) {
      ++uncheckable;
      EXPECT_FALSE(u.suggestion.empty()) << u.text;
    }
  }
  // "smoke job exit=0", "restart written", "density within 5% target", ... : most exits are prose.
  EXPECT_GE(uncheckable, 8);
}

}  // namespace
}  // namespace cairn::parse
