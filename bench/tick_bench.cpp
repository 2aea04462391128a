// Tick benchmarks (figures, not timed tests):
//  1. engine only: a no-op tick (nothing due) and a full tick (every campaign submits)
//     over 1,000 and 10,000 generated campaigns, with in-memory ports;
//  2. end to end: `cairn tick` on a real git repository of 10,000 campaigns with nothing
//     due, against `git status` on the same repository as the floor.
//  3. the commit floor: libgit2 (gitstore::GitStore, as bench/commit_bench does it) writing
//     as many commits as the 10,000-campaign full tick made, of the same sizes.
// Targets: no-op tick at 10,000 campaigns <= 0.5 s on a 2-core machine; full tick at
// 10,000 campaigns <= 2x the commit floor, peak RSS <= 250 MB.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <cairn/engine/tick.hpp>
#include <cairn/gitstore/handles.hpp>
#include <cairn/gitstore/store.hpp>
#include <cairn/util/time.hpp>

namespace fs = std::filesystem;
using namespace cairn;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A campaign whose first stage is `status`: "running" (job 41, polled by its cadence: an
// idle tick's campaign) or "ready" (submitted by the next tick).
std::string campaign_text(int i, const std::string& last_tick, const std::string& status) {
  std::string s = fmt::format(
      "---\ncampaign: c{0:05}\nproject: bench\ncreated: 2026-05-05\nlast_tick: {1}\nstatus: {2}\n"
      "current_stage: smoke\nescalation_required: false\nescalation_reason: \"\"\n"
      "budget: {{backend: local, cap_usd: 0, spent_usd: 0}}\nnotify: {{on_advance: false, on_escalate: "
      "true}}\n"
      "stages:\n",
      i, last_tick, status);
  const int stages = 5 + i % 8;
  for (int k = 0; k < stages; ++k) {
    s += fmt::format(
        "  s{}:\n    run: jobs/s{}.sh\n    resources: {{time: \"02:00:00\", cpus: 4, mem: 8G}}\n    expect: "
        "1h\n",
        k, k);
  }
  s += "---\n\n# Bench campaign\n\nGenerated.\n\n## Stages\n\n"
       "| # | Name | Entry condition | Exit condition | Status | JobID | Started | Completed | Retries |\n"
       "|---|------|-----------------|----------------|--------|-------|---------|-----------|---------|\n";
  for (int k = 0; k < stages; ++k) {
    const bool first = k == 0;
    s += fmt::format(
        "| {} | s{} | {} | exit=0, `out/s{}.dat` exists, no NaN in log | {} | {} | {} | — | 0 |\n", k, k,
        first ? "always" : fmt::format("stage {} done", k - 1), k, first ? status : "pending",
        first && status == "running" ? "41" : "—", first && status == "running" ? "2026-05-05 19:00Z" : "—");
  }
  s += "\n## Action queue\n\n- [ ] human note\n\n## Failure log\n\n"
       "| Date | Stage | Error class | Error msg | Action taken | Result |\n"
       "|------|-------|-------------|-----------|--------------|--------|\n"
       "| 2026-05-05 | s0 | walltime-exceeded | job 1: DUE TO TIME LIMIT | walltime x2, resubmit | RETRYING "
       "|\n"
       "\n## Lessons learned\n\n(none yet)\n\n## References\n\n- AGENTS.md\n";
  return s;
}

struct FixedClock : engine::Clock {
  engine::TimePoint now() const override { return *util::parse_time("2026-05-05T20:00:00Z"); }
};

struct InstantScheduler : engine::Scheduler {
  int submitted = 0;
  Expected<std::optional<std::string>> find(const engine::JobKey&) override {
    return std::optional<std::string>();
  }
  Expected<std::string> submit(const engine::SubmitRequest&) override { return std::to_string(++submitted); }
  Expected<std::map<std::string, engine::JobStatus>> status(const std::vector<std::string>&) override {
    return std::map<std::string, engine::JobStatus>{};
  }
  Expected<std::string> log_tail(const std::string&, int) override { return std::string(); }
  Expected<void> cancel(const std::string&) override { return {}; }
};

struct OneBackend : engine::Backends {
  engine::Scheduler* s;
  explicit OneBackend(engine::Scheduler* sched) : s(sched) {}
  engine::Scheduler* get(const std::string&) override { return s; }
  std::string unusable(const std::string&) override { return {}; }
};

struct MemoryStore : engine::Store {
  std::size_t commits = 0;
  std::size_t bytes = 0;
  std::vector<engine::CommitRequest> samples;  // the first commits, for the floor
  Expected<std::string> commit(const engine::CommitRequest& r, const engine::Identity&) override {
    ++commits;
    bytes += r.content.size() + r.message.size();
    if (samples.size() < 64) samples.push_back(r);
    return std::string("x");
  }
};

struct FullTick {
  double seconds = 0;
  std::size_t commits = 0;
  std::vector<engine::CommitRequest> samples;
};

struct NoWorkspace : engine::Workspace {
  Expected<std::vector<engine::ProbeAnswer>> probe(const std::string&,
                                                   const std::vector<engine::Probe>& probes) override {
    std::vector<engine::ProbeAnswer> out(probes.size());
    for (auto& a : out) a.exit = 1;
    return out;
  }
};

struct NoCatalog : engine::Catalog {
  std::optional<engine::Classification> classify(const engine::Evidence&) const override {
    return std::nullopt;
  }
  Expected<engine::FixPlan> plan_fix(std::string_view, const doc::StageSpec&, const doc::ResourceCeilings&,
                                     const engine::SpecInfo*) const override {
    return fail("none");
  }
};

FullTick engine_bench(int n) {
  // Each tick's inputs exist only while it runs (as in `cairn tick`, which reads them
  // from one HEAD), so the peak RSS is the full tick's own.
  auto inputs = [n](const std::string& last_tick, const std::string& status) {
    std::vector<engine::CampaignInput> out;
    out.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      const std::string dir = fmt::format("campaigns/c{:05}", i);
      out.push_back({dir + "/WORKFLOW.md", "/bench/" + dir, campaign_text(i, last_tick, status)});
    }
    return out;
  };
  std::vector<engine::CampaignInput> idle = inputs("2026-05-05T19:59:00Z", "running");
  InstantScheduler sched;
  OneBackend backends(&sched);
  MemoryStore store;
  FixedClock clock;
  NoWorkspace ws;
  NoCatalog catalog;
  engine::Ports ports{backends, store, clock, ws, catalog};

  auto t0 = Clock::now();
  auto r1 = engine::tick(ports, idle, {});
  const double noop = seconds_since(t0);
  std::size_t worked = 0;
  for (const auto& c : r1.campaigns) worked += c.worked ? 1 : 0;
  idle = {};
  r1 = {};
  const std::vector<engine::CampaignInput> fresh = inputs("\"\"", "ready");
  t0 = Clock::now();
  auto r2 = engine::tick(ports, fresh, {});
  const double full = seconds_since(t0);
  fmt::print(
      "engine  {:>6} campaigns: no-op tick {:8.3f} s ({:6.1f} us/campaign, {} worked)   "
      "full tick {:8.3f} s ({} transitions, {} submits)\n",
      n, noop, noop * 1e6 / n, worked, full, store.commits, sched.submitted);
  (void)r2;
  return {full, store.commits, std::move(store.samples)};
}

