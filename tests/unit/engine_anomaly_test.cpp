#include <cairn/engine/anomaly.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cairn/engine/commit_message.hpp>
#include <cairn/util/time.hpp>

namespace cairn::engine {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kNow = *util::parse_time("2026-05-05T12:00:00Z");

TimePoint ago(std::chrono::seconds d) {
  return kNow - d;
}

HistoryEvent ev(std::string campaign, std::string stage, std::string from, std::string to, TimePoint time,
                std::string job = "", std::string error_class = "") {
  return {std::move(campaign),
          std::move(stage),
          std::move(from),
          std::move(to),
          std::move(error_class),
          std::move(job),
          time};
}

// What the tick commits for one attempt of a stage that fails and is retried: submit,
// a heartbeat, the failure, the retry.
void attempt(std::vector<HistoryEvent>& h, const std::string& campaign, const std::string& stage,
             const std::string& job, TimePoint t, const std::string& error_class = "timeout") {
  h.push_back(ev(campaign, stage, "ready", "running", t, job));
  h.push_back(ev(campaign, stage, "running", "running", t + minutes(5), job));
  h.push_back(ev(campaign, stage, "running", "failed", t + minutes(10), job, error_class));
  h.push_back(ev(campaign, stage, "failed", "ready", t + minutes(10), job, error_class));
}

// `n` attempts of one stage, the newest `newest_ago` before now, `spacing` apart.
std::vector<HistoryEvent> resubmits(int n, std::chrono::seconds spacing,
                                    std::chrono::seconds newest_ago = hours(1),
                                    const std::string& campaign = "alpha",
                                    const std::string& stage = "prod") {
  std::vector<HistoryEvent> h;
  for (int i = 0; i < n; ++i) {
    attempt(h, campaign, stage, "job" + std::to_string(i), ago(newest_ago + spacing * (n - 1 - i)));
  }
  return h;
}

// `n` jobs of one campaign ending `spacing` apart, the newest `newest_ago` before now.
std::vector<HistoryEvent> completions(int n, std::chrono::seconds spacing, std::chrono::seconds newest_ago,
                                      const std::string& campaign = "alpha") {
  std::vector<HistoryEvent> h;
  for (int i = 0; i < n; ++i) {
    const std::string stage = "s" + std::to_string(i);
    h.push_back(ev(campaign, stage, "running", "done", ago(newest_ago + spacing * (n - 1 - i)),
                   campaign + "-job" + std::to_string(i)));
  }
  return h;
}

std::vector<Anomaly> of(const std::vector<Anomaly>& all, AnomalyPattern p) {
  std::vector<Anomaly> out;
  std::copy_if(all.begin(), all.end(), std::back_inserter(out),
               [p](const Anomaly& a) { return a.pattern == p; });
  return out;
}

// ---- runaway resubmits ----------------------------------------------------------

TEST(AnomalyRunawayResubmits, FiresAboveThreshold) {
  const auto found = scan_anomalies(resubmits(5, hours(2)), {}, kNow);
  ASSERT_EQ(found.size(), 1u);
  const Anomaly& a = found[0];
  EXPECT_EQ(a.pattern, AnomalyPattern::runaway_resubmits);
  EXPECT_EQ(a.confidence, Confidence::medium);
  EXPECT_EQ(a.campaigns, std::vector<std::string>{"alpha"});
  EXPECT_EQ(a.stage, "prod");
  EXPECT_NE(a.message.find("5 times"), std::string::npos) << a.message;
  EXPECT_EQ(a.message.find('\n'), std::string::npos);
  ASSERT_EQ(a.evidence.size(), 5u);
  EXPECT_EQ(a.evidence[0], "2026-05-05T03:00:00Z alpha/prod ready -> running (job job0)");
  EXPECT_EQ(a.fingerprint, "runaway_resubmits alpha prod");
}

TEST(AnomalyRunawayResubmits, AtThresholdDoesNotFire) {
  EXPECT_TRUE(scan_anomalies(resubmits(4, hours(2)), {}, kNow).empty());
}

TEST(AnomalyRunawayResubmits, OutsideWindowDoesNotCount) {
  // Five attempts, the oldest exactly 24 h ago: the window is (now - 24h, now].
  EXPECT_TRUE(scan_anomalies(resubmits(5, hours(6), hours(0)), {}, kNow).empty());
  EXPECT_EQ(scan_anomalies(resubmits(5, hours(6) - minutes(1), hours(0)), {}, kNow).size(), 1u);
  // Older attempts are context only.
  EXPECT_TRUE(scan_anomalies(resubmits(5, hours(12)), {}, kNow).empty());
}

TEST(AnomalyRunawayResubmits, HighAboveTwiceTheThreshold) {
  const auto found = scan_anomalies(resubmits(9, minutes(30)), {}, kNow);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].confidence, Confidence::high);
  EXPECT_EQ(found[0].evidence.size(), 9u);
  EXPECT_EQ(scan_anomalies(resubmits(8, minutes(30)), {}, kNow)[0].confidence, Confidence::medium);
}

