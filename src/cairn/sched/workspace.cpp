#include <cairn/sched/workspace.hpp>

#include <glob.h>
#include <sys/stat.h>

#include <cairn/util/subprocess.hpp>

namespace cairn::sched {

namespace {

// The paths matching `glob` under `dir` and the newest modification time among them.
Expected<std::pair<int, std::optional<engine::TimePoint>>> matches(const std::string& dir, const std::string& glob,
                                                                   bool want_time) {
  const std::string pattern = !glob.empty() && glob.front() == '/' ? glob : dir + "/" + glob;
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g);
  const int n = rc == 0 ? static_cast<int>(g.gl_pathc) : 0;
  std::optional<engine::TimePoint> newest;
  for (std::size_t i = 0; want_time && rc == 0 && i < g.gl_pathc; ++i) {
    struct stat st {};
    if (::stat(g.gl_pathv[i], &st) != 0) continue;
    const auto t = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec) +
                   std::chrono::duration_cast<std::chrono::system_clock::duration>(
                       std::chrono::nanoseconds(st.st_mtim.tv_nsec));
    if (!newest || t > *newest) newest = t;
  }
  ::globfree(&g);
  if (rc == GLOB_NOMATCH || rc == 0) return std::pair{n, newest};
  return fail("cannot list " + pattern + ": out of memory");
}

}  // namespace

Expected<std::vector<engine::ProbeAnswer>> LocalWorkspace::probe(const std::string& dir,
                                                                 const std::vector<engine::Probe>& probes) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return fail("directory " + dir + " does not exist", ExitCode::findings);
  }
  std::vector<engine::ProbeAnswer> out;
  for (const auto& p : probes) {
    engine::ProbeAnswer a;
    switch (p.kind) {
      case engine::Probe::Kind::count:
      case engine::Probe::Kind::newest: {
        auto m = CAIRN_TRY(matches(dir, p.arg, p.kind == engine::Probe::Kind::newest));
        a.count = m.first;
        a.newest = m.second;
        break;
      }
      case engine::Probe::Kind::command: {
        util::SpawnOptions options;
        options.cwd = dir;
        auto r = util::run_capture({"/bin/sh", "-c", p.arg}, "", check_timeout, options);
        if (!r) return fail("`" + p.arg + "`: " + r.error().message);
        a.exit = r->exit;
        break;
      }
    }
    out.push_back(a);
  }
  return out;
}

}  // namespace cairn::sched
