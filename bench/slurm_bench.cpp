// Slurm status-pass benchmark (figures, not a test): 1,000 cairn jobs sit in the queue of
// the real test cluster as held array tasks, and SlurmScheduler::status() reads them all.
// Prints the scheduler calls made, the wall time of the pass and the bytes it parsed.
//
//   ci/slurm/start.sh && CAIRN_SLURM_TEST=1 build/bench/slurm_bench
//
// Without CAIRN_SLURM_TEST=1 or a reachable controller it says why and exits 0. The
// held jobs are cancelled at the end (also when a pass fails).

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <cairn/sched/command_runner.hpp>
#include <cairn/sched/slurm.hpp>

namespace fs = std::filesystem;
using namespace cairn;

namespace {

using Clock = std::chrono::steady_clock;

struct Meter {
  std::map<std::string, int> calls;
  std::size_t bytes = 0;
};

// Passes every call on to the real runner, counting calls per program and output bytes.
class MeteredRunner : public sched::CommandRunner {
 public:
  explicit MeteredRunner(std::shared_ptr<Meter> meter) : m_meter(std::move(meter)) {}
  Expected<sched::CommandResult> run(const std::vector<std::string>& argv, std::string_view input,
                                     std::chrono::milliseconds timeout) override {
    // `env SLURM_TIME_FORMAT=%s squeue ...` is a squeue call.
    std::size_t program = 0;
    if (argv.at(0) == "env") {
      for (program = 1; program < argv.size() && argv[program].find('=') != std::string::npos; ++program) {
      }
    }
    ++m_meter->calls[argv.at(std::min(program, argv.size() - 1))];
    auto r = m_inner.run(argv, input, timeout);
    if (r) m_meter->bytes += r->out.size() + r->err.size();
    return r;
  }

