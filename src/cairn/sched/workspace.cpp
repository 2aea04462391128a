#include <cairn/sched/workspace.hpp>

#include <glob.h>
#include <sys/stat.h>

#include <charconv>
#include <map>
#include <string_view>
#include <utility>

#include <cairn/util/subprocess.hpp>

namespace cairn::sched {

namespace {

// The paths matching `glob` under `dir` and the newest modification time among them.
Expected<std::pair<int, std::optional<engine::TimePoint>>> matches(const std::string& dir,
                                                                   const std::string& glob, bool want_time) {
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
        options.workload = true;
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

// ---------------------------------------------------------------------------------------

namespace {

// One line, no `!`: ssh hands the command to the remote user's login shell, and csh
// rejects a newline inside quotes and expands `!` even there. The arguments arrive as
// positional parameters ($1 dir, $2 check timeout, then kind/arg pairs), never spliced
// into the text. IFS is empty so an unquoted `$a` is one word that the shell only
// globs (spaces in a glob stay); a pattern that matches nothing stays itself, hence the
// existence test of a lone word. A command's own output never reaches ours.
constexpr std::string_view kProbeScript =
    "d=$1; t=$2; shift 2; "
    "if [ -d \"$d\" ]; then :; else echo \"cairn-probe nodir\"; exit 0; fi; "
    "cd \"$d\" 2>/dev/null || { echo \"cairn-probe nocd\"; exit 0; }; "
    "echo \"cairn-probe dir\"; IFS=; "
    "n() { if [ $# -eq 1 ]; then [ -e \"$1\" ] || [ -L \"$1\" ] || shift; fi; echo $#; }; "
    "m() { if [ $# -eq 1 ]; then [ -e \"$1\" ] || [ -L \"$1\" ] || shift; fi; "
    "if [ $# -eq 0 ]; then echo \"0 -\"; "
    "else echo \"$# $(stat -c %Y -- \"$@\" 2>/dev/null | sort -n | tail -n 1)\"; fi; }; "
    "c() { s=$(date +%s); "
    "if command -v timeout >/dev/null 2>&1; "
    "then timeout -k 5 \"$t\" sh -c \"$1\" </dev/null >/dev/null 2>&1; "
    "else sh -c \"$1\" </dev/null >/dev/null 2>&1; fi; r=$?; "
    "if [ $(( $(date +%s) - s )) -ge \"$t\" ] && { [ \"$r\" -eq 124 ] || [ \"$r\" -eq 137 ]; }; "
    "then echo timeout; else echo \"$r\"; fi; }; "
    "i=0; while [ $# -gt 1 ]; do k=$1; a=$2; shift 2; "
    "case $k in count) v=$(n $a);; newest) v=$(m $a);; command) v=$(c \"$a\");; *) v=unknown;; esac; "
    "echo \"cairn-probe $i $k $v\"; i=$((i+1)); done; echo \"cairn-probe end\"";

constexpr std::string_view kMarker = "cairn-probe ";

std::string_view kind_word(engine::Probe::Kind kind) {
  switch (kind) {
    case engine::Probe::Kind::count: return "count";
    case engine::Probe::Kind::newest: return "newest";
    case engine::Probe::Kind::command: return "command";
  }
  return "count";
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const auto start = s.find_first_not_of(" \t\r");
    if (start == std::string_view::npos) break;
    s.remove_prefix(start);
    const auto end = s.find_first_of(" \t\r");
    out.push_back(s.substr(0, end));
    if (end == std::string_view::npos) break;
    s.remove_prefix(end);
  }
  return out;
}

std::optional<long long> number(std::string_view s) {
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string first_line(std::string_view text) {
  while (!text.empty() && (text.front() == '\n' || text.front() == '\r')) text.remove_prefix(1);
  return std::string(text.substr(0, text.find_first_of("\r\n")));
}

}  // namespace

RemoteWorkspace::RemoteWorkspace(CommandRunner& runner, std::string where, std::chrono::milliseconds timeout)
    : m_runner(runner), m_where(std::move(where)), m_timeout(timeout) {}

std::vector<std::string> remote_probe_argv(const std::string& dir, const std::vector<engine::Probe>& probes,
                                           std::chrono::seconds check_timeout) {
  std::vector<std::string> argv = {
      "sh",          "-c", std::string(kProbeScript),
      "cairn-probe", dir,  std::to_string(std::max<long long>(1, check_timeout.count()))};
  for (const auto& p : probes) {
    argv.emplace_back(kind_word(p.kind));
    argv.push_back(p.arg);
  }
  return argv;
}

Expected<std::vector<engine::ProbeAnswer>> parse_remote_probe(const std::string& dir,
                                                              const std::vector<engine::Probe>& probes,
                                                              const CommandResult& result,
                                                              const std::string& where,
                                                              std::chrono::seconds check_timeout) {
  const std::string on = where.empty() ? std::string() : " on " + where;
  bool entered = false;
  bool ended = false;
  std::map<std::size_t, engine::ProbeAnswer> answers;
  std::string_view text = result.out;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.rfind(kMarker, 0) != 0) continue;  // a login banner, a shell's notice
    const auto w = words(line.substr(kMarker.size()));
    if (w.empty()) continue;
    if (w[0] == "nodir") return fail("directory " + dir + " does not exist" + on, ExitCode::findings);
    if (w[0] == "nocd") {
      return fail("directory " + dir + " cannot be entered" + on + " (permission denied)",
                  ExitCode::findings);
    }
    if (w[0] == "dir") {
      entered = true;
      continue;
    }
    if (w[0] == "end") {
      ended = true;
      continue;
    }
    const auto index = number(w[0]);
    if (!entered || !index || *index < 0 || static_cast<std::size_t>(*index) >= probes.size() ||
        w.size() < 2) {
      continue;
    }
    const auto i = static_cast<std::size_t>(*index);
    const auto& probe = probes[i];
    if (w[1] != kind_word(probe.kind)) continue;
    engine::ProbeAnswer a;
    switch (probe.kind) {
      case engine::Probe::Kind::count: {
        if (w.size() < 3 || !number(w[2])) continue;
        a.count = static_cast<int>(*number(w[2]));
        break;
      }
      case engine::Probe::Kind::newest: {
        if (w.size() < 3 || !number(w[2])) continue;
        a.count = static_cast<int>(*number(w[2]));
        // "-" (no match) or nothing (every match vanished before stat) is no time.
        if (w.size() >= 4) {
          if (auto secs = number(w[3])) a.newest = engine::TimePoint(std::chrono::seconds(*secs));
        }
        break;
      }
      case engine::Probe::Kind::command: {
        if (w.size() >= 3 && w[2] == "timeout") {
          return fail("`" + probe.arg + "`" + on + ": ran past " + std::to_string(check_timeout.count()) +
                      " s");
        }
        if (w.size() < 3 || !number(w[2])) continue;
        a.exit = static_cast<int>(*number(w[2]));
        break;
      }
    }
    answers[i] = a;
  }
  if (entered && ended && answers.size() == probes.size()) {
    std::vector<engine::ProbeAnswer> out;
    out.reserve(probes.size());
    for (const auto& [i, a] : answers) out.push_back(a);
    return out;
  }
  // No complete answer: the connection dropped, or `sh` itself failed there.
  std::string why = first_line(result.err);
  if (why.empty()) why = "exit " + std::to_string(result.exit);
  return fail("probing " + dir + on + ": the answer was cut short after " + std::to_string(answers.size()) +
                  " of " + std::to_string(probes.size()) + " probes (" + why + ")",
              ExitCode::unreachable);
}

Expected<std::vector<engine::ProbeAnswer>> RemoteWorkspace::probe(const std::string& dir,
                                                                  const std::vector<engine::Probe>& probes) {
  int commands = 0;
  for (const auto& p : probes) commands += p.kind == engine::Probe::Kind::command;
  // Each check may take its whole limit (plus timeout's kill grace); the connection
  // gets m_timeout on top.
  const auto limit =
      m_timeout + commands * (std::chrono::duration_cast<std::chrono::milliseconds>(check_timeout) +
                              std::chrono::seconds(5));
  auto r = m_runner.run(remote_probe_argv(dir, probes, check_timeout), "", limit);
  if (!r) {
    return fail("probing " + dir + (m_where.empty() ? "" : " on " + m_where) + ": " + r.error().message,
                ExitCode::unreachable);
  }
  return parse_remote_probe(dir, probes, *r, m_where, check_timeout);
}

}  // namespace cairn::sched