TEST(AnomalyRunawayResubmits, HeartbeatsAndAdoptionsAreNotSubmissions) {
  std::vector<HistoryEvent> h;
  h.push_back(ev("alpha", "prod", "ready", "running", ago(hours(10)), "77"));
  for (int i = 0; i < 30; ++i)
    h.push_back(ev("alpha", "prod", "running", "running", ago(hours(9) - minutes(i)), "77"));
  // An interrupted tick re-adopts the same job by key.
  h.push_back(ev("alpha", "prod", "running", "running", ago(hours(2)), "77"));
  h.push_back(ev("alpha", "prod", "ready", "running", ago(hours(1)), "77"));
  EXPECT_TRUE(scan_anomalies(h, {}, kNow).empty());
}

TEST(AnomalyRunawayResubmits, ANewJobFromRunningCounts) {
  // running -> running with a job other than the stage's last: a submit after an
  // interrupted tick. Four of those plus the first submit is five.
  std::vector<HistoryEvent> h;
  h.push_back(ev("alpha", "prod", "ready", "running", ago(hours(5)), "j0"));
  for (int i = 1; i <= 4; ++i) {
    h.push_back(
        ev("alpha", "prod", "running", "running", ago(hours(5) - minutes(30 * i)), "j" + std::to_string(i)));
  }
  ASSERT_EQ(scan_anomalies(h, {}, kNow).size(), 1u);
  // Without the first commit (history read from a later point) the first heartbeat is
  // context, not a submission.
  h.erase(h.begin());
  EXPECT_TRUE(scan_anomalies(h, {}, kNow).empty());
}

TEST(AnomalyRunawayResubmits, CountsPerStage) {
  auto h = resubmits(3, hours(1), hours(1), "alpha", "prod");
  auto more = resubmits(3, hours(1), hours(1), "alpha", "smoke");
  h.insert(h.end(), more.begin(), more.end());
  EXPECT_TRUE(scan_anomalies(h, {}, kNow).empty());
}

TEST(AnomalyRunawayResubmits, ThresholdOverride) {
  AnomalyThresholds t;
  t.max_submissions_per_stage = 2;
  t.submissions_window = hours(2);
  // Three attempts 30 minutes apart: above 2 within 2 h.
  EXPECT_EQ(scan_anomalies(resubmits(3, minutes(30), minutes(10)), {}, kNow, t).size(), 1u);
  // Three attempts an hour apart: the oldest is outside 2 h.
  EXPECT_TRUE(scan_anomalies(resubmits(3, hours(1), minutes(30)), {}, kNow, t).empty());
}

// ---- runaway completions --------------------------------------------------------

TEST(AnomalyRunawayCompletions, ElevenInFifteenMinutesFires) {
  const auto found = scan_anomalies(completions(11, minutes(1), minutes(1)), {}, kNow);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].pattern, AnomalyPattern::runaway_completions);
  EXPECT_EQ(found[0].confidence, Confidence::medium);
  EXPECT_EQ(found[0].campaigns, std::vector<std::string>{"alpha"});
  EXPECT_EQ(found[0].stage, "");  // several stages
  EXPECT_NE(found[0].message.find("11 jobs ended in 15m"), std::string::npos) << found[0].message;
  EXPECT_EQ(found[0].evidence.size(), 11u);
}

TEST(AnomalyRunawayCompletions, TenDoNotFire) {
  EXPECT_TRUE(scan_anomalies(completions(10, minutes(1), minutes(1)), {}, kNow).empty());
}

TEST(AnomalyRunawayCompletions, SpreadBeyondTheWindowDoesNotFire) {
  // Eleven endings 90 s apart span exactly 15 min: the oldest is not inside (now-15m, now].
  EXPECT_TRUE(
      scan_anomalies(completions(11, std::chrono::seconds(90), std::chrono::seconds(0)), {}, kNow).empty());
  EXPECT_EQ(
      scan_anomalies(completions(11, std::chrono::seconds(89), std::chrono::seconds(0)), {}, kNow).size(),
      1u);
}

TEST(AnomalyRunawayCompletions, CountsPerCampaign) {
  auto h = completions(6, minutes(1), minutes(1), "alpha");
  auto more = completions(6, minutes(1), minutes(1), "beta");
  h.insert(h.end(), more.begin(), more.end());
  EXPECT_TRUE(scan_anomalies(h, {}, kNow).empty());
}

TEST(AnomalyRunawayCompletions, FailuresCountAndOneStageIsNamed) {
  std::vector<HistoryEvent> h;
  for (int i = 0; i < 11; ++i) {
    h.push_back(
        ev("alpha", "loop", "running", "failed", ago(minutes(i)), "j" + std::to_string(i), "boot_fail"));
  }
  const auto found = of(scan_anomalies(h, {}, kNow), AnomalyPattern::runaway_completions);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].stage, "loop");
}

TEST(AnomalyRunawayCompletions, HighAboveTwiceAndEvidenceCapped) {
  const auto found = scan_anomalies(completions(21, std::chrono::seconds(30), minutes(1)), {}, kNow);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].confidence, Confidence::high);
  ASSERT_EQ(found[0].evidence.size(), 12u);
  EXPECT_EQ(found[0].evidence.back(), "... and 10 more");
}

TEST(AnomalyRunawayCompletions, ThresholdOverride) {
  AnomalyThresholds t;
  t.max_completions = 3;
  t.completions_window = hours(1);
  EXPECT_EQ(scan_anomalies(completions(4, minutes(10), minutes(1)), {}, kNow, t).size(), 1u);
  EXPECT_TRUE(scan_anomalies(completions(3, minutes(10), minutes(1)), {}, kNow, t).empty());
}