// libgit2 writing `count` commits the way bench/commit_bench does (GitStore: commit each,
// then flush), into a repository of 10 campaigns, each commit a tick's sampled file and
// message made unique. Returns wall seconds, or -1.
double commit_floor(std::size_t count, const std::vector<engine::CommitRequest>& samples) {
  if (samples.empty()) return -1;
  const fs::path dir = fs::temp_directory_path() / fmt::format("cairn-tick-bench-floor-{}", getpid());
  constexpr int kCampaigns = 10;
  auto path_of = [](std::size_t k) { return fmt::format("campaigns/c{:05}/WORKFLOW.md", k % kCampaigns); };
  for (int c = 0; c < kCampaigns; ++c) {
    fs::create_directories(dir / fs::path(path_of(c)).parent_path());
    std::ofstream(dir / path_of(c)) << samples[static_cast<std::size_t>(c) % samples.size()].content;
  }
  const std::string git = fmt::format("cd {} && ", dir.string());
  if (std::system((git + "git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm init")
                      .c_str()) != 0) {
    return -1;
  }
  double seconds = -1;
  {
    const engine::Identity bot{"cairn-bot", "cairn-bot@users.noreply.example"};
    const auto t0 = Clock::now();
    auto store = gitstore::GitStore::open(dir.string());
    bool ok = static_cast<bool>(store);
    for (std::size_t k = 0; ok && k < count; ++k) {
      const auto& sample = samples[k % samples.size()];
      std::string content = sample.content;
      content += fmt::format("<!-- {} -->\n", k);
      ok = static_cast<bool>((*store)->commit({path_of(k), std::move(content), sample.message}, bot));
    }
    if (ok && (*store)->flush()) seconds = seconds_since(t0);
  }
  {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return seconds;
}

// Runs a command, returns wall seconds (or -1 when it fails).
double timed(const std::string& cmd) {
  const auto t0 = Clock::now();
  const int rc = std::system(cmd.c_str());
  return rc == 0 ? seconds_since(t0) : -1;
}

void end_to_end(int n, const char* cairn_binary) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("cairn-tick-bench-{}", getpid());
  fs::create_directories(dir / "campaigns");
  const std::string now = util::iso8601(std::chrono::system_clock::now());
  for (int i = 0; i < n; ++i) {
    const fs::path c = dir / "campaigns" / fmt::format("c{:05}", i);
    fs::create_directories(c);
    std::ofstream(c / "WORKFLOW.md") << campaign_text(i, now, "running");
  }
  std::ofstream(dir / "cairn.yaml") << "root: campaigns\n";
  const std::string git = fmt::format("cd {} && ", dir.string());
  if (std::system((git + "git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm init")
                      .c_str()) != 0) {
    fmt::print("end-to-end: could not make the git repository; skipped\n");
    {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }  // git may still be packing in the background
    return;
  }
  const double floor = timed(git + "git status --porcelain >/dev/null");
  const std::string tick =
      git + fmt::format("CAIRN_STATE_DIR={}/state {} tick >/dev/null", dir.string(), cairn_binary);
  timed(tick);  // warm the page cache like the floor was
  double best = 1e9;
  for (int k = 0; k < 3; ++k) {
    const double t = timed(tick);
    if (t >= 0 && t < best) best = t;
  }
  fmt::print(
      "e2e     {:>6} campaigns: `cairn tick` (nothing due) {:.3f} s; floor `git status` {:.3f} s; "
      "ratio {:.1f}x; target <= 0.5 s\n",
      n, best, floor, floor > 0 ? best / floor : 0.0);
  {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }  // git may still be packing in the background
}

}  // namespace

