#include <cairn/sched/local.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cairn/parse/stage_spec.hpp>
#include <cairn/util/fs.hpp>
#include <cairn/util/subprocess.hpp>
#include <cairn/util/time.hpp>

namespace cairn::sched {

namespace fs = std::filesystem;
using engine::JobState;
using engine::JobStatus;
using engine::TaskStatus;
using json = nlohmann::json;

namespace {

// A claim without a supervisor pid after this long means the tick died between the
// claim and the fork: the job never started.
constexpr auto kStartGrace = std::chrono::seconds(60);

std::string hash_hex(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a: stable across builds and machines
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

bool safe_job_id(std::string_view id) {
  if (id.empty() || id.front() == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::string task_file(const std::string& dir, const std::string& task, const char* ext) {
  return dir + "/task-" + (task.empty() ? std::string("0") : task) + ext;
}

Error os_failure(const std::string& doing) {
  return fail("local backend: cannot " + doing + ": " + std::strerror(errno), ExitCode::unreachable);
}

// Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot.
// Together with the pid it names one process even after the pid is reused.
std::optional<unsigned long long> process_start(pid_t pid) {
  auto text = util::read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  const auto paren = text->rfind(')');  // the command name may contain spaces
  if (paren == std::string::npos) return std::nullopt;
  std::size_t pos = paren + 2;
  for (int field = 3; field < 22; ++field) {
    pos = text->find(' ', pos);
    if (pos == std::string::npos) return std::nullopt;
    ++pos;
  }
  return std::strtoull(text->c_str() + pos, nullptr, 10);
}

struct Supervisor {
  bool claimed = false;  // the `supervisor` file exists
  pid_t pid = 0;         // 0 = claimed but not yet started
  unsigned long long start = 0;
  std::string started;  // ISO 8601
  std::optional<fs::file_time_type> claimed_at;
  bool alive() const {
    if (pid <= 0) return false;
    auto s = process_start(pid);
    return s && *s == start;
  }
};

Supervisor read_supervisor(const std::string& dir) {
  Supervisor s;
  const std::string path = dir + "/supervisor";
  auto text = util::read_file(path);
  if (!text) return s;
  s.claimed = true;
  std::error_code ec;
  if (auto t = fs::last_write_time(path, ec); !ec) s.claimed_at = t;
  char iso[64] = {};
  long pid = 0;
  if (std::sscanf(text->c_str(), "%ld %llu %63s", &pid, &s.start, iso) >= 2) {
    s.pid = static_cast<pid_t>(pid);
    s.started = iso;
  }
  return s;
}

struct ExitRecord {
  JobState state = JobState::unknown;
  std::optional<int> exit_code;
  std::string reason;
  std::string started;
  std::string ended;
  double cpu_seconds = 0;
};

std::optional<ExitRecord> read_exit(const std::string& path) {
  auto text = util::read_file(path);
  if (!text) return std::nullopt;
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  ExitRecord r;
  const std::string state = j.value("state", "");
  r.state = state == "completed"   ? JobState::completed
            : state == "timeout"   ? JobState::timeout
            : state == "cancelled" ? JobState::cancelled
            : state == "node_fail" ? JobState::node_fail
            : state == "boot_fail" ? JobState::boot_fail
                                   : JobState::failed;
  if (j.contains("exit") && j["exit"].is_number_integer()) r.exit_code = j["exit"].get<int>();
  r.reason = j.value("reason", "");
  r.started = j.value("started", "");
  r.ended = j.value("ended", "");
  r.cpu_seconds = j.value("cpu_seconds", 0.0);
  return r;
}

Expected<void> write_exit(const std::string& path, std::string_view state, std::optional<int> exit_code,
                          const std::string& reason, const std::string& started, double cpu_seconds) {
  json j = {{"state", state},
            {"reason", reason},
            {"started", started},
            {"ended", util::iso8601(std::chrono::system_clock::now())},
            {"cpu_seconds", cpu_seconds}};
  j["exit"] = exit_code ? json(*exit_code) : json(nullptr);
  return util::write_atomically(path, j.dump() + "\n");
}

// What job.json says.
struct JobRecord {
  std::string key;
  std::string campaign;
  std::string stage;
  int attempt = 1;
  std::string dir;                         // the campaign dir: the tasks' cwd
  std::string run;                         // the script, relative to dir
  std::vector<std::string> tasks;          // "" for a single job
  std::map<std::string, std::string> env;  // the stage's `env:`
  int parallel = 1;
  std::optional<std::int64_t> time_seconds;
  int kill_grace_seconds = 10;
  std::string created;
};

json to_json(const JobRecord& r) {
  return {{"key", r.key},
          {"campaign", r.campaign},
          {"stage", r.stage},
          {"attempt", r.attempt},
          {"dir", r.dir},
          {"run", r.run},
          {"tasks", r.tasks},
          {"env", r.env},
          {"parallel", r.parallel},
          {"time_seconds", r.time_seconds ? json(*r.time_seconds) : json(nullptr)},
          {"kill_grace_seconds", r.kill_grace_seconds},
          {"created", r.created}};
}

std::optional<JobRecord> read_job(const std::string& run_dir) {
  auto text = util::read_file(run_dir + "/job.json");
  if (!text) return std::nullopt;
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  JobRecord r;
  try {
    r.key = j.at("key").get<std::string>();
    r.campaign = j.value("campaign", "");
    r.stage = j.value("stage", "");
    r.attempt = j.value("attempt", 1);
    r.dir = j.at("dir").get<std::string>();
    r.run = j.at("run").get<std::string>();
    r.tasks = j.at("tasks").get<std::vector<std::string>>();
    if (j.contains("env")) r.env = j.at("env").get<std::map<std::string, std::string>>();
    r.parallel = std::max(1, j.value("parallel", 1));
    if (j.contains("time_seconds") && j["time_seconds"].is_number_integer())
      r.time_seconds = j["time_seconds"].get<std::int64_t>();
    r.kill_grace_seconds = j.value("kill_grace_seconds", 10);
    r.created = j.value("created", "");
  } catch (const json::exception&) {
    return std::nullopt;
  }
  if (r.tasks.empty()) return std::nullopt;
  return r;
}

// ---- the supervisor (runs in the detached grandchild) -------------------------------

struct Running {
  std::string task;
  pid_t pid = 0;
  std::string started;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point kill_at = std::chrono::steady_clock::time_point::max();
  bool timed_out = false;
  bool cancelled = false;
};

void append_note(const std::string& log, const std::string& text) {
  const int fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return;
  const std::string line = "cairn local: " + text + "\n";
  (void)!::write(fd, line.data(), line.size());
  ::close(fd);
}

pid_t start_task(const JobRecord& job, const std::string& run_dir, const std::string& task) {
  const std::string log = task_file(run_dir, task, ".log");
  const std::string script = job.dir + "/" + job.run;
  // The task's environment: the tick's without its credentials, the stage's `env:`, and
  // cairn's own variables; built before fork, handed to exec.
  std::vector<std::string> extra;
  for (const auto& [k, v] : job.env) extra.push_back(k + "=" + v);
  extra.push_back("CAIRN_CAMPAIGN=" + job.campaign);
  extra.push_back("CAIRN_STAGE=" + job.stage);
  extra.push_back("CAIRN_ATTEMPT=" + std::to_string(job.attempt));
  extra.push_back("CAIRN_OUTPUT_DIR=" + run_dir);
  extra.push_back("CAIRN_JOB_ID=" + job.key);
  if (!task.empty()) {
    extra.push_back("CAIRN_ARRAY_TASK_ID=" + task);
    extra.push_back("SLURM_ARRAY_TASK_ID=" + task);  // so Slurm-ready scripts run unchanged
  }
  std::vector<std::string> env = util::workload_environment(extra);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const bool executable = ::access(script.c_str(), X_OK) == 0;
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::setpgid(0, 0);
  const int fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0666);
  if (fd >= 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::close(fd);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGPIPE, SIG_DFL);
  if (::chdir(job.dir.c_str()) != 0) {
    std::fprintf(stderr, "cairn local: cannot enter %s: %s\n", job.dir.c_str(), std::strerror(errno));
    ::_exit(127);
  }
  if (::access(script.c_str(), F_OK) != 0) {
    std::fprintf(stderr, "cairn local: cannot run %s: %s\n", script.c_str(), std::strerror(errno));
    ::_exit(127);
  }
  if (executable) {
    char* argv[] = {const_cast<char*>(script.c_str()), nullptr};
    ::execve(script.c_str(), argv, envp.data());
  } else {
    char* argv[] = {const_cast<char*>("sh"), const_cast<char*>(script.c_str()), nullptr};
    ::execve("/bin/sh", argv, envp.data());
  }
  std::fprintf(stderr, "cairn local: cannot run %s: %s\n", script.c_str(), std::strerror(errno));
  ::_exit(127);
}

void supervise(const JobRecord& job, const std::string& run_dir) {
  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGCHLD);
  sigaddset(&wanted, SIGTERM);
  sigaddset(&wanted, SIGINT);
  sigaddset(&wanted, SIGHUP);
  ::sigprocmask(SIG_BLOCK, &wanted, nullptr);
  const auto grace = std::chrono::seconds(job.kill_grace_seconds);
  std::deque<std::string> queue(job.tasks.begin(), job.tasks.end());
  // A restarted job (adopted after a crash) skips tasks that already have a record.
  std::erase_if(queue, [&](const std::string& t) { return fs::exists(task_file(run_dir, t, ".exit")); });
  std::vector<Running> running;
  bool cancelling = fs::exists(run_dir + "/cancel");
  auto kill_group = [](Running& r, int sig) { ::kill(-r.pid, sig); };
  while (!queue.empty() || !running.empty()) {
    if (cancelling) {
      for (const auto& t : queue) {
        (void)write_exit(task_file(run_dir, t, ".exit"), "cancelled", std::nullopt,
                         "cancelled before it started", "", 0);
      }
      queue.clear();
    }
    while (!queue.empty() && static_cast<int>(running.size()) < job.parallel) {
      Running r;
      r.task = queue.front();
      queue.pop_front();
      r.started = util::iso8601(std::chrono::system_clock::now());
      r.pid = start_task(job, run_dir, r.task);
      if (r.pid < 0) {
        (void)write_exit(task_file(run_dir, r.task, ".exit"), "failed", 127,
                         std::string("cannot fork: ") + std::strerror(errno), r.started, 0);
        continue;
      }
      if (job.time_seconds)
        r.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(*job.time_seconds);
      running.push_back(r);
    }
    if (running.empty()) continue;
    const auto now = std::chrono::steady_clock::now();
    auto next = now + std::chrono::seconds(1);
    for (const auto& r : running) next = std::min({next, r.deadline, r.kill_at});
    const auto wait = std::max(std::chrono::nanoseconds(0), next - now);
    timespec ts{static_cast<time_t>(wait.count() / 1000000000), static_cast<long>(wait.count() % 1000000000)};
    const int sig = ::sigtimedwait(&wanted, nullptr, &ts);
    if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
      cancelling = true;
      for (auto& r : running) {
        if (r.cancelled || r.timed_out) continue;
        r.cancelled = true;
        append_note(task_file(run_dir, r.task, ".log"), "task cancelled; sending SIGTERM");
        kill_group(r, SIGTERM);
        r.kill_at = std::chrono::steady_clock::now() + grace;
      }
    }
    // Reap whatever ended, whichever signal woke us.
    int st = 0;
    rusage ru{};
    pid_t pid;
    while ((pid = ::wait4(-1, &st, WNOHANG, &ru)) > 0) {
      auto it = std::find_if(running.begin(), running.end(), [&](const Running& r) { return r.pid == pid; });
      if (it == running.end()) continue;
      // Whatever the task left running in its group ends with it, as under Slurm.
      ::kill(-pid, SIGKILL);
      const int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
      std::string state = code == 0 ? "completed" : "failed";
      std::string reason = WIFSIGNALED(st) ? fmt::format("killed by signal {}", WTERMSIG(st)) : "";
      if (it->timed_out) {
        state = "timeout";
        reason = fmt::format("DUE TO TIME LIMIT ({} s)", job.time_seconds.value_or(0));
      } else if (it->cancelled) {
        state = "cancelled";
        reason = "cancelled";
      }
      (void)write_exit(task_file(run_dir, it->task, ".exit"), state, code, reason, it->started, cpu);
      running.erase(it);
    }
    const auto after = std::chrono::steady_clock::now();
    for (auto& r : running) {
      if (after >= r.kill_at) {
        kill_group(r, SIGKILL);
        r.kill_at = std::chrono::steady_clock::time_point::max();
      } else if (after >= r.deadline && !r.timed_out && !r.cancelled) {
        r.timed_out = true;
        append_note(task_file(run_dir, r.task, ".log"),
                    fmt::format("task {} exceeded its wall-clock limit of {} s: TIMEOUT, DUE TO TIME LIMIT; "
                                "sending SIGTERM",
                                r.task.empty() ? "0" : r.task, job.time_seconds.value_or(0)));
        kill_group(r, SIGTERM);
        r.kill_at = after + grace;
        r.deadline = std::chrono::steady_clock::time_point::max();
      }
    }
  }
}

// Double fork: the grandchild is re-parented to init (or the nearest subreaper), in a
// session of its own, with no terminal and none of the tick's file descriptors.
Expected<void> spawn_supervisor(const JobRecord& job, const std::string& run_dir, int claim_fd) {
  const std::string log = run_dir + "/supervisor.log";
  const pid_t middle = ::fork();
  if (middle < 0) return os_failure("fork");
  if (middle == 0) {
    ::setsid();
    const pid_t grandchild = ::fork();
    if (grandchild != 0) ::_exit(grandchild < 0 ? 1 : 0);
    const pid_t self = ::getpid();
    const std::string line = fmt::format("{} {} {}\n", self, process_start(self).value_or(0),
                                         util::iso8601(std::chrono::system_clock::now()));
    (void)!::write(claim_fd, line.data(), line.size());
    ::close(claim_fd);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0666);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    if (log_fd >= 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
    }
    // The tick's descriptors (pack files, sockets, pipes a CI runner waits on) must
    // not be held open for hours by the supervisor.
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    ::umask(022);
    // It lives next to the jobs for hours: none of the tick's credentials stay in it.
    util::scrub_own_environment();
    supervise(job, run_dir);
    ::_exit(0);
  }
  ::close(claim_fd);
  int st = 0;
  while (::waitpid(middle, &st, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return fail("local backend: cannot start the supervisor", ExitCode::unreachable);
  return {};
}

// Tasks of an array text like "1-20%5": the indices, and the %N limit (0 = none).
Expected<std::pair<std::vector<std::string>, int>> array_tasks(const std::string& array) {
  if (array.empty()) return std::pair<std::vector<std::string>, int>{{""}, 1};
  std::string spec = array;
  int limit = 0;
  if (auto pct = spec.find('%'); pct != std::string::npos) {
    limit = std::atoi(spec.c_str() + pct + 1);
    spec.resize(pct);
  }
  auto indices = parse::expand_array(spec);
  if (!indices) return fail("array `" + array + "`: " + indices.error().message, ExitCode::usage);
  std::vector<std::string> tasks;
  for (int i : *indices) tasks.push_back(std::to_string(i));
  if (tasks.empty()) return fail("array `" + array + "` has no tasks", ExitCode::usage);
  return std::pair{tasks, limit};
}

}  // namespace

std::string default_state_dir() {
  if (const char* s = std::getenv("CAIRN_STATE_DIR"); s != nullptr && *s != '\0') return s;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x != nullptr && *x == '/')
    return std::string(x) + "/cairn";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0')
    return std::string(h) + "/.local/state/cairn";
  return "/tmp/cairn-state-" + std::to_string(::getuid());
}

LocalScheduler::LocalScheduler(std::string state_dir, std::string qualifier, LocalOptions options)
    : m_jobs_dir(std::move(state_dir) + "/jobs/" + hash_hex(qualifier)),
      m_qualifier(std::move(qualifier)),
      m_options(options) {
  if (const char* g = std::getenv("CAIRN_LOCAL_KILL_GRACE"); g != nullptr && *g != '\0') {
    m_options.kill_grace = std::chrono::seconds(std::max(0, std::atoi(g)));
  }
}

std::string LocalScheduler::run_dir(const std::string& job_id) const {
  return m_jobs_dir + "/" + job_id;
}

Expected<std::optional<std::map<std::string, int>>> LocalScheduler::queued_by_name(
    const std::string& prefix) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (fs::directory_iterator it(m_jobs_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) == 0 && fs::exists(it->path() / "job.json")) ids.push_back(name);
  }
  std::map<std::string, int> out;
  auto jobs = status(ids);
  if (!jobs) return std::optional<std::map<std::string, int>>(out);
  for (const auto& [id, job] : *jobs) {
    if (job.state == engine::JobState::pending) ++out[id];
  }
  return std::optional<std::map<std::string, int>>(out);
}