// ---- stalled --------------------------------------------------------------------

CampaignSnapshot queued(const std::string& campaign, std::chrono::seconds waited) {
  CampaignSnapshot s;
  s.campaign = campaign;
  s.stage = "prod";
  s.status = doc::Status::running;
  s.stage_since = ago(waited);
  s.job = "4242";
  s.job_state = "pending";
  return s;
}

std::vector<HistoryEvent> others_advancing(std::chrono::seconds newest_ago) {
  std::vector<HistoryEvent> h;
  h.push_back(ev("beta", "smoke", "ready", "running", ago(newest_ago + hours(2)), "b1"));
  h.push_back(ev("beta", "smoke", "running", "done", ago(newest_ago), "b1"));
  return h;
}

TEST(AnomalyStalled, QueuedLongerThanADayWhileOthersAdvance) {
  const auto found = scan_anomalies(others_advancing(hours(1)), {queued("alpha", hours(25))}, kNow);
  ASSERT_EQ(found.size(), 1u);
  const Anomaly& a = found[0];
  EXPECT_EQ(a.pattern, AnomalyPattern::stalled);
  EXPECT_EQ(a.confidence, Confidence::low);
  EXPECT_EQ(a.campaigns, std::vector<std::string>{"alpha"});
  EXPECT_EQ(a.stage, "prod");
  EXPECT_NE(a.message.find("queued by the scheduler (job 4242) for 1d1h"), std::string::npos) << a.message;
  ASSERT_EQ(a.evidence.size(), 3u);
  EXPECT_EQ(a.evidence[1], "2026-05-05T11:00:00Z beta/smoke running -> done (job b1)");  // newest first
}

TEST(AnomalyStalled, WholeRepositoryIdleIsNotAStall) {
  EXPECT_TRUE(scan_anomalies(others_advancing(hours(25)), {queued("alpha", hours(30))}, kNow).empty());
  EXPECT_TRUE(scan_anomalies({}, {queued("alpha", hours(30))}, kNow).empty());
}

TEST(AnomalyStalled, HeartbeatsAndOwnCommitsAreNotAdvancing) {
  std::vector<HistoryEvent> h;
  h.push_back(ev("alpha", "prod", "ready", "running", ago(hours(30)), "4242"));
  h.push_back(ev("alpha", "prod", "running", "running", ago(hours(1)), "4242"));
  h.push_back(ev("beta", "prod", "running", "running", ago(hours(1)), "b7"));
  EXPECT_TRUE(scan_anomalies(h, {queued("alpha", hours(30))}, kNow).empty());
}

TEST(AnomalyStalled, AtOrBelowTheThresholdDoesNotFire) {
  const auto h = others_advancing(hours(1));
  EXPECT_TRUE(scan_anomalies(h, {queued("alpha", hours(23))}, kNow).empty());
  EXPECT_TRUE(scan_anomalies(h, {queued("alpha", hours(24))}, kNow).empty());
}

TEST(AnomalyStalled, PendingAndReadyStagesCountRunningJobsDoNot) {
  const auto h = others_advancing(hours(1));
  CampaignSnapshot pending = queued("alpha", hours(30));
  pending.status = doc::Status::pending;
  pending.job_state.clear();
  pending.job.clear();
  CampaignSnapshot ready = pending;
  ready.campaign = "gamma";
  ready.status = doc::Status::ready;
  CampaignSnapshot running = queued("delta", hours(30));
  running.job_state = "running";
  CampaignSnapshot escalated = pending;
  escalated.campaign = "epsilon";
  escalated.status = doc::Status::escalated;
  CampaignSnapshot unknown_since = pending;
  unknown_since.campaign = "zeta";
  unknown_since.stage_since.reset();
  const auto found = scan_anomalies(h, {pending, ready, running, escalated, unknown_since}, kNow);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].campaigns, std::vector<std::string>{"alpha"});
  EXPECT_NE(found[0].message.find("pending (not submitted)"), std::string::npos) << found[0].message;
  EXPECT_EQ(found[1].campaigns, std::vector<std::string>{"gamma"});
}

TEST(AnomalyStalled, ThresholdOverride) {
  AnomalyThresholds t;
  t.stall_after = hours(2);
  EXPECT_EQ(scan_anomalies(others_advancing(hours(1)), {queued("alpha", hours(3))}, kNow, t).size(), 1u);
  // The others advanced 3 h ago: outside the 2 h window, the repository counts as idle.
  EXPECT_TRUE(scan_anomalies(others_advancing(hours(3)), {queued("alpha", hours(5))}, kNow, t).empty());
}

// ---- systemic error -------------------------------------------------------------

std::vector<HistoryEvent> failures(const std::vector<std::string>& campaigns, const std::string& error_class,
                                   std::chrono::seconds newest_ago,
                                   std::chrono::seconds spacing = minutes(20)) {
  std::vector<HistoryEvent> h;
  int i = 0;
  for (const auto& c : campaigns) {
    const TimePoint t = ago(newest_ago + spacing * (static_cast<int>(campaigns.size()) - 1 - i));
    h.push_back(ev(c, "prod", "running", "failed", t, c + "-j", error_class));
    h.push_back(ev(c, "prod", "failed", "escalated", t, c + "-j", error_class));  // same job: counted once
    ++i;
  }
  return h;
}

