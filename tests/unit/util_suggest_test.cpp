// util/suggest: edit distance and the did-you-mean every name lookup uses.

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <cairn/util/suggest.hpp>

namespace cairn::util {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsSubstitutionsAndSwaps) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("slurm", "slurm"), 0u);
  EXPECT_EQ(edit_distance("slurmm", "slurm"), 1u);  // insertion
  EXPECT_EQ(edit_distance("slrm", "slurm"), 1u);    // deletion
  EXPECT_EQ(edit_distance("smoek", "smoke"), 1u);   // adjacent swap
  EXPECT_EQ(edit_distance("partiton", "partition"), 1u);
  EXPECT_EQ(edit_distance("ssh_hots", "ssh_host"), 1u);
  EXPECT_EQ(edit_distance("escalation_requried", "escalation_required"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
}

TEST(Closest, FindsTheNearestWithinTheTypoBudget) {
  const std::vector<std::string> backends = {"local", "slurm", "osmo", "command", "alpine"};
  EXPECT_EQ(closest("slurmm", backends), "slurm");
  EXPECT_EQ(closest("alpne", backends), "alpine");
  EXPECT_EQ(closest("Slurm", backends), "slurm");  // case alone
  EXPECT_EQ(closest("kubernetes", backends), std::nullopt);
  EXPECT_EQ(closest("slurm", backends), std::nullopt);  // known: nothing to suggest
  EXPECT_EQ(closest("", backends), std::nullopt);
}

TEST(Closest, ShortNamesGetASmallerBudget) {
  const std::vector<std::string_view> verbs = {"init", "new", "tick", "log", "logs"};
  EXPECT_EQ(closest("tik", verbs), "tick");
  EXPECT_EQ(closest("lgo", verbs), "log");
  EXPECT_EQ(closest("xyz", verbs), std::nullopt);  // 3 edits from `new`: not a typo
}

TEST(DidYouMean, IsASuffixForTheFailedLookup) {
  const std::vector<std::string> stages = {"smoke", "equilibrate", "production"};
  EXPECT_EQ(did_you_mean("smoek", stages), "; did you mean `smoke`?");
  EXPECT_EQ(did_you_mean("analysis", stages), "");
}

}  // namespace
}  // namespace cairn::util