Expected<std::optional<std::string>> LocalScheduler::find(const engine::JobKey& key) {
  const std::string id = key.str();
  if (!safe_job_id(id)) return std::optional<std::string>{};
  if (fs::exists(run_dir(id) + "/job.json")) return std::optional<std::string>{id};
  return std::optional<std::string>{};
}

Expected<std::string> LocalScheduler::submit(const engine::SubmitRequest& request) {
  const std::string id = request.key.str();
  if (!safe_job_id(id))
    return fail("local backend: job key `" + id + "` is not a safe file name", ExitCode::usage);
  const std::string dir = run_dir(id);
  std::error_code ec;
  fs::create_directories(m_jobs_dir, ec);
  if (ec)
    return fail("local backend: cannot create " + m_jobs_dir + ": " + ec.message(), ExitCode::unreachable);
  if (!fs::exists(m_jobs_dir + "/QUALIFIER"))
    CAIRN_TRY(util::write_atomically(m_jobs_dir + "/QUALIFIER", m_qualifier + "\n"));

  if (!fs::exists(dir + "/job.json")) {
    const std::string& array = request.array.empty() ? request.spec.array : request.array;
    auto [tasks, limit] = CAIRN_TRY(array_tasks(array));
    JobRecord job;
    job.key = id;
    job.campaign = request.key.campaign;
    job.stage = request.key.stage;
    job.attempt = request.key.attempt;
    job.dir = request.campaign_dir;
    job.run = request.spec.run;
    job.tasks = std::move(tasks);
    job.env = request.spec.env;
    const int cpus = m_options.max_parallel > 0
                         ? m_options.max_parallel
                         : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    job.parallel = limit > 0 ? limit : cpus;
    job.time_seconds = request.spec.resources.time_seconds;
    job.kill_grace_seconds = static_cast<int>(m_options.kill_grace.count());
    job.created = util::iso8601(std::chrono::system_clock::now());
    // Build the run directory aside and rename it into place: a reader (or a racing
    // tick) sees either no job or a whole one.
    const std::string tmp = fmt::format("{}/.{}.{}", m_jobs_dir, id, ::getpid());
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp, ec);
    if (ec) return fail("local backend: cannot create " + tmp + ": " + ec.message(), ExitCode::unreachable);
    CAIRN_TRY(util::write_atomically(tmp + "/job.json", to_json(job).dump(2) + "\n"));
    if (::rename(tmp.c_str(), dir.c_str()) != 0) {
      const int err = errno;
      fs::remove_all(tmp, ec);
      // Someone else created it first: adopt theirs.
      if (err != EEXIST && err != ENOTEMPTY) {
        errno = err;
        return os_failure("create " + dir);
      }
    }
  }
  auto job = read_job(dir);
  if (!job) return fail("local backend: " + dir + "/job.json is unreadable", ExitCode::unreachable);
  // Exactly one supervisor per job: whoever creates the claim file starts it.
  const int claim = ::open((dir + "/supervisor").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (claim < 0) {
    if (errno == EEXIST) return id;  // already started (adopted after a crash, or a twin tick)
    return os_failure("claim " + dir + "/supervisor");
  }
  CAIRN_TRY(spawn_supervisor(*job, dir, claim));
  return id;
}

