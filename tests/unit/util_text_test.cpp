// util/text: widths, cutting, and the growth of a refetched log tail.

#include <cairn/util/text.hpp>

#include <gtest/gtest.h>

namespace cairn::util {
namespace {

TEST(DisplayWidth, CountsCodePointsNotBytesNorColour) {
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("—"), 1u);
  EXPECT_EQ(display_width("\x1b[31mfailed\x1b[0m"), 6u);
}

TEST(CutToWidth, EndsInAnEllipsisAndNeverSplitsACodePoint) {
  EXPECT_EQ(cut_to_width("escalated", 20), "escalated");
  EXPECT_EQ(cut_to_width("escalated", 5), "esca…");
  EXPECT_EQ(display_width(cut_to_width("a—b—c—d", 4)), 4u);
  EXPECT_EQ(cut_to_width("a—b—c—d", 4), "a—b…");
  EXPECT_EQ(cut_to_width("abc", 0), "");
}

TEST(Appended, IsWhatARefetchedTailAdds) {
  EXPECT_EQ(appended("", "a\nb\n"), "a\nb\n");
  EXPECT_EQ(appended("a\nb\n", "a\nb\nc\n"), "c\n");
  EXPECT_EQ(appended("a\nb\n", "a\nb\n"), "");
  // The window moved on: the tail lost its first lines and gained new ones.
  EXPECT_EQ(appended("a\nb\nc\n", "b\nc\nd\ne\n"), "d\ne\n");
  // A line finished after the last look.
  EXPECT_EQ(appended("a\nhal", "a\nhalf done\n"), "f done\n");
  // Nothing in common: the log was rewritten, or grew past a whole window.
  EXPECT_EQ(appended("a\nb\n", "x\ny\n"), "x\ny\n");
}

}  // namespace
}  // namespace cairn::util
