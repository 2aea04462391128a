// Classifies a 100 MB job log against a 1,000-entry catalog the way `cairn classify`
// does: read the last 10,000 lines by seeking from the end, then one CatalogSet::classify.
// Prints ms per classification (median), bytes read and peak RSS next to the target,
// and a floor measured in the same run (`tail -n 10000` of the same file, and a plain
// read of the same bytes). The log is in the page cache, as a just-finished job's is.
// Usage: classify_bench [ENTRIES] [LOG_MB] [RUNS]

#include <fcntl.h>
#include <sys/resource.h>
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
#include <re2/re2.h>

#include <cairn/catalog/catalog.hpp>
#include <cairn/util/fs.hpp>

namespace fs = std::filesystem;
using namespace cairn;

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kTailLines = 10000;            // what `cairn classify` reads
constexpr std::size_t kTailBytes = 8 << 20;  // and its byte bound
constexpr int kEvidenceLinesFromEnd = 3000;  // inside the tail, not at its edge
constexpr const char* kCatalogPath = "bench-catalog.md";

const char* const kWords[] = {"solver", "mdrun",  "trainer", "loader",  "mesh",  "fft",
                              "halo",   "ckpt",   "reduce",  "sampler", "embed", "tokenize",
                              "shard",  "writer", "reader",  "optim"};

// A name no other entry uses: "solver0412".
std::string ident(int i) {
  return fmt::format("{}{:04}", kWords[static_cast<std::size_t>(i) % std::size(kWords)], i);
}

// The log signature of entry `i`: real failure shapes (loader errors, CUDA, NCCL, MPI,
// HDF5, Slurm, Python, C++), each made distinct by a name or code of its own.
std::string signature(int i) {
  const std::string id = ident(i);
  switch (i % 16) {
    case 0:
      return fmt::format("`{}: error while loading shared libraries: lib{}\\.so(?:\\.[0-9]+)*: cannot open`",
                         id, id);
    case 1:
      return fmt::format(
          "`CUDA error: (?:an illegal memory access was encountered\\|misaligned address) .*{}`", id);
    case 2:
      return fmt::format("`NCCL WARN .*{} failed: (?:unhandled system error\\|remote process exited)`", id);
    case 3:
      return fmt::format("`MPI_ABORT was invoked on rank [0-9]+ in communicator {} with errorcode [0-9]+`",
                         id);
    case 4: return fmt::format("`(?i){} (?:timed out\\|timeout) after [0-9]+ ?(?:s\\|ms\\|seconds)`", id);
    case 5: return fmt::format("`^{}\\.(?:Fatal\\|Config)Error: `", id);
    case 6:
      return fmt::format("`ERROR \\[{}\\] checkpoint (?:write\\|read) failed: .*errno=(?:5\\|28\\|122)`", id);
    case 7: return fmt::format("`slurmstepd: error: \\*\\*\\* STEP [0-9]+\\.{} ON \\S+ CANCELLED AT `", i);
    case 8:
      return fmt::format("`HDF5-DIAG: Error detected in HDF5 \\(1\\.[0-9]+\\.[0-9]+\\) .*H5{}\\(\\)`", id);
    case 9:
      return fmt::format("`{}\\[[0-9]+\\]: segfault at [0-9a-f]+ ip [0-9a-f]+ sp [0-9a-f]+ error [0-9]`", id);
    case 10: return fmt::format("`Fatal error in MPI_Allreduce: .*{}, error stack:`", id);
    case 11: return fmt::format("`\\bNaN detected in {}\\.weight at step [0-9]+`", id);
    case 12: return fmt::format("`(?i)disk quota exceeded.*/scratch/{}/`", id);
    case 13: return fmt::format("`terminate called after throwing an instance of '{}::[A-Za-z_]+Error'`", id);
    case 14:
      return fmt::format("`{} exited with (?:signal [0-9]+\\|code (?:1[0-9]{{2}}\\|2[0-5][0-9]))`", id);
    default: return fmt::format("{} failed with return code {}", id, 1000 + i);  // plain text: literal
  }
}

// A Markdown catalog of `entries` rows; every 20th row has only an exit code or a
// scheduler state, as real catalogs do.
std::string catalog_markdown(int entries) {
  std::string md =
      "# Bench catalog\n\n"
      "| Class | Exit code | Scheduler state | Log signature (RE2) | Safe to retry | Auto-fix | Max fixes | "
      "Hint |\n"
      "|---|---|---|---|---|---|---|---|\n";
  for (int i = 0; i < entries; ++i) {
    const std::string cls = fmt::format("class-{:04}", i);
    if (i % 20 == 19) {
      md += i % 40 == 19 ? fmt::format("| {} | {} | — | — | no | none | — | exit-code row |\n", cls, 200 + i)
                         : fmt::format("| {} | — | STATE_{} | — | no | none | — | state row |\n", cls, i);
      continue;
    }
    md += fmt::format("| {} | — | — | {} | no | none | — | hint {} |\n", cls, signature(i), i);
  }
  return md;
}

