// CatalogSet::classify scans all log signatures at once (one RE2::Set) and must give
// what trying each entry in priority order gives.

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cairn/catalog/catalog.hpp>

namespace cairn::catalog {
namespace {

constexpr const char* kHeader =
    "| Class | Exit code | Scheduler state | Log signature (RE2) | Safe to retry | Auto-fix | Max fixes | "
    "Hint |\n"
    "|---|---|---|---|---|---|---|---|\n";

CatalogSet load(const std::string& rows) {
  auto set = load_catalogs({{"c.md", std::string("# Catalog\n\n") + kHeader + rows, ""}});
  EXPECT_TRUE(set.has_value());
  EXPECT_TRUE(!set || set->diagnostics().empty());
  return set ? std::move(*set) : CatalogSet();
}

engine::Evidence log(const std::string& text, std::optional<int> exit = std::nullopt) {
  engine::Evidence ev;
  ev.state = "failed";
  ev.exit_code = exit;
  ev.log_tail = text;
  return ev;
}

TEST(CatalogSignatureSet, PriorityOrderNotLogOrderDecides) {
  const CatalogSet set = load(
      "| disk | — | — | `Disk quota exceeded` | no | none | — | |\n"
      "| generic-io | — | — | `(?i)i/o error\\|quota` | no | none | — | |\n"
      "| segv | — | — | `Segmentation fault` | no | none | — | |\n");
  // The lower-priority entries match earlier lines; the first entry still wins.
  const auto cls =
      set.classify(log("Segmentation fault (core dumped)\nI/O error\nwrite: Disk quota exceeded\n"));
  ASSERT_TRUE(cls);
  EXPECT_EQ(cls->error_class, "disk");
  EXPECT_EQ(cls->matched, "write: Disk quota exceeded");
  EXPECT_EQ(cls->source, "c.md:5");

  const auto io = set.classify(log("Segmentation fault\nI/O error on /scratch\n"));
  ASSERT_TRUE(io);
  EXPECT_EQ(io->error_class, "generic-io");
  EXPECT_EQ(io->matched, "I/O error on /scratch");
}

TEST(CatalogSignatureSet, EntriesWithoutALogSignatureKeepTheirPlace) {
  const CatalogSet set = load(
      "| timeout | — | TIMEOUT | — | yes | walltime x2 | 1 | |\n"
      "| oom-logged | 137 | — | `oom-kill` | yes | mem x2 | 1 | |\n"
      "| killed | 137, 9 | — | — | no | none | — | |\n"
      "| segv | — | — | `Segmentation fault` | no | none | — | |\n");
  engine::Evidence ev = log("Segmentation fault\n", 137);
  ev.state = "TIMEOUT";
  EXPECT_EQ(set.classify(ev)->error_class, "timeout");

  // Exit 137 without the oom-kill line: the exit-only row below it, not the segfault row.
  const auto killed = set.classify(log("Segmentation fault\n", 137));
  ASSERT_TRUE(killed);
  EXPECT_EQ(killed->error_class, "killed");
  EXPECT_EQ(killed->matched, "exit code 137");

  // Both columns of the oom row match.
  const auto oom = set.classify(log("slurmstepd: Detected 1 oom-kill event(s)\nSegmentation fault\n", 137));
  ASSERT_TRUE(oom);
  EXPECT_EQ(oom->error_class, "oom-logged");
  EXPECT_EQ(oom->matched, "slurmstepd: Detected 1 oom-kill event(s)");

  EXPECT_EQ(set.classify(log("Segmentation fault\n", 1))->error_class, "segv");
  EXPECT_FALSE(set.classify(log("all good\n", 1)));
}

TEST(CatalogSignatureSet, AMatchOnTheLastLine) {
  const CatalogSet set = load(
      "| nan | — | — | `loss=nan$` | no | none | — | |\n"
      "| fatal | — | — | `^FATAL: .*` | no | none | — | |\n");
  std::string tail;
  for (int i = 0; i < 10000; ++i) tail += fmt::format("step={} loss=0.{}\n", i, i);
  const auto without_newline = set.classify(log(tail + "step=10000 loss=nan"));
  ASSERT_TRUE(without_newline);
  EXPECT_EQ(without_newline->error_class, "nan");
  EXPECT_EQ(without_newline->matched, "step=10000 loss=nan");
  const auto with_newline = set.classify(log(tail + "FATAL: bad input deck\n"));
  ASSERT_TRUE(with_newline);
  EXPECT_EQ(with_newline->error_class, "fatal");
  EXPECT_EQ(with_newline->matched, "FATAL: bad input deck");
  EXPECT_FALSE(set.classify(log(tail + "step=10000 loss=nan!\n")));
}

TEST(CatalogSignatureSet, SignaturesSpanningLinesAndTheReasonStillMatch) {
  const CatalogSet set = load(
      "| key-error | — | — | `Traceback[\\s\\S]*KeyError: 'density'` | no | none | — | |\n"
      "| pending-gpu | — | — | `Insufficient nvidia.com/gpu` | no | none | — | |\n");
  const auto py =
      set.classify(log("Traceback (most recent call last):\n  File \"x.py\"\nKeyError: 'density'\n"));
  ASSERT_TRUE(py);
  EXPECT_EQ(py->error_class, "key-error");
  EXPECT_EQ(py->matched, "Traceback (most recent call last):");

  engine::Evidence ev;
  ev.state = "pending";
  ev.reason = "0/12 nodes are available: 6 Insufficient nvidia.com/gpu.";
  const auto gpu = set.classify(ev);
  ASSERT_TRUE(gpu);
  EXPECT_EQ(gpu->error_class, "pending-gpu");
  EXPECT_EQ(gpu->matched, ev.reason);
}

TEST(CatalogSignatureSet, AThousandEntriesMatchAsOneByOneWould) {
  std::string rows;
  for (int i = 0; i < 1000; ++i) {
    rows += fmt::format(
        "| c{:04} | — | — | `module{:04}: (?:error\\|failure) code [0-9]+` | no | none | — | |\n", i, i);
  }
  const CatalogSet set = load(rows);
  ASSERT_EQ(set.entries().size(), 1000u);
  std::string tail;
  for (int i = 0; i < 5000; ++i) tail += fmt::format("module{:04}: ok step {}\n", i % 1000, i);
  const auto cls = set.classify(log(tail + "module0987: failure code 42\nmodule0990: error code 7\n"));
  ASSERT_TRUE(cls);
  EXPECT_EQ(cls->error_class, "c0987");
  EXPECT_EQ(cls->matched, "module0987: failure code 42");
  EXPECT_EQ(cls->source, fmt::format("c.md:{}", 5 + 987));
  EXPECT_FALSE(set.classify(log(tail)));
}

}  // namespace
}  // namespace cairn::catalog
