// classify_tool_error, the one reading of a failed scheduler tool for the slurm, osmo
// and command backends: whose fault it is (the service's: unreachable; the request's: a
// finding) and what it said, on the real tools' error output kept as fixtures.

#include <cairn/sched/tool_error.hpp>

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include <cairn/util/fs.hpp>

namespace cairn::sched {
namespace {

CommandResult failed_with(const std::string& fixture) {
  auto text = util::read_file(std::string(CAIRN_SOURCE_DIR) + "/tests/fixtures/" + fixture);
  EXPECT_TRUE(text) << fixture;
  return CommandResult{1, "", text ? *text : ""};
}

TEST(ToolError, WhoseFaultOnEveryToolsOwnWords) {
  const std::vector<std::pair<std::string, ExitCode>> cases = {
      {"slurm/sbatch_invalid_partition.err", ExitCode::findings},
      {"slurm/sbatch_qos_limit.err", ExitCode::findings},
      {"slurm/sbatch_socket_timeout.err", ExitCode::unreachable},
      {"slurm/sbatch_unable_to_contact.err", ExitCode::unreachable},
      {"slurm/squeue_socket_timeout.err", ExitCode::unreachable},
      {"slurm/squeue_unable_to_contact.err", ExitCode::unreachable},
      {"slurm/sacct_connection_refused.err", ExitCode::unreachable},
      {"command/pbs_qstat_connect.err", ExitCode::unreachable},
      {"command/pbs_qsub_badqueue.err", ExitCode::findings},
      {"command/lsf_lim_down.err", ExitCode::unreachable},
      {"command/lsf_bsub_badqueue.err", ExitCode::findings},
      {"command/kubectl_unreachable.err", ExitCode::unreachable},
      {"command/kubectl_forbidden.err", ExitCode::findings},
      {"command/vastai_unreachable.err", ExitCode::unreachable},
      {"osmo/submit_validation_error.txt", ExitCode::findings}};
  for (const auto& [file, want] : cases) {
    Error e = classify_tool_error("tool", failed_with(file));
    EXPECT_EQ(e.exit, want) << file << ": " << e.message;
    EXPECT_EQ(e.message.rfind("tool: ", 0), 0u) << e.message;
  }
  // OSMO's Python client, and a tool that says so on stdout.
  EXPECT_EQ(
      classify_tool_error("osmo", CommandResult{1, "", "requests.exceptions.ConnectionError: boom"}).exit,
      ExitCode::unreachable);
  EXPECT_EQ(classify_tool_error("osmo", CommandResult{1, "HTTP 504 Gateway Timeout", ""}).exit,
            ExitCode::unreachable);
}

TEST(ToolError, WhatItSaidFromTheErrorLineOn) {
  // Every line from the first that says "error": Slurm's reason and its summary.
  EXPECT_EQ(tool_error_text(failed_with("slurm/sbatch_qos_limit.err")),
            "sbatch: error: QOSMaxSubmitJobPerUserLimit / sbatch: error: Batch job submission failed: Job "
            "violates accounting/QOS policy (job submit limit, user's size and/or time limits)");
  EXPECT_NE(
      classify_tool_error("kubectl", failed_with("command/kubectl_forbidden.err")).message.find("Forbidden"),
      std::string::npos);
  // OSMO's capacity table stays whole, its columns one space apart.
  const std::string osmo = tool_error_text(failed_with("osmo/submit_validation_error.txt"));
  EXPECT_EQ(osmo.rfind("ERROR: Workflow submission failed capacity validation. / ", 0), 0u) << osmo;
  EXPECT_NE(osmo.find(" / memory 2000Gi 1500Gi / storage 2000Gi 1024Gi / Adjust"), std::string::npos) << osmo;
  // What comes before the error line (a traceback) is left out; without one, all of it.
  EXPECT_EQ(tool_error_text({1, "",
                             "Traceback (most recent call last):\n  File \"x.py\", line 3\n"
                             "ValueError: pool   'nope' does not exist\n"}),
            "ValueError: pool 'nope' does not exist");
  EXPECT_EQ(tool_error_text({1, "", "qsub: Unknown queue\n\n  try qstat -Q\n"}),
            "qsub: Unknown queue / try qstat -Q");
  // stdout when stderr is empty; the exit status when both are.
  EXPECT_EQ(tool_error_text({2, "submit failed: quota\n", ""}), "submit failed: quota");
  EXPECT_EQ(tool_error_text({3, "", " \n"}), "exit 3");
  // A flood is cut.
  const std::string long_text = tool_error_text({1, "", "error: " + std::string(5000, 'x')});
  EXPECT_EQ(long_text.size(), 603u);
  EXPECT_EQ(long_text.substr(600), "...");
}

TEST(ToolError, UnreachableWordsInAnyCase) {
  for (const char* text :
       {"Connection refused", "CONNECTION RESET BY PEER", "Socket timed out on send/recv",
        "Temporary failure in name resolution", "503 Service Unavailable", "Slurmctld is not responding",
        "Cannot connect to LSF. Please wait ...", "Unable to connect to the server: dial tcp"}) {
    EXPECT_TRUE(says_unreachable(text)) << text;
  }
  for (const char* text : {"", "sbatch: error: invalid partition specified: nosuch",
                           "Job violates QOS time limits", "qsub: Unknown queue", "Forbidden"}) {
    EXPECT_FALSE(says_unreachable(text)) << text;
  }
}

}  // namespace
}  // namespace cairn::sched
