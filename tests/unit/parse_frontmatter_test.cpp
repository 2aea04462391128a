#include <cairn/parse/frontmatter.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace cairn::parse::fm {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Compares the fast reader's value with yaml-cpp's, position included (null values
// excepted: yaml-cpp marks those at the next token).
void expect_same(const Value& fast, const Value& slow, const std::string& where) {
  ASSERT_EQ(static_cast<int>(fast.kind), static_cast<int>(slow.kind)) << where;
  if (fast.kind != Value::Kind::null) {
    EXPECT_EQ(fast.line, slow.line) << where;
    EXPECT_EQ(fast.column, slow.column) << where;
  }
  EXPECT_EQ(fast.scalar, slow.scalar) << where;
  EXPECT_EQ(fast.key_line, slow.key_line) << where;
  EXPECT_EQ(fast.key_column, slow.key_column) << where;
  ASSERT_EQ(fast.map.size(), slow.map.size()) << where;
  for (std::size_t i = 0; i < fast.map.size(); ++i) {
    EXPECT_EQ(fast.map[i].first, slow.map[i].first) << where;
    expect_same(fast.map[i].second, slow.map[i].second, where + "." + fast.map[i].first);
  }
  ASSERT_EQ(fast.seq.size(), slow.seq.size()) << where;
  for (std::size_t i = 0; i < fast.seq.size(); ++i) {
    expect_same(fast.seq[i], slow.seq[i], where + "[" + std::to_string(i) + "]");
  }
}

std::string frontmatter_of(const std::string& text) {
  const std::size_t b = text.find('\n') + 1;
  std::size_t e = text.find("\n---", b);
  return text.substr(b, e + 1 - b);
}

TEST(FrontmatterFastReader, AgreesWithYamlCppOnEveryFixture) {
  int checked = 0;
  for (const auto& dir : {"tests/fixtures/workflows", "tests/fixtures/golden"}) {
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(CAIRN_SOURCE_DIR) / dir)) {
      if (entry.path().extension() != ".md") continue;
      const std::string yaml = frontmatter_of(slurp(entry.path()));
      const auto fast = read_simple(yaml);
      ASSERT_TRUE(fast) << entry.path() << " should stay within the fast subset";
      Value slow = to_value(YAML::Load(yaml));
      // The root's own mark (after leading comments) is never reported; its children's are.
      slow.line = fast->line;
      slow.column = fast->column;
      expect_same(*fast, slow, entry.path().filename().string());
      ++checked;
    }
  }
  EXPECT_GE(checked, 9);
}

TEST(FrontmatterFastReader, NestedBlocksKeepKeyPositions) {
  const std::string yaml =
      "campaign: x\nstages:   # how\n  a:\n    run: a.sh\n    resources:\n      time: \"01:00:00\"\n\n"
      "  b: {run: b.sh, cpus: 4}\nstatus: ready\n";
  const auto fast = read_simple(yaml);
  ASSERT_TRUE(fast);
  ASSERT_EQ(fast->map.size(), 3u);
  EXPECT_EQ(fast->map[2].second.scalar, "ready");
  const Value* stages = fast->find("stages");
  ASSERT_NE(stages, nullptr);
  ASSERT_EQ(stages->map.size(), 2u);
  const Value& a = stages->map[0].second;
  EXPECT_EQ(a.key_line, 2);
  EXPECT_EQ(a.key_column, 2);
  const Value* time = a.find("resources")->find("time");
  ASSERT_NE(time, nullptr);
  EXPECT_EQ(time->scalar, "01:00:00");
  EXPECT_EQ(time->key_line, 5);
  EXPECT_EQ(time->key_column, 6);
  const Value* cpus = stages->map[1].second.find("cpus");
  ASSERT_NE(cpus, nullptr);
  EXPECT_EQ(cpus->key_line, 7);
  EXPECT_EQ(cpus->key_column, 17);
  EXPECT_EQ(cpus->scalar, "4");
  // yaml-cpp agrees on all of it.
  Value slow = to_value(YAML::Load(yaml));
  slow.line = fast->line;
  slow.column = fast->column;
  expect_same(*fast, slow, "nested");
}

