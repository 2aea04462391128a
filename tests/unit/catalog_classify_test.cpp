// The shipped failure catalog against real-format job logs and scheduler evidence.

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include <cairn/catalog/catalog.hpp>

namespace cairn::catalog {
namespace {

std::string read(const std::string& rel) {
  std::ifstream in(std::string(CAIRN_SOURCE_DIR) + "/" + rel, std::ios::binary);
  EXPECT_TRUE(in) << rel;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const CatalogSet& shipped() {
  static const CatalogSet set = [] {
    auto loaded = load_catalogs({{"catalogs/failure-catalog.md", read("catalogs/failure-catalog.md"), ""}});
    EXPECT_TRUE(loaded.has_value());
    return loaded ? std::move(*loaded) : CatalogSet();
  }();
  return set;
}

TEST(CatalogShipped, LoadsWithoutDiagnostics) {
  auto loaded = load_catalogs({{"catalogs/failure-catalog.md", read("catalogs/failure-catalog.md"), ""}});
  ASSERT_TRUE(loaded.has_value());
  for (const auto& d : loaded->diagnostics()) ADD_FAILURE() << doc::format(d);
  EXPECT_GE(loaded->entries().size(), 15u);
}

TEST(CatalogShipped, EveryRequiredClassIsPresent) {
  for (const char* cls :
       {"walltime-exceeded", "out-of-memory", "gpu-oom", "segfault", "node-failure", "preemption",
        "transient-connection", "image-pull", "image-unauthorized", "insufficient-gpu", "nccl-timeout",
        "template-variable", "disk-quota", "numerical-blowup"}) {
    bool found = false;
    for (const auto& e : shipped().entries()) found = found || e.error_class == cls;
    EXPECT_TRUE(found) << cls;
  }
}

struct Case {
  const char* name;
  engine::Evidence evidence;
  const char* error_class;
  const char* fix;
  const char* matched_part;  // a substring `matched` must hold
};

engine::Evidence log(const std::string& text) {
  engine::Evidence ev;
  ev.state = "failed";
  ev.log_tail = text;
  return ev;
}
engine::Evidence state(const char* s, std::optional<int> exit = std::nullopt) {
  engine::Evidence ev;
  ev.state = s;
  ev.exit_code = exit;
  return ev;
}
engine::Evidence reason(const std::string& text) {
  engine::Evidence ev;
  ev.state = "pending";
  ev.reason = text;
  return ev;
}

class ShippedClassifies : public ::testing::TestWithParam<Case> {};

TEST_P(ShippedClassifies, Sample) {
  const Case& c = GetParam();
  const auto cls = shipped().classify(c.evidence);
  ASSERT_TRUE(cls.has_value()) << c.name;
  EXPECT_EQ(cls->error_class, c.error_class)
      << c.name << " matched " << cls->matched << " at " << cls->source;
  EXPECT_EQ(cls->fix, c.fix) << c.name;
  EXPECT_NE(cls->matched.find(c.matched_part), std::string::npos) << c.name << ": " << cls->matched;
  EXPECT_LE(cls->matched.size(), 210u);
  EXPECT_EQ(cls->source.rfind("catalogs/failure-catalog.md:", 0), 0u) << cls->source;
}

INSTANTIATE_TEST_SUITE_P(
    RealFormats, ShippedClassifies,
    ::testing::Values(
        Case{"slurm_time_limit", log(read("tests/fixtures/logs/slurm_timeout.log")), "walltime-exceeded",
             "walltime x2", "DUE TO TIME LIMIT"},
        Case{"slurm_state_timeout", state("TIMEOUT"), "walltime-exceeded", "walltime x2", "TIMEOUT"},
        Case{"local_timeout", state("timeout", 124), "walltime-exceeded", "walltime x2", "TIMEOUT"},
        Case{"slurm_oom_kill", log(read("tests/fixtures/logs/slurm_oom.log")), "out-of-memory", "mem x2",
             "Detected 1 oom-kill event(s) in StepId=12345678.batch"},
        Case{"slurm_state_oom", state("out_of_memory"), "out-of-memory", "mem x2", "OUT_OF_MEMORY"},
        Case{"exit_137", state("failed", 137), "out-of-memory", "mem x2", "137"},
        Case{"osmo_oom", reason(read("tests/fixtures/logs/osmo_events_oom.txt")), "out-of-memory", "mem x2",
             "OOMKill"},
        Case{"pytorch_cuda_oom", log(read("tests/fixtures/logs/pytorch_cuda_oom.log")), "gpu-oom", "",
             "CUDA out of memory. Tried to allocate"},
        Case{"segfault_exit", state("failed", 139), "segfault", "", "139"},
        Case{"segfault_log", log(read("tests/fixtures/logs/segfault.log")), "segfault", "",
             "Segmentation fault"},
        Case{"node_fail", state("node_fail"), "node-failure", "exclude-node", "NODE_FAIL"},
        Case{"node_fail_reason", reason("job 77 ended: NODE_FAIL on c3-12"), "node-failure", "exclude-node",
             "NODE_FAIL on c3-12"},
        Case{"preempted", state("PREEMPTED"), "preemption", "resubmit", "PREEMPTED"},
        Case{"nccl_watchdog", log(read("tests/fixtures/logs/nccl_watchdog.log")), "nccl-timeout", "resubmit",
             "Watchdog caught collective operation timeout"},
        Case{"osmo_bad_image", reason(read("tests/fixtures/logs/osmo_events_badimage.txt")), "image-pull", "",
             "manifest unknown"},
        Case{"osmo_private_image", reason(read("tests/fixtures/logs/osmo_events_private_image.txt")),
             "image-unauthorized", "", "unauthorized: authentication required"},
        Case{"osmo_pending_gpu", reason(read("tests/fixtures/logs/osmo_events_pending.txt")),
             "insufficient-gpu", "", "6 Insufficient nvidia.com/gpu"},
        Case{"template_variable", log(read("tests/fixtures/logs/osmo_template_variable.txt")),
             "template-variable", "", "'num_gpu' is undefined"},
        Case{"disk_quota", log(read("tests/fixtures/logs/disk_quota.log")), "disk-quota", "",
             "Disk quota exceeded"},
        Case{"namd_velocity", log(read("tests/fixtures/logs/namd_velocity.log")), "numerical-blowup", "",
             "velocity is 14658.2"},
        Case{"loss_nan", log("step=3500 loss=nan lr=8.2e-05\n"), "numerical-blowup", "", "loss=nan"},
        Case{"ssh_timeout", reason(read("tests/fixtures/logs/ssh_unreachable.err")), "transient-connection",
             "", "ssh: connect to host"},
        Case{"squeue_socket", reason(read("tests/fixtures/slurm/squeue_socket_timeout.err")),
             "transient-connection", "", "Socket timed out on send/recv"},
        Case{"sacct_refused", reason(read("tests/fixtures/slurm/sacct_connection_refused.err")),
             "transient-connection", "", "Connection refused"},
        Case{"sbatch_unreachable", reason(read("tests/fixtures/slurm/sbatch_unable_to_contact.err")),
             "transient-connection", "", "Unable to contact slurm controller"}),
    [](const ::testing::TestParamInfo<Case>& p) { return std::string(p.param.name); });

TEST(CatalogShipped, TransientAndDestructiveFlags) {
  const auto ssh = shipped().classify(reason("ssh: connect to host alpine port 22: Connection refused"));
  ASSERT_TRUE(ssh);
  EXPECT_TRUE(ssh->transient);
  EXPECT_TRUE(ssh->safe_to_retry);
  EXPECT_FALSE(ssh->destructive);

  const auto nan = shipped().classify(log("Loss is NaN at step 12\n"));
  ASSERT_TRUE(nan);
  EXPECT_EQ(nan->error_class, "numerical-blowup");
  EXPECT_TRUE(nan->destructive);
  EXPECT_FALSE(nan->transient);
  EXPECT_EQ(nan->fix, "");

  const auto walltime = shipped().classify(state("TIMEOUT"));
  ASSERT_TRUE(walltime);
  EXPECT_FALSE(walltime->transient);
  EXPECT_TRUE(walltime->safe_to_retry);
  EXPECT_EQ(walltime->max_auto_fixes, 1);
  EXPECT_FALSE(walltime->hint.empty());
}

TEST(CatalogShipped, UnknownFailureIsNotClassified) {
  EXPECT_FALSE(shipped().classify(log("Traceback (most recent call last):\nKeyError: 'density'\n")));
  EXPECT_FALSE(shipped().classify(state("failed", 1)));
  EXPECT_FALSE(shipped().classify(engine::Evidence{}));
  // The job merely left the queue: not a connection problem.
  EXPECT_FALSE(shipped().classify(reason(read("tests/fixtures/slurm/squeue_invalid_job_id.err"))));
}

TEST(CatalogShipped, TimeoutBeatsExit137AndCudaOomIsNotHostOom) {
  const auto t = shipped().classify(state("TIMEOUT", 137));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->error_class, "walltime-exceeded");
  auto ev = log(read("tests/fixtures/logs/pytorch_cuda_oom.log"));
  ev.exit_code = 1;
  const auto g = shipped().classify(ev);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->error_class, "gpu-oom");
  EXPECT_NE(g->hint.find("batch size"), std::string::npos);
}

TEST(CatalogShipped, MatchedLineIsTrimmedAroundTheMatch) {
  const std::string prefix(500, 'x');
  const auto cls =
      shipped().classify(log("start\n   " + prefix + " Disk quota exceeded " + prefix + "\nend\n"));
  ASSERT_TRUE(cls);
  EXPECT_LE(cls->matched.size(), 210u);
  EXPECT_NE(cls->matched.find("Disk quota exceeded"), std::string::npos);
}

// Issue 19, finding 8: around the match, bytes that are all UTF-8 continuation bytes
// (invalid text) kept the cut from ever finding a boundary: the whole 1 KB line went
// into the failure log.
TEST(CatalogShipped, MatchedLineIsTrimmedOnInvalidUtf8) {
  const std::string junk(500, '\x80');
  const auto cls = shipped().classify(log("start\n" + junk + " Disk quota exceeded " + junk + "\nend\n"));
  ASSERT_TRUE(cls);
  EXPECT_LE(cls->matched.size(), 220u);
  EXPECT_NE(cls->matched.find("Disk quota exceeded"), std::string::npos);
}

}  // namespace
}  // namespace cairn::catalog
