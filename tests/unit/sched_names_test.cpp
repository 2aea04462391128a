// Job keys as Kubernetes names and label values: valid whatever the key holds, stable,
// and distinct for the keys of two repositories that share a campaign name.

#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <cairn/engine/ports.hpp>
#include <cairn/sched/names.hpp>

namespace cairn::sched {
namespace {

bool valid_label_value(const std::string& v) {
  static const std::regex re("([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)?");
  return v.size() <= 63 && std::regex_match(v, re);
}

bool valid_dns_label(const std::string& v) {
  static const std::regex re("[a-z0-9]([a-z0-9-]*[a-z0-9])?");
  return v.size() <= 63 && std::regex_match(v, re);
}

TEST(Names, AKeyThatIsAValidLabelValueStaysItself) {
  EXPECT_EQ(label_value("cairn.gr00t.train.1"), "cairn.gr00t.train.1");
  const engine::JobKey key{"cnt-hydro-300k", "smoke", 2, "9f3a2c1b"};
  EXPECT_EQ(label_value(key.str()), "cairn.9f3a2c1b.cnt-hydro-300k.smoke.2");
}

TEST(Names, OtherKeysBecomeAValidStableHashForm) {
  const std::string campaign = "cnt-hydrogenation-300k-ensemble-with-a-very-long-descriptive-name";
  const engine::JobKey a{campaign, "prod", 3, "a1b2c3d4"};
  const engine::JobKey b{campaign, "prod", 3, "a1b2c3d5"};  // another repository
  for (const std::string& key : {a.str(), b.str(), std::string("cairn.Mol_Screen x;y.smoke.1"),
                                 std::string("cairn.é.s.1"), std::string(".x."), std::string("")}) {
    SCOPED_TRACE(key);
    const std::string v = label_value(key);
    EXPECT_TRUE(valid_label_value(v)) << v;
    EXPECT_FALSE(v.empty());
    EXPECT_EQ(v, label_value(key));  // stable
    EXPECT_TRUE(valid_dns_label(dns_label(key))) << dns_label(key);
  }
  // The prefix says what it is; the hash tells the two repositories apart.
  EXPECT_EQ(label_value(a.str()).rfind("cairn.a1b2c3d4.cnt-hydrogenation", 0), 0u) << label_value(a.str());
  EXPECT_GE(label_value(a.str()).size(), 55u);  // as much of the key as fits
  EXPECT_NE(label_value(a.str()), label_value(b.str()));
  EXPECT_NE(dns_label(a.str()), dns_label(b.str()));
  EXPECT_EQ(label_value("cairn.Mol_Screen x;y.smoke.1").rfind("cairn.Mol_Screen-x-y.smoke.1-", 0), 0u);
}

TEST(Names, DnsLabelsAsTheKubernetesPresetNamedJobsBefore) {
  EXPECT_EQ(dns_label("cairn.Mol_Screen x;y.smoke.1"), "cairn-mol-screen-x-y-smoke-1");
  EXPECT_EQ(dns_label("cairn.mol-screen.prep.1"), "cairn-mol-screen-prep-1");
  EXPECT_EQ(dns_label("..."), "cairn");
}

// OSMO workflow names (the YAML's `workflow.name`, to which OSMO adds "-<counter>"):
// OSMO's name pattern, short enough for the counter, and a different name for every key,
// also for keys whose readable parts collide once '.' becomes '-', and for attempt 1
// against attempt 10 (OSMO's `workflow list --name` matches any name containing it).
TEST(Names, OsmoWorkflowNamesAreValidDistinctAndNoneContainsAnother) {
  static const std::regex osmo_name("[a-zA-Z]([a-zA-Z0-9_-]*[a-zA-Z0-9])?");
  const std::string long_campaign = "cnt-hydrogenation-300k-ensemble-with-a-very-long-descriptive-name";
  const std::vector<std::string> keys = {engine::JobKey{"gr00t", "train", 1, "a1b2c3d4"}.str(),
                                         engine::JobKey{"gr00t", "train", 10, "a1b2c3d4"}.str(),
                                         engine::JobKey{"a-b", "c", 1, "a1b2c3d4"}.str(),
                                         engine::JobKey{"a", "b-c", 1, "a1b2c3d4"}.str(),
                                         engine::JobKey{long_campaign, "prod", 3, "a1b2c3d4"}.str(),
                                         "cairn.Mol_Screen x;y.smoke.1",
                                         "1.2.3",
                                         ""};
  for (const auto& key : keys) {
    SCOPED_TRACE(key);
    const std::string n = osmo_workflow_name(key);
    EXPECT_TRUE(std::regex_match(n, osmo_name)) << n;
    EXPECT_LE(n.size(), 54u) << n;          // room for OSMO's "-<counter>" within 63
    EXPECT_EQ(n, osmo_workflow_name(key));  // stable
    for (const auto& other : keys) {
      if (other != key) {
        EXPECT_EQ(osmo_workflow_name(other).find(n), std::string::npos) << other;
      }
    }
  }
  EXPECT_EQ(osmo_workflow_name("cairn.a1b2c3d4.gr00t.train.1").rfind("cairn-a1b2c3d4-gr00t-train-1-", 0), 0u);
}

}  // namespace
}  // namespace cairn::sched
