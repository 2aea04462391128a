// Commit benchmark (figures, not a timed test): 1,000 transition commits in one tick
// (10 campaigns x 100 transitions, ~3 KB WORKFLOW.md each, docs/commits.md messages with
// trailers) made through gitstore::GitStore, against `git fast-import` writing the same
// 1,000 commits as the floor. Target: GitStore <= 3x fast-import.
//
// Usage: commit_bench [commits-per-campaign]   (default 100)
//
// Both sides run with glibc's mmap and trim thresholds raised (mallopt here, the
// equivalent GLIBC_TUNABLES for git): on VMs where a page fault or a TLB flush is
// expensive, fast-import's per-blob delta-index allocations otherwise cost it seconds
// and the floor says more about the VM than about git. CAIRN_BENCH_PLAIN_MALLOC=1
// measures with the defaults.

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <cairn/gitstore/handles.hpp>
#include <cairn/gitstore/store.hpp>

namespace fs = std::filesystem;
using namespace cairn;

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kCampaigns = 10;
constexpr int kRounds = 3;
const engine::Identity kBot{"cairn-bot", "cairn-bot@users.noreply.example"};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Change {
  std::string path;
  std::string content;
  std::string message;
};

std::string campaign_name(int c) {
  return fmt::format("cnt-hydro-{:03}k", 100 + c * 25);
}

// A WORKFLOW.md of about 3 KB whose stage table and upkeep fields advance with `step`.
std::string workflow(int c, int step) {
  static const char* kStatus[] = {"pending", "ready", "running", "done", "failed"};
  const std::string name = campaign_name(c);
  std::string s = fmt::format(
      "---\ncampaign: {0}\nproject: nanotube-thermal\ncreated: 2026-05-01\n"
      "last_tick: 2026-05-05T{1:02}:{2:02}:00Z\nstatus: {3}\ncurrent_stage: s{4}\n"
      "escalation_required: false\nescalation_reason: \"\"\n"
      "budget: {{backend: slurm, cap_usd: 500, spent_usd: {5}.{6:02}}}\n"
      "notify: {{on_advance: false, on_escalate: true}}\nstages:\n",
      name, step / 60 % 24, step % 60, kStatus[step % 5], step % 8, step / 3, step % 100);
  for (int k = 0; k < 8; ++k) {
    s += fmt::format(
        "  s{0}:\n    run: jobs/s{0}.sh\n    resources: {{time: \"0{1}:00:00\", cpus: 16, mem: 32G}}\n"
        "    expect: {1}h\n    exit: \"exists out/s{0}.done\"\n",
        k, 1 + k % 4);
  }
  s += "---\n\n# " + name +
       "\n\nThermal conductivity of (10,10) carbon nanotubes under hydrostatic strain, ensemble of 32.\n\n"
       "## Stages\n\n"
       "| # | Name | Entry condition | Exit condition | Status | JobID | Started | Completed | Retries |\n"
       "|---|------|-----------------|----------------|--------|-------|---------|-----------|---------|\n";
  for (int k = 0; k < 8; ++k) {
    const int state = k < step % 8 ? 3 : (k == step % 8 ? step % 5 : 0);
    s += fmt::format(
        "| {0} | s{0} | s{1} done | out/s{0}.done | {2} | {3} | 2026-05-05 {4:02}:10Z | — | {5} |\n", k,
        k == 0 ? 0 : k - 1, kStatus[state],
        state == 0 ? std::string("—") : std::to_string(1000 + step * 10 + k), k + 1, (step + k) % 3);
  }
  s += "\n## Failure log\n\n| Date | Stage | Error class | Error msg | Action taken | Result |\n"
       "|------|-------|-------------|-----------|--------------|--------|\n";
  for (int f = 0; f < 1 + step % 4; ++f) {
    s += fmt::format(
        "| 2026-05-0{0} | s{1} | walltime-exceeded | DUE TO TIME LIMIT | walltime x2, resubmit | RETRYING "
        "|\n",
        1 + f, f);
  }
  s += "\n## Lessons\n\n- 2026-05-02 s1: the thermostat needs 200 ps to settle; expect 2h not 1h.\n"
       "- 2026-05-03 s3: node c042 drops jobs with NODE_FAIL; excluded in the sbatch header.\n";
  while (s.size() < 3000) s += "- padding note to keep the file at a realistic size for a mature campaign.\n";
  return s;
}