Expected<std::map<std::string, JobStatus>> LocalScheduler::status(const std::vector<std::string>& job_ids) {
  std::map<std::string, JobStatus> out;
  for (const auto& id : job_ids) {
    if (!safe_job_id(id)) continue;
    const std::string dir = run_dir(id);
    auto job = read_job(dir);
    if (!job) continue;
    JobStatus js;
    js.job_id = id;
    js.work_dir = job->dir;  // the campaign dir of the clone that submitted it: the tasks' cwd
    const Supervisor sup = read_supervisor(dir);
    std::optional<bool> alive;  // asked lazily: most polls find every task recorded
    double cpu_seconds = 0;
    std::string ended;
    for (const auto& t : job->tasks) {
      TaskStatus ts;
      ts.index = t;
      auto rec = read_exit(task_file(dir, t, ".exit"));
      if (!rec) {
        if (!alive) alive = sup.alive();
        // The supervisor may have written the record just before it exited.
        if (!*alive) rec = read_exit(task_file(dir, t, ".exit"));
      }
      if (rec) {
        ts.state = rec->state;
        ts.exit_code = rec->exit_code;
        ts.reason = rec->reason;
        cpu_seconds += rec->cpu_seconds;
        ended = std::max(ended, rec->ended);
      } else if (*alive) {
        ts.state = fs::exists(task_file(dir, t, ".log")) ? JobState::running : JobState::pending;
      } else if (!sup.claimed || sup.pid == 0) {
        const bool stale = sup.claimed_at && fs::file_time_type::clock::now() - *sup.claimed_at > kStartGrace;
        ts.state = stale ? JobState::boot_fail : JobState::pending;
        ts.reason =
            stale ? "the local supervisor never started (the tick died while starting it)" : "starting";
        if (!sup.claimed) {
          ts.state = JobState::pending;
          ts.reason = "not started yet: the next submit of this key starts it";
        }
      } else {
        ts.state = JobState::node_fail;
        ts.reason = fmt::format(
            "the local supervisor (pid {}) is gone: the machine restarted or it was killed", sup.pid);
      }
      js.tasks.push_back(std::move(ts));
    }
    if (job->tasks.size() == 1 && job->tasks.front().empty()) {
      const TaskStatus only = js.tasks.front();
      js.tasks.clear();
      js.state = only.state;
      js.exit_code = only.exit_code;
      js.reason = only.reason;
    } else {
      engine::summarize_tasks(js);
    }
    js.cpu_hours = cpu_seconds / 3600.0;
    js.submitted = util::parse_time(job->created);
    if (auto t = util::parse_time(sup.started.empty() ? job->created : sup.started)) js.started = *t;
    if (engine::is_final(js.state)) {
      if (auto t = util::parse_time(ended)) js.ended = *t;
    }
    out.emplace(id, std::move(js));
  }
  return out;
}