// The line that entry `i` (a case-2 NCCL entry) matches, and no entry before it does.
std::string evidence_line(int i) {
  return fmt::format(
      "node-a17:4412:4490 [3] NCCL WARN Call to {} failed: remote process exited or there was a "
      "network error\n",
      ident(i));
}

// Ordinary output: step lines, near misses of the signatures, INFO chatter.
void append_noise(std::string& out, long n) {
  switch (n % 8) {
    case 0:
      fmt::format_to(std::back_inserter(out),
                     "node-a17:4412:4490 [3] NCCL INFO Channel {:02}/32 : 0[3] -> 1[3] via P2P/IPC\n",
                     n % 32);
      break;
    case 1:
      fmt::format_to(std::back_inserter(out), "[{}] WARNING: checkpoint write slow: {} ms (solver{:04})\n", n,
                     n % 977, n % 1000);
      break;
    default:
      fmt::format_to(std::back_inserter(out),
                     "2026-05-05T20:{:02}:{:02}.{:03}Z [rank {}] step={} loss={:.4f} lr=8.2e-05 tokens/s={} "
                     "mem=31.2GiB\n",
                     (n / 60000) % 60, (n / 1000) % 60, n % 1000, n % 8, n, 2.0 / (1.0 + n * 1e-5),
                     120000 + n % 9999);
  }
}

// Writes a log of about `bytes` bytes with the evidence line kEvidenceLinesFromEnd lines
// before its end, 1 MB at a time so the bench's RSS stays the classifier's.
std::size_t write_log(const std::string& path, std::size_t bytes, const std::string& evidence) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    std::perror(path.c_str());
    std::exit(1);
  }
  std::string buf;
  std::size_t written = 0;
  long n = 0;
  // Lines are about 100 bytes: stop the noise early enough to leave room for the rest.
  const std::size_t head = bytes - std::min<std::size_t>(bytes, 110 * kEvidenceLinesFromEnd);
  const auto flush = [&] {
    written += std::fwrite(buf.data(), 1, buf.size(), f);
    buf.clear();
  };
  while (written + buf.size() < head) {
    append_noise(buf, n++);
    if (buf.size() >= (1 << 20)) flush();
  }
  buf += evidence;
  for (int k = 1; k < kEvidenceLinesFromEnd; ++k) append_noise(buf, n++);
  flush();
  std::fclose(f);
  return written;
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
}

// Bytes this process has read so far (rchar of /proc/self/io); -1 when not reported.
long long bytes_read() {
  std::ifstream in("/proc/self/io");
  std::string key;
  long long value = -1;
  while (in >> key >> value) {
    if (key == "rchar:") return value;
  }
  return -1;
}

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The classifier before the signature set: each entry's regex over the tail in turn.
std::string one_by_one(const catalog::CatalogSet& set, const engine::Evidence& ev) {
  for (const auto& e : set.entries()) {
    if (!e.exit_codes.empty() &&
        std::find(e.exit_codes.begin(), e.exit_codes.end(), ev.exit_code.value_or(-1)) == e.exit_codes.end())
      continue;
    if (!e.states.empty()) continue;  // the bench's state (FAILED) is in no row
    if (e.regex && e.regex->Match(ev.log_tail, 0, ev.log_tail.size(), RE2::UNANCHORED, nullptr, 0))
      return fmt::format("{}:{}", e.path, e.line);
  }
  return "";
}

// Reads the last `bytes` bytes of `path` with one pread: no line logic, no classifier.
std::size_t plain_read(const std::string& path, std::size_t bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  const off_t size = ::lseek(fd, 0, SEEK_END);
  std::string buf(bytes, '\0');
  const ssize_t n = ::pread(fd, buf.data(), bytes, std::max<off_t>(0, size - static_cast<off_t>(bytes)));
  ::close(fd);
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

}  // namespace