TEST(AnomalySystemic, ThreeCampaignsGiveOneAnomalyNamingAll) {
  const auto found = scan_anomalies(failures({"gamma", "alpha", "beta"}, "oom", hours(1)), {}, kNow);
  ASSERT_EQ(found.size(), 1u);
  const Anomaly& a = found[0];
  EXPECT_EQ(a.pattern, AnomalyPattern::systemic_error);
  EXPECT_EQ(a.confidence, Confidence::high);
  EXPECT_EQ(a.campaigns, (std::vector<std::string>{"alpha", "beta", "gamma"}));
  EXPECT_EQ(a.error_class, "oom");
  EXPECT_EQ(a.stage, "");
  EXPECT_EQ(a.fingerprint, "systemic_error oom");
  EXPECT_NE(a.message.find("oom hit 3 campaigns in 6h (alpha, beta, gamma)"), std::string::npos) << a.message;
  ASSERT_EQ(a.evidence.size(), 3u);  // failure and escalation of one job are one hit
  EXPECT_EQ(a.evidence[0], "2026-05-05T10:20:00Z gamma/prod running -> failed [oom] (job gamma-j)");
}

TEST(AnomalySystemic, TwoCampaignsAreNotSystemic) {
  auto h = failures({"alpha", "beta"}, "oom", hours(1));
  // More failures in one of them do not make a third campaign.
  attempt(h, "alpha", "smoke", "a2", ago(hours(3)), "oom");
  attempt(h, "alpha", "post", "a3", ago(hours(2)), "oom");
  EXPECT_TRUE(of(scan_anomalies(h, {}, kNow), AnomalyPattern::systemic_error).empty());
}

TEST(AnomalySystemic, OutsideTheWindowDoesNotCount) {
  auto h = failures({"alpha", "beta"}, "oom", hours(1));
  auto old = failures({"gamma"}, "oom", hours(7));
  h.insert(h.end(), old.begin(), old.end());
  EXPECT_TRUE(scan_anomalies(h, {}, kNow).empty());
}

TEST(AnomalySystemic, DifferentClassesAreNotOneProblem) {
  auto h = failures({"alpha"}, "oom", hours(1));
  auto b = failures({"beta"}, "timeout", hours(1));
  auto c = failures({"gamma"}, "node_fail", hours(1));
  h.insert(h.end(), b.begin(), b.end());
  h.insert(h.end(), c.begin(), c.end());
  EXPECT_TRUE(scan_anomalies(h, {}, kNow).empty());
}

TEST(AnomalySystemic, ThresholdOverride) {
  AnomalyThresholds t;
  t.systemic_campaigns = 2;
  t.systemic_window = hours(12);
  auto h = failures({"alpha"}, "quota", hours(1));
  auto b = failures({"beta"}, "quota", hours(10));
  h.insert(h.end(), b.begin(), b.end());
  const auto found = scan_anomalies(h, {}, kNow, t);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].campaigns, (std::vector<std::string>{"alpha", "beta"}));
}

TEST(AnomalySystemic, ManyCampaignsStillOneAnomaly) {
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) names.push_back(fmt::format("c{:02}", i));
  const auto found = scan_anomalies(failures(names, "scratch-full", minutes(5), minutes(5)), {}, kNow);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].campaigns.size(), 20u);
  EXPECT_EQ(found[0].evidence.size(), 12u);  // capped
}

// ---- log lines while running ------------------------------------------------------

CampaignSnapshot running_with_log(const std::string& campaign, std::string log) {
  CampaignSnapshot s;
  s.campaign = campaign;
  s.stage = "prod";
  s.status = doc::Status::running;
  s.stage_since = ago(hours(2));
  s.job = "991";
  s.job_state = "running";
  s.running_log_tail = std::move(log);
  return s;
}

TEST(AnomalyBadLog, FatalNanOomWhileRunning) {
  const auto found = scan_anomalies(
      {}, {running_with_log("alpha", "step 100 ok\nstep 200 energy NaN\nstep 300 ok\nFATAL: rank 3 died\n")},
      kNow);
  ASSERT_EQ(found.size(), 1u);
  const Anomaly& a = found[0];
  EXPECT_EQ(a.pattern, AnomalyPattern::bad_log_while_running);
  EXPECT_EQ(a.confidence, Confidence::medium);
  EXPECT_EQ(a.campaigns, std::vector<std::string>{"alpha"});
  EXPECT_EQ(a.fingerprint, "bad_log_while_running alpha prod 991");
  EXPECT_EQ(a.message, "alpha: job 991 (prod) is still running but its log shows NaN, FATAL (2 lines)");
  EXPECT_EQ(a.evidence, (std::vector<std::string>{"log: step 200 energy NaN", "log: FATAL: rank 3 died"}));
}