Expected<std::string> LocalScheduler::log_tail(const std::string& job_id, int lines) {
  const std::string dir = run_dir(job_id);
  auto job = safe_job_id(job_id) ? read_job(dir) : std::nullopt;
  if (!job) return fail("local backend: no job " + job_id, ExitCode::findings);
  std::string out;
  const bool array = !(job->tasks.size() == 1 && job->tasks.front().empty());
  for (const auto& t : job->tasks) {
    // A task that has not started has no log yet: nothing to show, not an error.
    auto text = util::read_log_tail(task_file(dir, t, ".log"), lines, util::kLogTailBytes);
    if (array) out += "==> task " + t + " <==\n";
    if (text) out += *text;
    if (!out.empty() && out.back() != '\n') out += '\n';
  }
  return out;
}

Expected<void> LocalScheduler::cancel(const std::string& job_id) {
  const std::string dir = run_dir(job_id);
  auto job = safe_job_id(job_id) ? read_job(dir) : std::nullopt;
  if (!job) return fail("local backend: no job " + job_id, ExitCode::findings);
  CAIRN_TRY(util::write_atomically(dir + "/cancel", util::iso8601(std::chrono::system_clock::now()) + "\n"));
  const Supervisor sup = read_supervisor(dir);
  if (sup.alive()) {
    ::kill(sup.pid, SIGTERM);
    return {};
  }
  for (const auto& t : job->tasks) {
    const std::string exit = task_file(dir, t, ".exit");
    if (!fs::exists(exit)) CAIRN_TRY(write_exit(exit, "cancelled", std::nullopt, "cancelled", "", 0));
  }
  return {};
}

}  // namespace cairn::sched