int main(int argc, char** argv) {
  const int entries = argc > 1 ? std::atoi(argv[1]) : 1000;
  const std::size_t log_mb = argc > 2 ? static_cast<std::size_t>(std::atol(argv[2])) : 100;
  const int runs = argc > 3 ? std::max(1, std::atoi(argv[3])) : 9;
  // The real match sits near the end of the priority list: a case-2 (NCCL) entry.
  const int target = std::max(2, (entries - 14) / 16 * 16 + 2);

  const auto t0 = Clock::now();
  auto loaded = catalog::load_catalogs({{kCatalogPath, catalog_markdown(entries), ""}});
  const auto t1 = Clock::now();
  if (!loaded || !loaded->diagnostics().empty()) {
    for (const auto& d : loaded ? loaded->diagnostics() : loaded.error())
      std::fprintf(stderr, "%s\n", doc::format(d).c_str());
    return 1;
  }
  const catalog::CatalogSet& set = *loaded;
  const std::string want = fmt::format("{}:{}", kCatalogPath, 5 + target);
  const double rss_catalog = peak_rss_mb();

  const std::string path =
      (fs::temp_directory_path() / fmt::format("cairn-classify-bench-{}.log", ::getpid())).string();
  const std::size_t log_bytes = write_log(path, log_mb << 20, evidence_line(target));

  std::vector<double> total, read_only, classify_only;
  std::size_t tail_bytes = 0;
  long long io_bytes = -1;
  for (int r = 0; r < runs; ++r) {
    const long long io0 = bytes_read();
    const auto a = Clock::now();
    auto tail = util::read_log_tail(path, kTailLines, kTailBytes);
    const auto b = Clock::now();
    if (!tail) {
      std::fprintf(stderr, "%s\n", tail.error().message.c_str());
      return 1;
    }
    const long long io1 = bytes_read();
    engine::Evidence ev;
    ev.exit_code = 1;
    ev.state = "FAILED";
    ev.log_tail = std::move(*tail);
    const auto cls = set.classify(ev);
    const auto c = Clock::now();
    if (!cls || cls->source != want) {
      std::fprintf(stderr, "classified as %s, want %s\n", cls ? cls->source.c_str() : "nothing",
                   want.c_str());
      return 1;
    }
    total.push_back(ms(c - a));
    read_only.push_back(ms(b - a));
    classify_only.push_back(ms(c - b));
    tail_bytes = ev.log_tail.size();
    if (io0 >= 0 && io1 >= 0) io_bytes = io1 - io0;
  }
  const double rss = peak_rss_mb();

  // The same evidence through each entry's own regex in turn, as before the set.
  engine::Evidence ev;
  ev.exit_code = 1;
  ev.state = "FAILED";
  ev.log_tail = *util::read_log_tail(path, kTailLines, kTailBytes);
  std::vector<double> serial;
  for (int r = 0; r < std::min(runs, 3); ++r) {
    const auto a = Clock::now();
    const std::string hit = one_by_one(set, ev);
    serial.push_back(ms(Clock::now() - a));
    if (hit != want) std::fprintf(stderr, "one by one found %s, want %s\n", hit.c_str(), want.c_str());
  }

  // Floors: coreutils tail (a process, so it includes fork/exec) and one pread.
  std::vector<double> tail_cmd, pread_only;
  const std::string cmd = fmt::format("tail -n {} '{}' > /dev/null", kTailLines, path);
  for (int r = 0; r < runs; ++r) {
    const auto a = Clock::now();
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "`%s` failed\n", cmd.c_str());
    const auto b = Clock::now();
    plain_read(path, tail_bytes);
    const auto c = Clock::now();
    tail_cmd.push_back(ms(b - a));
    pread_only.push_back(ms(c - b));
  }
  fs::remove(path);

  const double t = median(total);
  std::printf(
      "catalog:   %d entries (%zu with a log signature), loaded and compiled in %.1f ms\n", entries,
      static_cast<std::size_t>(std::count_if(set.entries().begin(), set.entries().end(),
                                             [](const catalog::Entry& e) { return e.regex != nullptr; })),
      ms(t1 - t0));
  std::printf("log:       %.1f MB, evidence line %d lines from the end, matched by entry %d (%s)\n",
              static_cast<double>(log_bytes) / (1 << 20), kEvidenceLinesFromEnd, target, want.c_str());
  std::printf("classify:  %8.2f ms/classification (median of %d)   (target <= 50 ms)\n", t, runs);
  std::printf("           %8.2f ms tail read + %.2f ms classify\n", median(read_only), median(classify_only));
  // The set's DFA is built lazily: the first classification (a `cairn classify` process) pays for it.
  std::printf("           %8.2f ms the first classification of the process (%.2f ms classify)\n",
              total.front(), classify_only.front());
  std::printf("           %8.2f ms classify with each entry's regex in turn (no set)\n", median(serial));
  std::printf("read:      %8zu bytes of tail kept (%d lines), %lld bytes read from the file\n", tail_bytes,
              kTailLines, io_bytes);
  std::printf("floor:     %8.2f ms `tail -n %d` (a process)   ratio %.2fx\n", median(tail_cmd), kTailLines,
              t / median(tail_cmd));
  std::printf("           %8.2f ms one pread of the same %zu bytes   ratio %.1fx\n", median(pread_only),
              tail_bytes, t / median(pread_only));
  std::printf("peak RSS:  %8.1f MB (%.1f MB after loading the catalog)\n", rss, rss_catalog);
  return 0;
}