// The project's .priors.yaml (tests/fixtures/priors) adds its orchestration patterns,
// each named with its note in the evidence.
TEST(AnomalyBadLog, PriorsOfTheProjectAreLogPatternsToo) {
  AnomalyThresholds th;
  th.priors = {{"namd-restart-loop", "Restarting from .*\\.restart\\.coor", "look at the walltime"},
               {"line 17", "ERROR: Unable to allocate resources", ""}};
  const auto found = scan_anomalies({},
                                    {running_with_log("alpha",
                                                      "step 100\nRestarting from npt.restart.coor\nstep 100\n"
                                                      "Restarting from npt.restart.coor\n"),
                                     running_with_log("beta", "all good\n")},
                                    kNow, th);
  ASSERT_EQ(found.size(), 1u);
  const Anomaly& a = found[0];
  EXPECT_EQ(a.pattern, AnomalyPattern::bad_log_while_running);
  EXPECT_EQ(a.campaigns, std::vector<std::string>{"alpha"});
  EXPECT_EQ(
      a.message,
      "alpha: job 991 (prod) is still running but its log shows Restarting from npt.restart.coor (2 lines)");
  EXPECT_EQ(a.evidence, (std::vector<std::string>{"log: Restarting from npt.restart.coor",
                                                  "log: Restarting from npt.restart.coor",
                                                  "prior namd-restart-loop: look at the walltime"}));
  th.priors.clear();  // without the priors the same log is fine
  EXPECT_TRUE(
      scan_anomalies({}, {running_with_log("alpha", "Restarting from npt.restart.coor")}, kNow, th).empty());
}

TEST(AnomalyBadLog, MemoryWordings) {
  for (const char* line :
       {"torch.cuda.OutOfMemoryError: CUDA out of memory.", "Out Of Memory: killed process 12",
        "slurmstepd: error: Detected 1 oom-kill event(s)", "OOM in rank 0", "found NaNs in grad"}) {
    const auto found = scan_anomalies({}, {running_with_log("alpha", line)}, kNow);
    EXPECT_EQ(found.size(), 1u) << line;
  }
}

TEST(AnomalyBadLog, HarmlessLinesDoNotMatch) {
  for (const char* line : {"FATALITY check passed", "banana nanoseconds", "living room temperature",
                           "fatal is not shouted here", "NaNa"}) {
    EXPECT_TRUE(scan_anomalies({}, {running_with_log("alpha", line)}, kNow).empty()) << line;
  }
}

TEST(AnomalyBadLog, OnlyWhileTheJobRuns) {
  CampaignSnapshot queued_job = running_with_log("alpha", "FATAL");
  queued_job.job_state = "pending";
  CampaignSnapshot finished = running_with_log("beta", "FATAL");
  finished.job_state = "failed";
  CampaignSnapshot done = running_with_log("gamma", "FATAL");
  done.status = doc::Status::done;
  EXPECT_TRUE(scan_anomalies({}, {queued_job, finished, done}, kNow).empty());
}

TEST(AnomalyBadLog, LinesAreRedactedTrimmedAndCapped) {
  std::string log;
  for (int i = 0; i < 8; ++i) log += "  FATAL retry " + std::to_string(i) + " token=s3cr3tvalue\r\n";
  log += "FATAL " + std::string(300, 'x') + "\n";
  const auto found = scan_anomalies({}, {running_with_log("alpha", log)}, kNow);
  ASSERT_EQ(found.size(), 1u);
  const auto& ev = found[0].evidence;
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev.back(), "... and 5 more");
  for (const auto& line : ev) {
    EXPECT_EQ(line.find("s3cr3tvalue"), std::string::npos) << line;
    EXPECT_EQ(line.find('\r'), std::string::npos);
  }
  EXPECT_EQ(ev[0].rfind("log: FATAL retry 0 ", 0), 0u) << ev[0];
  EXPECT_NE(found[0].message.find("(9 lines)"), std::string::npos);
}

TEST(AnomalyBadLog, PatternsAreConfigurable) {
  AnomalyThresholds t;
  t.log_patterns = {"RESTART", "(invalid"};  // an invalid pattern is ignored
  const auto log = "FATAL: ignored now\nRESTART from checkpoint 3\n";
  const auto found = scan_anomalies({}, {running_with_log("alpha", log)}, kNow, t);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].evidence, std::vector<std::string>{"log: RESTART from checkpoint 3"});
  t.log_patterns.clear();
  EXPECT_TRUE(scan_anomalies({}, {running_with_log("alpha", log)}, kNow, t).empty());
}

// ---- all together ---------------------------------------------------------------

std::vector<HistoryEvent> busy_history() {
  auto h = resubmits(6, minutes(40), minutes(30), "alpha", "prod");
  auto c = completions(12, std::chrono::seconds(50), minutes(1), "beta");
  auto s = failures({"gamma", "delta", "epsilon"}, "node_fail", hours(2));
  h.insert(h.end(), c.begin(), c.end());
  h.insert(h.end(), s.begin(), s.end());
  return h;
}

std::vector<CampaignSnapshot> busy_snapshots() {
  return {queued("zeta", hours(40)), running_with_log("eta", "OOM"), running_with_log("theta", "fine")};
}

TEST(AnomalyScan, OrderIsHighestConfidenceFirstThenPatternThenCampaign) {
  const auto found = scan_anomalies(busy_history(), busy_snapshots(), kNow);
  std::vector<std::string> got;
  for (const auto& a : found) {
    got.push_back(
        fmt::format("{} {} {}", to_string(a.confidence), to_string(a.pattern), a.campaigns.front()));
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "high systemic_error delta",
                     "medium runaway_resubmits alpha",
                     "medium runaway_completions beta",
                     "medium bad_log_while_running eta",
                     "low stalled zeta",
                 }));
}