std::string message(int c, int step) {
  const std::string name = campaign_name(c);
  const int stage = step % 8;
  const bool failed = step % 7 == 3;
  std::string m =
      fmt::format("{}: s{} {} [{}]\n\n", name, stage, failed ? "running -> failed" : "ready -> running",
                  failed ? "walltime-exceeded" : "submitted");
  m += fmt::format(
      "Job {} {}.\n", 12345000 + step * kCampaigns + c,
      failed ? "hit its 02:00:00 time limit (TIMEOUT)" : "was submitted to slurm (partition gpu)");
  if (failed) {
    m += "Action: catalogued fix \"walltime x2\" applied; stage back to ready (retry 1 of 2).\n\n"
         "| Date | Stage | Error class | Error msg | Action taken | Result |\n"
         "|------|-------|-------------|-----------|--------------|--------|\n";
    m += fmt::format(
        "| 2026-05-05 | s{} | walltime-exceeded | DUE TO TIME LIMIT | walltime x2, resubmit | RETRYING |\n",
        stage);
  }
  m += fmt::format(
      "\nCairn-Campaign: {}\nCairn-Stage: s{}\nCairn-Transition: {}\nCairn-Job: {}\nCairn-Attempt: 1\n", name,
      stage, failed ? "running -> failed" : "ready -> running", 12345000 + step * kCampaigns + c);
  if (failed) m += "Cairn-Error-Class: walltime-exceeded\n";
  m += "Cairn-Tick: 2026-05-05T20:10:00Z\nCairn-Run-URL: https://github.com/o/r/actions/runs/42\n";
  return m;
}

std::vector<Change> changes(int per_campaign) {
  std::vector<Change> out;
  for (int step = 1; step <= per_campaign; ++step) {
    for (int c = 0; c < kCampaigns; ++c) {
      out.push_back(
          {fmt::format("campaigns/{}/WORKFLOW.md", campaign_name(c)), workflow(c, step), message(c, step)});
    }
  }
  return out;
}

