// util/strings: the one trim, lower, join, to_int and one_line the modules share.

#include <gtest/gtest.h>

#include <cairn/util/strings.hpp>

namespace cairn::util {
namespace {

TEST(Strings, TrimTakesAsciiWhitespaceFromBothEnds) {
  EXPECT_EQ(trim("  a b\t\r\n"), "a b");
  EXPECT_EQ(trim("\f\va\v"), "a");
  EXPECT_EQ(trim(" \t\r\n"), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("\xC2\xA0x\xC2\xA0"), "\xC2\xA0x\xC2\xA0");  // UTF-8 (a no-break space) is kept
}

TEST(Strings, BlankIsSpacesAndTabsOnly) {
  EXPECT_TRUE(is_blank(""));
  EXPECT_TRUE(is_blank(" \t "));
  EXPECT_FALSE(is_blank(" \r"));
  EXPECT_FALSE(is_blank(" x "));
}

TEST(Strings, LowerTouchesAsciiLettersOnly) {
  EXPECT_EQ(lower("OOM-Killed Ä"), "oom-killed \xC3\x84");
}

TEST(Strings, LowerWordsCollapsesBlanks) {
  EXPECT_EQ(lower_words("  Walltime \t X2 "), "walltime x2");
  EXPECT_EQ(lower_words("partition=GPU"), "partition=gpu");
  EXPECT_EQ(lower_words(""), "");
  EXPECT_EQ(lower_words(" \t "), "");
}

TEST(Strings, JoinPutsTheSeparatorBetween) {
  EXPECT_EQ(join({}, ", "), "");
  EXPECT_EQ(join({"a"}, ", "), "a");
  EXPECT_EQ(join({"a", "", "c"}, ","), "a,,c");
}

TEST(Strings, ToIntTakesTheWholeTrimmedText) {
  EXPECT_EQ(to_int(" 42\n"), 42);
  EXPECT_EQ(to_int("-7"), -7);
  EXPECT_EQ(to_int("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(to_int("9223372036854775808"), std::nullopt);  // does not fit
  EXPECT_EQ(to_int("12ab"), std::nullopt);
  EXPECT_EQ(to_int("+5"), std::nullopt);
  EXPECT_EQ(to_int(""), std::nullopt);
  EXPECT_EQ(to_int("1e3"), std::nullopt);
}

TEST(Strings, OneLineTurnsLineBreaksIntoSpaces) {
  EXPECT_EQ(one_line("a\r\nb\nc"), "a  b c");
}

}  // namespace
}  // namespace cairn::util