TEST(AnomalyScan, DeterministicWhateverTheInputOrder) {
  const auto expected = scan_anomalies(busy_history(), busy_snapshots(), kNow);
  auto h = busy_history();
  auto snaps = busy_snapshots();
  std::mt19937 rng(7);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(snaps.begin(), snaps.end(), rng);
    const auto got = scan_anomalies(h, snaps, kNow);
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].fingerprint, expected[i].fingerprint);
      EXPECT_EQ(got[i].message, expected[i].message);
      EXPECT_EQ(got[i].evidence, expected[i].evidence);
    }
  }
  // History given newest first (as a `git log` walk yields it) finds the same anomalies
  // (evidence may differ only between commits made at the same instant).
  std::reverse(h.begin(), h.end());
  const auto reversed = scan_anomalies(h, busy_snapshots(), kNow);
  ASSERT_EQ(reversed.size(), expected.size());
  for (std::size_t i = 0; i < reversed.size(); ++i)
    EXPECT_EQ(reversed[i].fingerprint, expected[i].fingerprint);
}

TEST(AnomalyScan, QuietRepositoryHasNoAnomalies) {
  std::vector<HistoryEvent> h;
  attempt(h, "alpha", "smoke", "1", ago(hours(3)));
  h.push_back(ev("alpha", "smoke", "ready", "running", ago(hours(2)), "2"));
  h.push_back(ev("alpha", "smoke", "running", "done", ago(hours(1)), "2"));
  h.push_back(ev("alpha", "prod", "pending", "ready", ago(hours(1)), ""));
  EXPECT_TRUE(scan_anomalies(h, {running_with_log("alpha", "step 1\nstep 2\n")}, kNow).empty());
}

// ---- pile-ups -------------------------------------------------------------------

// A campaign whose current stage's backend counted these queued jobs under its prefix
// (Scheduler::queued_by_name, filtered by JobKey::prefix).
CampaignSnapshot with_queue(const std::string& campaign, std::map<std::string, int> queued) {
  CampaignSnapshot s;
  s.campaign = campaign;
  s.stage = "prod";
  s.status = doc::Status::running;
  s.job = "991";
  s.job_state = "running";
  s.queued_jobs = std::move(queued);
  return s;
}

TEST(AnomalyPileUp, MoreThanFiftyQueuedOfOneNameIsMedium) {
  const std::string name = "cairn.r1a2b3.alpha.prod.worker";
  const auto found =
      scan_anomalies({}, {with_queue("alpha", {{name, 51}, {"cairn.r1a2b3.alpha.prod.2", 1}})}, kNow);
  ASSERT_EQ(found.size(), 1u);
  const Anomaly& a = found[0];
  EXPECT_EQ(a.pattern, AnomalyPattern::pile_up);
  EXPECT_EQ(a.confidence, Confidence::medium);
  EXPECT_EQ(a.campaigns, std::vector<std::string>{"alpha"});
  EXPECT_EQ(a.stage, "prod");
  EXPECT_EQ(a.fingerprint, "pile_up alpha " + name);
  EXPECT_NE(a.message.find("51 jobs named " + name + " are queued"), std::string::npos) << a.message;
  EXPECT_EQ(a.evidence, std::vector<std::string>{"queued: 51 jobs named " + name});
}

TEST(AnomalyPileUp, FiftyDoNotFireAndEachNameCountsAlone) {
  EXPECT_TRUE(of(scan_anomalies({}, {with_queue("alpha", {{"cairn.r.alpha.prod.1", 50}})}, kNow),
                 AnomalyPattern::pile_up)
                  .empty());
  EXPECT_TRUE(
      of(scan_anomalies(
             {}, {with_queue("alpha", {{"cairn.r.alpha.prod.1", 30}, {"cairn.r.alpha.prod.2", 30}})}, kNow),
         AnomalyPattern::pile_up)
          .empty());
}

TEST(AnomalyPileUp, HighAboveTwiceTheThresholdAndConfigurable) {
  const auto high = of(scan_anomalies({}, {with_queue("alpha", {{"cairn.r.alpha.a", 101}})}, kNow),
                       AnomalyPattern::pile_up);
  ASSERT_EQ(high.size(), 1u);
  EXPECT_EQ(high[0].confidence, Confidence::high);
  AnomalyThresholds th;
  th.max_queued_per_name = 5;
  const auto low_bar = of(scan_anomalies({}, {with_queue("alpha", {{"cairn.r.alpha.a", 6}})}, kNow, th),
                          AnomalyPattern::pile_up);
  ASSERT_EQ(low_bar.size(), 1u);
  EXPECT_EQ(low_bar[0].confidence, Confidence::medium);
  parse::AnomalyConfig c;
  c.max_queued_per_name = 9;
  EXPECT_EQ(thresholds_from(c).max_queued_per_name, 9);
}

// Pending jobs of a paused or escalated campaign are still a pile-up: nobody resumed it
// to make them.
TEST(AnomalyPileUp, TwoCampaignsEachTheirOwn) {
  const auto found = of(
      scan_anomalies(
          {}, {with_queue("alpha", {{"cairn.r.alpha.a", 60}}), with_queue("beta", {{"cairn.r.beta.b", 70}})},
          kNow),
      AnomalyPattern::pile_up);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].campaigns, std::vector<std::string>{"alpha"});
  EXPECT_EQ(found[1].campaigns, std::vector<std::string>{"beta"});
}

