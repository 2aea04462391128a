// Parses and re-writes 10,000 generated campaign files held in memory at once.
// Prints µs per campaign for parse and write, and peak RSS, next to the targets.
// Usage: parse_bench [COUNT]

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <cairn/parse/workflow_file.hpp>

namespace {

using Clock = std::chrono::steady_clock;

const char* const kStatuses[] = {"done", "done", "running", "pending", "pending"};

// One campaign file shaped like the shipped template: 5-12 stages, each with a
// `stages:` spec, an action queue, a few failure rows.
std::string campaign(int i, std::mt19937& rng) {
  const int stages = 5 + static_cast<int>(rng() % 8);
  const int failures = static_cast<int>(rng() % 4);
  const std::string name = fmt::format("campaign-{:05}", i);
  std::string s = fmt::format(
      "---\ncampaign: {}                  # must equal the directory name\nproject: bench\ncreated: "
      "2026-05-05\n"
      "last_tick: 2026-05-05T20:10:00Z\nstatus: running                   # "
      "pending|ready|running|done|failed|escalated\n"
      "current_stage: s2\nescalation_required: false\nescalation_reason: \"\"\nbudget:\n  backend: slurm\n"
      "  cap_usd: 0\n  spent_usd: {}.5\nnotify:\n  on_advance: false\n  on_escalate: true\nreferences:\n"
      "  - path: AGENTS.md\n    section: HPC operations\nstages:\n",
      name, i % 100);
  for (int k = 0; k < stages; ++k) {
    s += fmt::format(
        "  s{}:\n    run: jobs/s{}.sh\n    resources: {{time: \"0{}:30:00\", cpus: {}, mem: {}G}}\n"
        "    expect: {}m\n",
        k, k, k % 10, 1 + k % 8, 2 + k, 10 + k);
  }
  s += "---\n\n# Benchmark campaign\n\nGenerated for parse_bench.\n\n## Stages\n\n"
       "| # | Name | Entry condition | Exit condition                     | Status  | JobID    | Started     "
       "      "
       "| Completed         | Retries |\n"
       "|---|------|-----------------|------------------------------------|---------|----------|-------------"
       "------"
       "|-------------------|---------|\n";
  for (int k = 0; k < stages; ++k) {
    const char* status = kStatuses[std::min(k, 4)];
    const bool started = k < 3;
    s += fmt::format(
        "| {} | s{} | {:<15} | exit=0, `out/s{}.dat` exists       | {:<7} | {:<8} | {:<17} | {:<17} | {}     "
        "  |\n",
        k, k, k == 0 ? std::string("always") : fmt::format("stage {} done", k - 1), k, status,
        started ? std::to_string(1000000 + i * 13 + k) : "—", started ? "2026-05-05 20:10Z" : "—",
        k < 2 ? "2026-05-05 21:10Z" : "—", k % 2);
  }
  s += "\n## Action queue\n\n- [ ] Check the output by hand.\n"
       "- [ ] cairn: job 1000000 (s2) submitted 2026-05-05 20:10Z; next check ≈ 20:40Z\n\n## Failure log\n\n"
       "| Date | Stage | Error class | Error msg | Action taken | Result |\n"
       "|------|-------|-------------|-----------|--------------|--------|\n";
  for (int f = 0; f < failures; ++f) {
    s += fmt::format(
        "| 2026-05-0{} | s{} | walltime-exceeded | DUE TO TIME LIMIT | walltime x2 | RETRYING |\n", f + 1, f);
  }
  s += "\n## Lessons learned\n\n(none yet)\n\n## References\n\n- AGENTS.md\n";
  return s;
}

// The same file without its `stages:` frontmatter block.
std::string without_stages(const std::string& text) {
  const std::size_t b = text.find("stages:\n");
  const std::size_t e = text.find("---\n", b);
  return text.substr(0, b) + text.substr(e);
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
}

// Parses `texts` (moved in) into `files`; returns the total parse time.
Clock::duration parse_all(std::vector<std::string>& texts, const std::vector<std::string>& paths,
                          std::vector<cairn::parse::WorkflowFile>& files) {
  Clock::duration total{};
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto t0 = Clock::now();
    auto f = cairn::parse::WorkflowFile::parse(paths[i], std::move(texts[i]));
    total += Clock::now() - t0;
    if (!f) {
      std::fprintf(stderr, "parse failed: %s\n", cairn::doc::format(f.error().front()).c_str());
      std::exit(1);
    }
    files.push_back(std::move(*f));
    std::string().swap(texts[i]);
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::atoi(argv[1]) : 10000;
  std::mt19937 rng(42);
  std::vector<std::size_t> hashes;
  std::size_t bytes = 0;
  std::vector<cairn::parse::WorkflowFile> files;
  files.reserve(static_cast<std::size_t>(count));
  Clock::duration parse_time{};
  // Generated one at a time so the peak RSS is the parsed files, not a pool of inputs.
  for (int i = 0; i < count; ++i) {
    std::vector<std::string> one{campaign(i, rng)};
    hashes.push_back(std::hash<std::string>{}(one[0]));
    bytes += one[0].size();
    parse_time += parse_all(one, {fmt::format("campaigns/campaign-{:05}/WORKFLOW.md", i)}, files);
  }
  const double rss = peak_rss_mb();

  // "Write" = producing the bytes to put on disk; they must equal the input.
  std::string out;
  const auto t1 = Clock::now();
  std::size_t written = 0;
  for (int i = 0; i < count; ++i) {
    out = files[static_cast<std::size_t>(i)].text();
    written += out.size();
    if (std::hash<std::string>{}(out) != hashes[static_cast<std::size_t>(i)]) {
      std::fprintf(stderr, "round trip changed bytes of campaign %d\n", i);
      return 1;
    }
  }
  const auto t2 = Clock::now();

  // One surgical edit (a Status cell; re-derives the spans) on a tenth of them.
  const int edits = std::max(1, count / 10);
  const auto t3 = Clock::now();
  for (int i = 0; i < edits; ++i) {
    auto r = files[static_cast<std::size_t>(i)].set_cell("s2", cairn::doc::Column::status, "done");
    if (!r) {
      std::fprintf(stderr, "edit failed: %s\n", r.error().message.c_str());
      return 1;
    }
  }
  const auto t4 = Clock::now();

  // The upstream NAMD template shape: no `stages:` block (frontmatter read without yaml-cpp).
  const std::string upstream = without_stages(files.back().text());
  std::vector<std::string> plain(static_cast<std::size_t>(std::max(1, count / 10)), upstream);
  std::vector<std::string> plain_paths(plain.size(), "WORKFLOW.md");
  std::vector<cairn::parse::WorkflowFile> plain_files;
  plain_files.reserve(plain.size());
  const auto plain_time = parse_all(plain, plain_paths, plain_files);

  auto us = [](auto d, std::size_t n) {
    return std::chrono::duration<double, std::micro>(d).count() / static_cast<double>(n);
  };
  const auto n = static_cast<std::size_t>(count);
  std::printf("campaigns: %d (%.1f KiB average, 5-12 stages, 0-3 failure rows)\n", count,
              static_cast<double>(bytes) / count / 1024.0);
  std::printf("parse:     %8.1f us/campaign   (target <= 100 us)  with a `stages:` block\n",
              us(parse_time, n));
  std::printf("parse:     %8.1f us/campaign   (target <= 100 us)  without one (upstream template shape)\n",
              us(plain_time, plain.size()));
  std::printf("write:     %8.2f us/campaign   (%zu bytes, identical to the input)\n", us(t2 - t1, n),
              written);
  std::printf("edit:      %8.1f us/edit       (set_cell + re-parse)\n",
              us(t4 - t3, static_cast<std::size_t>(edits)));
  std::printf("peak RSS:  %8.1f MB with all %d parsed files in memory   (target <= 150 MB)\n", rss, count);
  return 0;
}