int sh(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string sh_out(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  ::pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// A repository with every campaign's step-0 WORKFLOW.md committed once.
fs::path make_repo(const fs::path& root, const std::string& name) {
  const fs::path dir = root / name;
  fs::create_directories(dir);
  for (int c = 0; c < kCampaigns; ++c) {
    const fs::path p = dir / "campaigns" / campaign_name(c) / "WORKFLOW.md";
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << workflow(c, 0);
  }
  const std::string q = "cd '" + dir.string() + "' && ";
  if (sh(q + "git init -q -b main && git add -A && git -c user.name=h -c user.email=h@x commit -q -m init") !=
      0) {
    std::fprintf(stderr, "commit_bench: cannot create %s\n", dir.c_str());
    std::exit(1);
  }
  return dir;
}

std::string fast_import_stream(const std::vector<Change>& cs, const std::string& base) {
  std::string s;
  s.reserve(cs.size() * 6000);
  const long long when =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  for (std::size_t i = 0; i < cs.size(); ++i) {
    const auto& c = cs[i];
    s += fmt::format("commit refs/heads/main\nmark :{}\n", i + 1);
    s += fmt::format("author {0} <{1}> {2} +0000\ncommitter {0} <{1}> {2} +0000\n", kBot.name, kBot.email,
                     when);
    s += fmt::format("data {}\n{}\n", c.message.size(), c.message);
    if (i == 0) s += "from " + base + "\n";
    s += fmt::format("M 100644 inline {}\ndata {}\n{}\n", c.path, c.content.size(), c.content);
  }
  s += "done\n";
  return s;
}

struct Timing {
  double gitstore = 0;
  double gitstore_flush = 0;
  double fast_import = 0;
};

Timing one_round(const fs::path& root, int round, const std::vector<Change>& cs) {
  Timing t;
  // GitStore: open, 1,000 commits, flush (pack, work tree, ref, index).
  {
    const fs::path dir = make_repo(root, fmt::format("gitstore-{}", round));
    const auto t0 = Clock::now();
    auto store = gitstore::GitStore::open(dir.string());
    if (!store) {
      std::fprintf(stderr, "commit_bench: %s\n", store.error().message.c_str());
      std::exit(1);
    }
    for (const auto& c : cs) {
      auto id = (*store)->commit({c.path, c.content, c.message}, kBot);
      if (!id) {
        std::fprintf(stderr, "commit_bench: %s\n", id.error().message.c_str());
        std::exit(1);
      }
    }
    const auto t1 = Clock::now();
    if (auto f = (*store)->flush(); !f) {
      std::fprintf(stderr, "commit_bench: %s\n", f.error().message.c_str());
      std::exit(1);
    }
    t.gitstore = seconds_since(t0);
    t.gitstore_flush = seconds_since(t1);
    const std::string q = "cd '" + dir.string() + "' && ";
    if (sh_out(q + "git rev-list --count HEAD") != std::to_string(cs.size() + 1) ||
        !sh_out(q + "git status --porcelain").empty()) {
      std::fprintf(stderr, "commit_bench: GitStore result is wrong in %s\n", dir.c_str());
      std::exit(1);
    }
  }
  // git fast-import: the stream is generated beforehand; only the process is timed.
  {
    const fs::path dir = make_repo(root, fmt::format("fast-import-{}", round));
    const std::string q = "cd '" + dir.string() + "' && ";
    const fs::path stream = root / fmt::format("stream-{}", round);
    std::ofstream(stream, std::ios::binary) << fast_import_stream(cs, sh_out(q + "git rev-parse HEAD"));
    const auto t0 = Clock::now();
    if (sh(q + "git fast-import --quiet < '" + stream.string() + "'") != 0) {
      std::fprintf(stderr, "commit_bench: git fast-import failed\n");
      std::exit(1);
    }
    t.fast_import = seconds_since(t0);
    const std::string other = (root / fmt::format("gitstore-{}", round)).string();
    if (sh_out(q + "git rev-parse HEAD^{tree}") !=
        sh_out("cd '" + other + "' && git rev-parse HEAD^{tree}")) {
      std::fprintf(stderr, "commit_bench: GitStore and fast-import produced different trees\n");
      std::exit(1);
    }
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const int per_campaign = argc > 1 ? std::max(1, std::atoi(argv[1])) : 100;
  const bool plain_malloc = std::getenv("CAIRN_BENCH_PLAIN_MALLOC") != nullptr;
  if (!plain_malloc) {
    constexpr int kMmapThreshold = 32 << 20;
    constexpr int kTrimThreshold = 256 << 20;
    mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
    mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
    const std::string tunables = fmt::format("glibc.malloc.mmap_threshold={}:glibc.malloc.trim_threshold={}",
                                             kMmapThreshold, kTrimThreshold);
    ::setenv("GLIBC_TUNABLES", tunables.c_str(), 1);
  }
  gitstore::LibGit2 libgit2;
  char tmpl[] = "/tmp/cairn-commit-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path root = tmpl;
  const auto cs = changes(per_campaign);
  std::size_t bytes = 0;
  for (const auto& c : cs) bytes += c.content.size();

  std::vector<Timing> rounds;
  for (int r = 0; r < kRounds; ++r) rounds.push_back(one_round(root, r, cs));
  std::error_code ec;
  fs::remove_all(root, ec);

  auto median = [&](double Timing::*field) {
    std::vector<double> v;
    for (const auto& t : rounds) v.push_back(t.*field);
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double g = median(&Timing::gitstore);
  const double f = median(&Timing::fast_import);
  const double n = static_cast<double>(cs.size());
  fmt::print("commit_bench: {} commits ({} campaigns x {}), avg file {} B; median of {} rounds; malloc {}\n",
             cs.size(), kCampaigns, per_campaign, bytes / cs.size(), kRounds,
             plain_malloc ? "defaults" : "thresholds raised on both sides");
  fmt::print("  {:<28} {:>8.3f} s  {:>9.0f} commits/s\n", "GitStore (commit + flush)", g, n / g);
  fmt::print("  {:<28} {:>8.3f} s\n", "  of which flush", median(&Timing::gitstore_flush));
  fmt::print("  {:<28} {:>8.3f} s  {:>9.0f} commits/s\n", "git fast-import (floor)", f, n / f);
  const double ratio = g / f;
  fmt::print("  ratio {:.2f}x   target <= 3.00x   {}\n", ratio, ratio <= 3.0 ? "OK" : "OVER TARGET");
  return 0;
}