// ---- RESTART without progress --------------------------------------------------

// A job running since two hours ago that printed `log`; the previous tick was ten minutes
// ago; the checkpoint was last written `written` before now (nullopt: nothing matches).
CampaignSnapshot restarting(std::string log, std::optional<std::chrono::seconds> written) {
  CampaignSnapshot s = running_with_log("alpha", std::move(log));
  s.last_tick = ago(minutes(10));
  s.checkpoint = "ckpt/*.chk";
  s.checkpoint_probed = true;
  if (written) s.checkpoint_newest = ago(*written);
  return s;
}

TEST(AnomalyRestart, RestartLinesAreRecognised) {
  EXPECT_TRUE(logs_restart("step 1\nRESTART at step 5000\n"));
  EXPECT_TRUE(logs_restart("Info: Restarting from checkpoint ckpt/7.chk\n"));
  EXPECT_TRUE(logs_restart("run restarted from checkpoint 3\n"));
  EXPECT_TRUE(logs_restart("RESTARTING FROM CHECKPOINT\n"));
  EXPECT_FALSE(logs_restart("writing restart file out.restart.coor\n"));  // writing one is progress
  EXPECT_FALSE(logs_restart("step 100 ok\n"));
  EXPECT_FALSE(logs_restart(""));
}

TEST(AnomalyRestart, RestartWhileTheCheckpointStoodStillSinceTheLastTick) {
  const auto found =
      of(scan_anomalies({}, {restarting("step 1\nRESTART at step 5000\nstep 2\n", hours(1))}, kNow),
         AnomalyPattern::restart_without_progress);
  ASSERT_EQ(found.size(), 1u);
  const Anomaly& a = found[0];
  EXPECT_EQ(a.confidence, Confidence::medium);
  EXPECT_EQ(a.fingerprint, "restart_without_progress alpha prod 991");
  EXPECT_NE(a.message.find("restarted"), std::string::npos) << a.message;
  EXPECT_EQ(a.evidence, (std::vector<std::string>{
                            "log: RESTART at step 5000",
                            "checkpoint `ckpt/*.chk` last written 2026-05-05T11:00:00Z, before the last "
                            "tick at 2026-05-05T11:50:00Z"}));
}

TEST(AnomalyRestart, NoCheckpointFileAtAllIsNoProgressEither) {
  const auto found = of(scan_anomalies({}, {restarting("Restarting from checkpoint\n", std::nullopt)}, kNow),
                        AnomalyPattern::restart_without_progress);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].evidence.back(), "checkpoint `ckpt/*.chk` matches no file");
}

TEST(AnomalyRestart, ProgressOrNoWayToTellIsNotAnAnomaly) {
  const auto none = [](CampaignSnapshot s) {
    return of(scan_anomalies({}, {std::move(s)}, kNow), AnomalyPattern::restart_without_progress).empty();
  };
  EXPECT_TRUE(none(restarting("RESTART\n", minutes(2))));       // written since the last tick
  EXPECT_TRUE(none(restarting("step 1\nstep 2\n", hours(1))));  // no restart line
  CampaignSnapshot no_spec = restarting("RESTART\n", hours(1));
  no_spec.checkpoint.clear();
  no_spec.checkpoint_probed = false;
  EXPECT_TRUE(none(no_spec));  // no `checkpoint:`: progress unknown
  CampaignSnapshot first_tick = restarting("RESTART\n", hours(1));
  first_tick.last_tick.reset();
  EXPECT_TRUE(none(first_tick));
  // The job started after the last tick: a restart at its start is how it resumes.
  CampaignSnapshot fresh = restarting("Restarting from checkpoint\n", hours(1));
  fresh.stage_since = ago(minutes(5));
  EXPECT_TRUE(none(fresh));
  CampaignSnapshot queued = restarting("RESTART\n", hours(1));
  queued.job_state = "pending";
  EXPECT_TRUE(none(queued));
}

// ---- thresholds, trailers, ORCHESTRATION_CHECK.md ------------------------------

TEST(AnomalyThresholdsFromConfig, DefaultsAgreeAndOverridesCarry) {
  EXPECT_EQ(thresholds_from(parse::AnomalyConfig{}), AnomalyThresholds{});
  parse::AnomalyConfig c;
  c.max_submissions_per_stage = 7;
  c.submissions_window_seconds = 3600;
  c.max_completions = 2;
  c.completions_window_seconds = 60;
  c.stall_seconds = 7200;
  c.systemic_campaigns = 5;
  c.systemic_window_seconds = 600;
  c.log_patterns = {"X"};
  const AnomalyThresholds t = thresholds_from(c);
  EXPECT_EQ(t.max_submissions_per_stage, 7);
  EXPECT_EQ(t.submissions_window, hours(1));
  EXPECT_EQ(t.max_completions, 2);
  EXPECT_EQ(t.completions_window, minutes(1));
  EXPECT_EQ(t.stall_after, hours(2));
  EXPECT_EQ(t.systemic_campaigns, 5);
  EXPECT_EQ(t.systemic_window, minutes(10));
  EXPECT_EQ(t.log_patterns, std::vector<std::string>{"X"});
}