int main(int argc, char** argv) {
  gitstore::LibGit2 libgit2;
  if (argc > 2 && std::string(argv[1]) == "--engine") {  // one engine bench, for profilers
    engine_bench(std::atoi(argv[2]));
    return 0;
  }
  engine_bench(1000);
  const FullTick full = engine_bench(10000);
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  const double rss = static_cast<double>(ru.ru_maxrss) / 1024.0;
  fmt::print("peak RSS {:.1f} MB (engine benches; target <= 250 MB)\n", rss);
  const double floor = commit_floor(full.commits, full.samples);
  if (floor > 0) {
    const double ratio = full.seconds / floor;
    fmt::print(
        "floor   {:>6} commits through GitStore (commit + flush, as commit_bench) {:.3f} s ({:.3f} "
        "ms/commit); "
        "full tick {:.3f} s = {:.2f}x the floor; target <= 2.00x {}\n",
        full.commits, floor, floor * 1e3 / static_cast<double>(full.commits), full.seconds, ratio,
        ratio <= 2.0 && rss <= 250 ? "OK" : "OVER TARGET");
  } else {
    fmt::print("floor: could not write the commits; skipped\n");
  }
  const char* cairn_binary = argc > 1 ? argv[1] : CAIRN_BINARY;
  end_to_end(10000, cairn_binary);
  return 0;
}
