#include <cairn/sched/workspace.hpp>

#include <glob.h>
#include <sys/stat.h>

#include <cairn/util/subprocess.hpp>

namespace cairn::sched {

Expected<int> LocalWorkspace::count_matches(const std::string& dir, const std::string& glob) {
  const std::string pattern = !glob.empty() && glob.front() == '/' ? glob : dir + "/" + glob;
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g);
  const int n = rc == 0 ? static_cast<int>(g.gl_pathc) : 0;
  ::globfree(&g);
  if (rc == GLOB_NOMATCH || rc == 0) return n;
  return fail("cannot list " + pattern + ": out of memory");
}

Expected<std::optional<engine::TimePoint>> LocalWorkspace::newest_match(const std::string& dir,
                                                                     const std::string& glob) {
  const std::string pattern = !glob.empty() && glob.front() == '/' ? glob : dir + "/" + glob;
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g);
  std::optional<engine::TimePoint> newest;
  for (std::size_t i = 0; rc == 0 && i < g.gl_pathc; ++i) {
    struct stat st {};
    if (::stat(g.gl_pathv[i], &st) != 0) continue;
    const auto t = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec) +
                   std::chrono::duration_cast<std::chrono::system_clock::duration>(
                       std::chrono::nanoseconds(st.st_mtim.tv_nsec));
    if (!newest || t > *newest) newest = t;
  }
  ::globfree(&g);
  if (rc == GLOB_NOMATCH || rc == 0) return newest;
  return fail("cannot list " + pattern + ": out of memory");
}

Expected<int> LocalWorkspace::run_check(const std::string& dir, const std::string& command) {
  util::SpawnOptions options;
  options.cwd = dir;
  auto r = util::run_capture({"/bin/sh", "-c", command}, "", check_timeout, options);
  if (!r) return fail("`" + command + "`: " + r.error().message);
  return r->exit;
}

}  // namespace cairn::sched