// The trailer block of a commit message, as `git interpret-trailers --parse` reads it.
std::vector<std::pair<std::string, std::string>> trailers_of(const std::string& message) {
  const auto start = message.rfind("\n\n");
  std::istringstream in(message.substr(start + 2));
  std::vector<std::pair<std::string, std::string>> out;
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(": ");
    if (colon != std::string::npos) out.emplace_back(line.substr(0, colon), line.substr(colon + 2));
  }
  return out;
}

TEST(AnomalyHistoryEvent, ReadsWhatRenderCommitMessageWrites) {
  Transition t;
  t.campaign = "alpha";
  t.stage = "prod";
  t.from = "running";
  t.to = "failed";
  t.error_class = "oom";
  t.job = "4242";
  t.attempt = 2;
  t.tick = "2026-05-05T11:30:00Z";
  t.tick_id = "abc";
  const auto e = history_event_from_trailers(trailers_of(render_commit_message(t)), kNow);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->campaign, "alpha");
  EXPECT_EQ(e->stage, "prod");
  EXPECT_EQ(e->from, "running");
  EXPECT_EQ(e->to, "failed");
  EXPECT_EQ(e->error_class, "oom");
  EXPECT_EQ(e->job, "4242");
  EXPECT_EQ(e->time, *util::parse_time("2026-05-05T11:30:00Z"));

  t.tick = "";  // no readable Cairn-Tick: the commit's own time
  EXPECT_EQ(history_event_from_trailers(trailers_of(render_commit_message(t)), kNow)->time, kNow);

  t.intent = "submit cairn.alpha.prod.3";
  EXPECT_FALSE(history_event_from_trailers(trailers_of(render_commit_message(t)), kNow));
}

TEST(AnomalyHistoryEvent, NotACairnTransition) {
  EXPECT_FALSE(history_event_from_trailers({}, kNow));
  EXPECT_FALSE(history_event_from_trailers({{"Signed-off-by", "someone"}}, kNow));
  EXPECT_FALSE(history_event_from_trailers(
      {{"Cairn-Campaign", "alpha"}, {"Cairn-Stage", "prod"}, {"Cairn-Transition", "garbage"}}, kNow));
}

TEST(AnomalyOrchestrationCheck, RendersWhatWasSeenAndHowToResume) {
  const auto found =
      scan_anomalies(resubmits(5, hours(2)), {running_with_log("alpha", "x ``` y FATAL")}, kNow);
  ASSERT_EQ(found.size(), 2u);
  const std::string md = render_orchestration_check("alpha", found, kNow);
  EXPECT_EQ(md.rfind("# Orchestration check: alpha\n", 0), 0u);
  EXPECT_NE(md.find("paused this campaign at 2026-05-05T12:00:00Z"), std::string::npos);
  EXPECT_NE(md.find("## runaway_resubmits (medium confidence, stage prod)"), std::string::npos);
  EXPECT_NE(md.find(found[0].message), std::string::npos);
  EXPECT_NE(md.find("alpha/prod ready -> running (job job4)"), std::string::npos);
  EXPECT_NE(md.find("## bad_log_while_running"), std::string::npos);
  EXPECT_NE(md.find("````text\nlog: x ``` y FATAL\n````\n"), std::string::npos)
      << md;  // fence outgrows the log
  EXPECT_NE(md.find("What to check:"), std::string::npos);
  EXPECT_NE(md.find("Set `paused: false`"), std::string::npos);
  EXPECT_EQ(md, render_orchestration_check("alpha", found, kNow));
}

// diagnose.when: anomaly: the agent's reading is a section of its own after cairn's
// findings, quoted so its headings cannot pass for cairn's, and its failure is one line.
TEST(AnomalyOrchestrationCheck, TheAgentsReadingIsLabelledAndQuoted) {
  const auto found = scan_anomalies({}, {running_with_log("alpha", "FATAL: x")}, kNow);
  AgentReading r{"explain.sh", "## Root cause\nThe input deck is wrong.\n", ""};
  const std::string md = render_orchestration_check("alpha", found, kNow, &r);
  const auto section = md.find("## What the agent `explain.sh` read into it (not verified by cairn)\n");
  ASSERT_NE(section, std::string::npos) << md;
  EXPECT_LT(md.find("## bad_log_while_running"), section);
  EXPECT_LT(section, md.find("## How to resume"));
  EXPECT_NE(md.find("> ## Root cause\n> The input deck is wrong.\n"), std::string::npos) << md;

  AgentReading failed{"explain.sh", "", "exited 3"};
  const std::string md2 = render_orchestration_check("alpha", found, kNow, &failed);
  EXPECT_NE(md2.find("read into it (not verified by cairn)\n\nThe agent did not explain it: exited 3.\n"),
            std::string::npos)
      << md2;
  EXPECT_EQ(render_orchestration_check("alpha", found, kNow).find("What the agent"), std::string::npos);

  const std::string escalated = render_orchestration_check("alpha", found, kNow, &r, /*escalated=*/true);
  EXPECT_NE(escalated.find("escalated this campaign at 2026-05-05T12:00:00Z"), std::string::npos)
      << escalated;
}

}  // namespace
}  // namespace cairn::engine