 private:
  sched::ProcessRunner m_inner;
  std::shared_ptr<Meter> m_meter;
};

Expected<sched::CommandResult> run(const std::vector<std::string>& argv) {
  return sched::ProcessRunner().run(argv, "", std::chrono::seconds(60));
}

// Submits `jobs` held arrays of `tasks` tasks each, named like cairn keys. Returns the ids.
std::vector<std::string> submit_held(const fs::path& script, const std::string& campaign, int jobs,
                                     int tasks) {
  std::vector<std::string> ids;
  for (int j = 0; j < jobs; ++j) {
    auto r = run({"sbatch", "--parsable", "--hold", "--partition=debug", "--mem=1M", "--output=/dev/null",
                  fmt::format("--array=0-{}", tasks - 1),
                  fmt::format("--job-name=cairn.{}.s{}.1", campaign, j), script.string()});
    if (!r || r->exit != 0) {
      std::fprintf(stderr, "sbatch failed: %s\n", r ? r->err.c_str() : r.error().message.c_str());
      break;
    }
    ids.push_back(r->out.substr(0, r->out.find_first_of(";\n")));
  }
  return ids;
}

void cancel_all(const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  std::vector<std::string> argv = {"scancel"};
  argv.insert(argv.end(), ids.begin(), ids.end());
  (void)run(argv);
}

// One configuration: `jobs` arrays of `tasks` tasks, `passes` status() passes.
bool measure(const fs::path& script, int jobs, int tasks, int passes) {
  const std::string campaign = fmt::format("bench{}x{}", getpid(), jobs);
  const auto t_submit = Clock::now();
  auto ids = submit_held(script, campaign, jobs, tasks);
  const double submit_s = std::chrono::duration<double>(Clock::now() - t_submit).count();
  bool good = static_cast<int>(ids.size()) == jobs;
  if (good) {
    std::vector<double> walls;
    auto meter = std::make_shared<Meter>();
    std::size_t seen_tasks = 0;
    int pending = 0;
    for (int p = 0; p < passes && good; ++p) {
      meter->calls.clear();
      meter->bytes = 0;
      sched::SlurmScheduler s(std::make_unique<MeteredRunner>(meter), sched::SlurmConfig{});
      const auto t0 = Clock::now();
      auto st = s.status(ids);
      walls.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
      if (!st) {
        std::fprintf(stderr, "status() failed: %s\n", st.error().message.c_str());
        good = false;
        break;
      }
      seen_tasks = 0;
      pending = 0;
      for (const auto& [id, js] : *st) {
        seen_tasks += js.tasks.size();
        if (js.state == engine::JobState::pending) ++pending;
      }
    }
    if (good) {
      std::sort(walls.begin(), walls.end());
      std::string calls;
      for (const auto& [prog, n] : meter->calls)
        calls += fmt::format("{}{}={}", calls.empty() ? "" : " ", prog, n);
      fmt::print("{:>4} held arrays x {:>4} tasks = {:>5} tasks (submitted in {:.1f} s)\n", jobs, tasks,
                 jobs * tasks, submit_s);
      fmt::print(
          "     status(): calls {{{}}}, {} bytes parsed, wall min {:.3f} s / median {:.3f} s / max {:.3f} s "
          "over {} passes; {} of {} job(s) pending, {} task rows\n",
          calls, meter->bytes, walls.front(), walls[walls.size() / 2], walls.back(), walls.size(), pending,
          jobs, seen_tasks);
    }
  }
  cancel_all(ids);
  return good;
}

// The calls of one tick's submit phase for `n` stages, as the engine makes them: one
// find_all() over every key, then one submit() each. Jobs are cancelled afterwards.
bool measure_submits(const fs::path& dir, int n) {
  auto meter = std::make_shared<Meter>();
  sched::SlurmScheduler s(std::make_unique<MeteredRunner>(meter), sched::SlurmConfig{});
  const std::string campaign = fmt::format("subm{}x{}", getpid(), n);
  std::vector<engine::JobKey> keys;
  for (int i = 0; i < n; ++i) keys.push_back(engine::JobKey{campaign, fmt::format("s{}", i), 1, "bench"});
  const auto t0 = Clock::now();
  auto found = s.find_all(keys);
  if (!found) {
    std::fprintf(stderr, "find_all() failed: %s\n", found.error().message.c_str());
    return false;
  }
  std::vector<std::string> ids;
  for (const auto& key : keys) {
    engine::SubmitRequest r;
    r.key = key;
    r.campaign_dir = dir.string();
    r.spec.run = "job.sh";
    r.spec.resources.partition = "debug";
    r.spec.resources.mem_mb = 1;
    r.spec.resources.time_seconds = 60;
    auto id = s.submit(r);
    if (!id) {
      std::fprintf(stderr, "submit() failed: %s\n", id.error().message.c_str());
      cancel_all(ids);
      return false;
    }
    ids.push_back(*id);
  }
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  std::string calls;
  int lookups = 0;
  for (const auto& [prog, count] : meter->calls) {
    calls += fmt::format("{}{}={}", calls.empty() ? "" : " ", prog, count);
    if (prog == "squeue" || prog == "sacct") lookups += count;
  }
  fmt::print(
      "{:>4} submits: calls {{{}}}; squeue+sacct {} (target <= 2), sbatch {} (target <= {}), {:.2f} s\n", n,
      calls, lookups, meter->calls["sbatch"], n, wall);
  cancel_all(ids);
  return true;
}

}  // namespace

int main() {
  const char* e = std::getenv("CAIRN_SLURM_TEST");
  if (!e || std::string(e) != "1") {
    std::puts("slurm_bench: skipped: set CAIRN_SLURM_TEST=1 with the test cluster up (ci/slurm/start.sh)");
    return 0;
  }
  auto ping = run({"scontrol", "ping"});
  if (!ping || ping->exit != 0 || ping->out.find("UP") == std::string::npos) {
    std::printf("slurm_bench: skipped: no Slurm controller answers `scontrol ping`: %s\n",
                ping ? (ping->out + ping->err).c_str() : ping.error().message.c_str());
    return 0;
  }
  const fs::path dir = fs::temp_directory_path() / fmt::format("cairn-slurm-bench-{}", getpid());
  fs::create_directories(dir);
  const fs::path script = dir / "job.sh";
  std::ofstream(script) << "#!/bin/sh\ntrue\n";
  fs::permissions(script, fs::perms::owner_all, fs::perm_options::add);

  std::puts("slurm_bench: one SlurmScheduler::status() pass over 1,000 held cairn array tasks");
  bool good = measure(script, 4, 250, 5);
  good = measure(script, 40, 25, 5) && good;
  std::puts("slurm_bench: one tick's submit phase (find_all over every key, then submit each)");
  for (const int n : {1, 10, 100}) good = measure_submits(dir, n) && good;
  fs::remove_all(dir);
  return good ? 0 : 1;
}