TEST(FrontmatterFastReader, LeavesEverythingElseToYamlCpp) {
  const char* outside[] = {
      "a: &x 1\n",               // anchor
      "a: *x\n",                 // alias
      "a: !!str 1\n",            // tag
      "a: |\n  text\n",          // block scalar
      "a: b: c\n",               // invalid plain scalar
      "a:\n    b: 1\n  c: 2\n",  // inconsistent indentation
      "a: one\n  two\n",         // multi-line plain scalar
      "a: \"open\n",             // unterminated quote
      "a: 1\na: 2\n",            // duplicate key
      "  a: 1\n",                // indented top level
      "a: {b: 1\n",              // unterminated flow map
      "- a\n",                   // not a mapping
      "a: \"\\u00e9\"\n",        // escapes beyond the simple ones
      "\"a\": 1\n",              // quoted key
  };
  for (const char* y : outside) EXPECT_FALSE(read_simple(y)) << y;
}

TEST(FrontmatterFastReader, BooleansAndNumbersReadLikeYamlCpp) {
  for (const char* t : {"true", "True", "yes", "on", "Y"}) {
    EXPECT_EQ(to_bool(t), std::optional<bool>(true)) << t;
    EXPECT_TRUE(YAML::Load(t).as<bool>()) << t;
  }
  for (const char* f : {"false", "no", "Off", "N"}) {
    EXPECT_EQ(to_bool(f), std::optional<bool>(false)) << f;
    EXPECT_FALSE(YAML::Load(f).as<bool>()) << f;
  }
  EXPECT_FALSE(to_bool("maybe"));
  EXPECT_EQ(to_double("12.50"), std::optional<double>(12.5));
  EXPECT_EQ(to_double("+3"), std::optional<double>(3));
  EXPECT_EQ(to_double("-0.25"), std::optional<double>(-0.25));
  EXPECT_FALSE(to_double("12 USD"));
  EXPECT_FALSE(to_double(""));
}

TEST(FrontmatterScalar, LocatesQuotedPlainFlowAndEmptyValues) {
  const std::string y =
      "a: plain value   # c\nb: \"q\\\"x\"\nc: 'it''s'\nd: {x: 1, y: two}\ne:     # empty\nf: [1, 2]\n";
  auto at = [&](std::string_view key) {
    auto s = locate_scalar(y, key);
    EXPECT_TRUE(s) << key;
    return s ? y.substr(s->begin, s->end - s->begin) : std::string("?");
  };
  EXPECT_EQ(at("a"), "plain value");
  EXPECT_EQ(at("b"), "\"q\\\"x\"");
  EXPECT_EQ(at("c"), "'it''s'");
  EXPECT_EQ(at("d.y"), "two");
  EXPECT_EQ(at("d.x"), "1");
  const auto e = locate_scalar(y, "e");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->insert);
  EXPECT_EQ(y.substr(0, e->begin).substr(y.find("e:")), "e:");
  EXPECT_FALSE(locate_scalar(y, "f"));
  EXPECT_FALSE(locate_scalar(y, "d"));
  EXPECT_FALSE(locate_scalar(y, "zz"));
  EXPECT_FALSE(locate_scalar(y, "a.b"));
}

TEST(FrontmatterScalar, RendersInTheSlotsStyle) {
  ScalarSpan plain;
  ScalarSpan flow;
  flow.flow = true;
  ScalarSpan single;
  single.quote = '\'';
  ScalarSpan dq;
  dq.quote = '"';
  EXPECT_EQ(render_scalar("running", plain), "running");
  EXPECT_EQ(render_scalar("", plain), "\"\"");
  EXPECT_EQ(render_scalar("a: b", plain), "\"a: b\"");
  EXPECT_EQ(render_scalar("#x", plain), "\"#x\"");
  EXPECT_EQ(render_scalar("null", plain), "\"null\"");
  EXPECT_EQ(render_scalar("a,b", plain), "a,b");
  EXPECT_EQ(render_scalar("a,b", flow), "\"a,b\"");
  EXPECT_EQ(render_scalar("it's", single), "'it''s'");
  EXPECT_EQ(render_scalar("x", dq), "\"x\"");
  EXPECT_EQ(render_scalar("line\nbreak", single), "\"line\\nbreak\"");
}

}  // namespace
}  // namespace cairn::parse::fm
