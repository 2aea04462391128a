#include <cairn/sched/slurm.hpp>

#include <glob.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <set>
#include <utility>

#include <cairn/parse/units.hpp>
#include <cairn/sched/tool_error.hpp>
#include <cairn/util/fs.hpp>
#include <cairn/util/strings.hpp>
#include <cairn/util/time.hpp>

namespace cairn::sched {

using engine::JobState;
using engine::JobStatus;
using engine::TaskStatus;

namespace {

using util::join;
using util::to_int;
using util::trim;

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    auto p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  for (auto line : split(text, '\n')) {
    line = trim(line);
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// "1234_5" -> {"1234", "5"}; "1234_[1-3%2]" -> {"1234", "[1-3%2]"}; "1234" -> {"1234", ""}.
// A federation/cluster suffix ("1234;cluster") never reaches here: submit strips it.
std::pair<std::string, std::string> split_job_id(std::string_view id) {
  auto p = id.find('_');
  if (p == std::string_view::npos) {
    auto dot = id.find('.');  // a job step ("1234.batch") belongs to its job
    return {std::string(id.substr(0, dot)), ""};
  }
  return {std::string(id.substr(0, p)), std::string(id.substr(p + 1))};
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// "N:S" -> exit N, or 128 + S when killed by signal S; nullopt for "" or junk.
std::optional<int> exit_from(std::string_view text, std::string* signal_note) {
  auto parts = split(text, ':');
  if (parts.size() != 2) return std::nullopt;
  auto code = to_int(parts[0]);
  auto sig = to_int(parts[1]);
  if (!code || !sig) return std::nullopt;
  if (*code == 0 && *sig != 0) {
    if (signal_note) *signal_note = "signal " + std::to_string(*sig);
    return static_cast<int>(128 + *sig);
  }
  return static_cast<int>(*code);
}

TaskStatus task_from(const SlurmRecord& r, std::string index) {
  TaskStatus t;
  t.index = std::move(index);
  t.state = map_slurm_state(r.state);
  std::string sig;
  t.exit_code = exit_from(r.exit_code, &sig);
  // squeue has no exit code; a job it reports COMPLETED exited 0 by definition.
  if (!t.exit_code && t.state == JobState::completed) t.exit_code = 0;
  t.reason = r.state;
  if (!r.reason.empty() && r.reason != "None") t.reason += " (" + r.reason + ")";
  if (!sig.empty()) t.reason += ", " + sig;
  if (r.state.rfind("DEADLINE", 0) == 0) t.reason += " DEADLINE";
  if (t.state == JobState::running || is_final(t.state)) t.started = parse_slurm_time(r.start);
  return t;
}

// A pending reason (squeue(1) "JOB REASON CODES") that will not clear by itself: a hold,
// a dependency that can never be met, a partition down or closed to the job, a request
// past a per-job limit. Waiting for resources, priority or a begin time is not.
bool blocking_reason(std::string_view reason) {
  static constexpr std::array<std::string_view, 11> kBlocking = {
      "DependencyNeverSatisfied", "PartitionDown", "PartitionInactive",  "BadConstraints",
      "InvalidAccount",           "InvalidQOS",    "PartitionNodeLimit", "PartitionTimeLimit",
      "PartitionConfig",          "QOSNotAllowed", "AccountNotAllowed"};
  reason = trim(reason);
  const auto ends_with = [&](std::string_view tail) {
    return reason.size() >= tail.size() && reason.substr(reason.size() - tail.size()) == tail;
  };
  return reason.rfind("JobHeld", 0) == 0 || ends_with("PerJobLimit") ||
         std::find(kBlocking.begin(), kBlocking.end(), reason) != kBlocking.end();
}

// Pending, and every pending row (task) of it waits on a blocking reason.
bool blocked(const std::vector<const SlurmRecord*>& rows, const JobStatus& js) {
  if (js.state != JobState::pending) return false;
  bool any = false;
  for (const auto* r : rows) {
    if (map_slurm_state(r->state) != JobState::pending) continue;
    if (!blocking_reason(r->reason)) return false;
    any = true;
  }
  return any;
}

// Appends `item` to `list` unless it is there already.
void add_unique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

// A node list as squeue or sacct print it, or "" for a job not placed on any node.
std::string placed_on(const SlurmRecord& r) {
  const std::string& n = r.node_list;
  if (n.empty() || n == "(null)" || n == "None assigned" || n == "n/a") return {};
  return n;
}

// Times, partition and nodes of `js` (state already folded) from its rows. squeue's
// start of a pending job and end of a running one are forecasts, so only a task that
// has run gives a start, and only a final job an end. The nodes of a job that ended
// badly are those of its failed tasks; otherwise all it ran on.
void add_placement(const std::vector<const SlurmRecord*>& rows, JobStatus& js) {
  std::vector<std::string> partitions;
  std::vector<std::string> ran_on;
  std::vector<std::string> failed_on;
  for (const auto* r : rows) {
    const JobState state = map_slurm_state(r->state);
    if (const std::string nodes = placed_on(*r); !nodes.empty()) {
      add_unique(ran_on, nodes);
      const auto exit = exit_from(r->exit_code, nullptr);
      const bool failed = is_final(state) && (state != JobState::completed || exit.value_or(0) != 0);
      if (failed) add_unique(failed_on, nodes);
    }
    if (auto t = parse_slurm_time(r->submit); t && (!js.submitted || *t < *js.submitted)) js.submitted = t;
    if (state == JobState::running || is_final(state)) {
      if (auto t = parse_slurm_time(r->start); t && (!js.started || *t < *js.started)) js.started = t;
    }
    if (is_final(state)) {
      if (auto t = parse_slurm_time(r->end); t && (!js.ended || *t > *js.ended)) js.ended = t;
    }
    if (!r->partition.empty()) add_unique(partitions, r->partition);
    if (js.work_dir.empty()) js.work_dir = r->work_dir;  // every task has the job's --chdir
  }
  if (!is_final(js.state)) js.ended.reset();
  js.pool = join(partitions, ",");
  js.nodes = join(failed_on.empty() ? ran_on : failed_on, ",");
}

// rsync's -e takes one string that rsync splits itself: on spaces, with '...' or "..."
// quoting a word and a doubled quote inside standing for the quote.
std::string rsh_quote(std::string_view word) {
  if (!word.empty() && word.find_first_of(" '\"\t") == std::string_view::npos) return std::string(word);
  std::string out = "'";
  for (char c : word) {
    out += c;
    if (c == '\'') out += c;
  }
  return out + "'";
}

// Where sbatch writes a job's output: the --output pattern given at submit (%x job name,
// %j job id; %A and %a for an array's job id and task index) and, expanded, the file
// tail() reads back. One pattern, so the two cannot drift apart.
std::string output_pattern(const std::string& dir, bool array) {
  return dir + (array ? "/slurm-%x-%A_%a.out" : "/slurm-%x-%j.out");
}

std::string output_file(const std::string& dir, std::string_view name, std::string_view job,
                        std::string_view task) {
  std::string out;
  const std::string pattern = output_pattern(dir, !task.empty());
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%' || i + 1 == pattern.size()) {
      out += pattern[i];
      continue;
    }
    switch (pattern[++i]) {
      case 'x': out += name; break;
      case 'j':
      case 'A': out += job; break;
      case 'a': out += task; break;
      default: out += '%', out += pattern[i];
    }
  }
  return out;
}

}  // namespace

std::optional<engine::TimePoint> parse_slurm_time(std::string_view text) {
  auto secs = to_int(text);
  if (!secs || *secs <= 0) return std::nullopt;
  return util::time_from_unix(*secs);
}

JobState map_slurm_state(std::string_view state) {
  state = trim(state);
  // "CANCELLED by 123", "RUNNING+" (sacct marks requeued/resized jobs)
  state = state.substr(0, state.find_first_of(" +"));
  static const std::map<std::string_view, JobState> kStates = {
      {"PENDING", JobState::pending},
      {"PD", JobState::pending},
      {"CONFIGURING", JobState::pending},
      {"CF", JobState::pending},
      {"REQUEUED", JobState::pending},
      {"RQ", JobState::pending},
      {"REQUEUE_FED", JobState::pending},
      {"REQUEUE_HOLD", JobState::pending},
      {"RESV_DEL_HOLD", JobState::pending},
      {"REVOKED", JobState::cancelled},
      {"RUNNING", JobState::running},
      {"R", JobState::running},
      {"COMPLETING", JobState::running},
      {"CG", JobState::running},
      {"SUSPENDED", JobState::running},
      {"S", JobState::running},
      {"STOPPED", JobState::running},
      {"ST", JobState::running},
      {"SIGNALING", JobState::running},
      {"STAGE_OUT", JobState::running},
      {"RESIZING", JobState::running},
      {"COMPLETED", JobState::completed},
      {"CD", JobState::completed},
      {"FAILED", JobState::failed},
      {"F", JobState::failed},
      {"SPECIAL_EXIT", JobState::failed},
      {"SE", JobState::failed},
      {"CANCELLED", JobState::cancelled},
      {"CA", JobState::cancelled},
      {"TIMEOUT", JobState::timeout},
      {"TO", JobState::timeout},
      {"DEADLINE", JobState::timeout},
      {"DL", JobState::timeout},
      {"OUT_OF_MEMORY", JobState::out_of_memory},
      {"OOM", JobState::out_of_memory},
      {"NODE_FAIL", JobState::node_fail},
      {"NF", JobState::node_fail},
      {"PREEMPTED", JobState::preempted},
      {"PR", JobState::preempted},
      {"BOOT_FAIL", JobState::boot_fail},
      {"BF", JobState::boot_fail},
  };
  auto it = kStates.find(state);
  return it == kStates.end() ? JobState::unknown : it->second;
}

std::vector<SlurmRecord> parse_squeue(std::string_view text) {
  std::vector<SlurmRecord> out;
  for (auto line : lines_of(text)) {
    auto f = split(line, '|');
    if (f.size() < 3 || trim(f[0]).empty()) continue;
    SlurmRecord r;
    r.job_id = std::string(trim(f[0]));
    r.state = std::string(trim(f[1]));
    r.reason = std::string(trim(f[2]));
    if (f.size() >= 7) {
      r.submit = std::string(trim(f[3]));
      r.start = std::string(trim(f[4]));
      r.end = std::string(trim(f[5]));
      r.partition = std::string(trim(f[6]));
    }
    if (f.size() >= 8) r.node_list = std::string(trim(f[7]));
    if (f.size() >= 9) r.name = std::string(trim(f[8]));
    if (f.size() >= 10) {
      // The rest is %Z (the working directory), whatever it holds.
      const auto at = static_cast<std::size_t>(f[9].data() - line.data());
      r.work_dir = std::string(line.substr(at));
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::map<std::string, int> count_queued(const std::vector<SlurmRecord>& rows, std::string_view prefix) {
  std::map<std::string, std::set<std::string>> jobs;
  for (const auto& r : rows) {
    if (map_slurm_state(r.state) != JobState::pending || r.name.rfind(prefix, 0) != 0) continue;
    jobs[r.name].insert(split_job_id(r.job_id).first);
  }
  std::map<std::string, int> out;
  for (const auto& [name, ids] : jobs) out[name] = static_cast<int>(ids.size());
  return out;
}

std::vector<SlurmRecord> parse_sacct(std::string_view text) {
  std::vector<SlurmRecord> out;
  for (auto line : lines_of(text)) {
    auto f = split(line, '|');
    if (f.size() < 13 || trim(f[0]).empty() || f[0] == "JobID") continue;
    SlurmRecord r;
    r.job_id = std::string(f[0]);
    r.name = std::string(f[1]);
    r.state = std::string(f[2]);
    r.exit_code = std::string(f[3]);
    r.reason = std::string(f[4]);
    r.elapsed = std::string(f[5]);
    r.alloc_cpus = static_cast<int>(to_int(f[6]).value_or(0));
    r.node_list = std::string(f[7]);
    r.submit = std::string(f[8]);
    r.start = std::string(f[9]);
    r.end = std::string(f[10]);
    r.partition = std::string(f[11]);
    // The rest is WorkDir, whatever it holds.
    const auto at = static_cast<std::size_t>(f[12].data() - line.data());
    r.work_dir = std::string(line.substr(at));
    out.push_back(std::move(r));
  }
  return out;
}

std::map<std::string, JobStatus> aggregate(const std::vector<SlurmRecord>& records,
                                           const std::vector<std::string>& job_ids) {
  std::map<std::string, JobStatus> out;
  const std::set<std::string> wanted(job_ids.begin(), job_ids.end());
  std::map<std::string, std::vector<const SlurmRecord*>> by_job;
  for (const auto& r : records) {
    auto [base, task] = split_job_id(r.job_id);
    if (wanted.count(base)) by_job[base].push_back(&r);
  }
  for (const auto& [id, rows] : by_job) {
    JobStatus js;
    js.job_id = id;
    double cpu_hours = 0;
    bool have_cpu = false;
    for (const auto* r : rows) {
      if (auto secs = parse::parse_walltime(r->elapsed); secs && r->alloc_cpus > 0) {
        cpu_hours += static_cast<double>(*secs) / 3600.0 * r->alloc_cpus;
        have_cpu = true;
      }
    }
    if (have_cpu) js.cpu_hours = cpu_hours;
    const bool array = std::any_of(rows.begin(), rows.end(), [](const SlurmRecord* r) {
      return !split_job_id(r->job_id).second.empty();
    });
    if (!array) {
      const TaskStatus t = task_from(*rows.back(), "");
      js.state = t.state;
      js.exit_code = t.exit_code;
      js.reason = t.reason;
      add_placement({rows.back()}, js);
      js.blocked = blocked({rows.back()}, js);
      out[id] = std::move(js);
      continue;
    }
    std::vector<const SlurmRecord*> task_rows;
    for (const auto* r : rows) {
      auto [base, index] = split_job_id(r->job_id);
      if (index.empty()) continue;  // the array's own summary row, if a tool prints one
      js.tasks.push_back(task_from(*r, index));
      task_rows.push_back(r);
    }
    summarize_tasks(js);
    add_placement(task_rows, js);
    js.blocked = blocked(task_rows, js);
    out[id] = std::move(js);
  }
  return out;
}

std::vector<PartitionInfo> parse_sinfo(std::string_view text) {
  std::vector<PartitionInfo> out;
  for (auto line : lines_of(text)) {
    auto f = split(line, '|');
    if (f.size() != 6) continue;
    std::string name(trim(f[0]));
    if (!name.empty() && name.back() == '*') name.pop_back();
    if (name.empty()) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const PartitionInfo& p) { return p.name == name; });
    if (it == out.end()) {
      PartitionInfo p;
      p.name = name;
      p.up = trim(f[1]) == "up";
      p.time_limit_text = std::string(trim(f[2]));
      // Slurm's durations are the forms `resources: {time:}` takes ("infinite" is none).
      if (auto limit = parse::parse_walltime(f[2])) p.time_limit_seconds = *limit;
      out.push_back(std::move(p));
      it = out.end() - 1;
    }
    // GRES: "gpu:2", "gpu:a100:4(S:0-1)", "gpu:a100:2,gpu:v100:1", "(null)"
    int gpus = 0;
    for (auto g : split(trim(f[3]), ',')) {
      g = g.substr(0, g.find('('));
      auto parts = split(g, ':');
      if (parts.size() >= 2 && parts[0] == "gpu") gpus += static_cast<int>(to_int(parts.back()).value_or(0));
    }
    it->gpus_per_node = std::max(it->gpus_per_node, gpus);
    const int n = static_cast<int>(to_int(f[4]).value_or(0));
    std::string st(trim(f[5]));
    // sinfo appends flags to the state: '*' not responding, '~' powered off, '#', '!', '%', '$', '@', '^',
    // '-'
    while (!st.empty() && std::string_view("*~#!%$@^-").find(st.back()) != std::string_view::npos)
      st.pop_back();
    it->nodes += n;
    if (st == "idle") it->idle_nodes += n;
    static const std::set<std::string, std::less<>> kUnusable = {
        "down",  "drain", "drained", "draining", "drng", "fail",         "failing",
        "maint", "unk",   "unknown", "inval",    "boot", "powered_down", "npc"};
    if (!kUnusable.count(st) && !st.empty()) it->usable_nodes += n;
  }
  return out;
}

Expected<PartitionChoice> choose_partition(const std::vector<PartitionInfo>& partitions,
                                           const doc::Resources& resources) {
  const int gpus = resources.gpus.value_or(0);
  std::vector<const PartitionInfo*> fit;
  std::vector<std::string> rejected;
  for (const auto& p : partitions) {
    std::string why;
    if (!p.up) {
      why = "not up";
    } else if (p.usable_nodes == 0) {
      why = "no usable nodes";
    } else if (resources.time_seconds && p.time_limit_seconds &&
               *p.time_limit_seconds < *resources.time_seconds) {
      why = "limit " + p.time_limit_text + " < " + parse::format_walltime(*resources.time_seconds);
    } else if (p.gpus_per_node < gpus) {
      why = std::to_string(p.gpus_per_node) + " GPU(s) per node < " + std::to_string(gpus);
    }
    if (why.empty()) {
      fit.push_back(&p);
    } else {
      rejected.push_back(p.name + " (" + why + ")");
    }
  }
  if (fit.empty()) {
    return fail("no Slurm partition fits the request" +
                (rejected.empty() ? std::string(": sinfo listed none") : ": " + join(rejected, ", ")));
  }
  auto limit = [](const PartitionInfo* p) { return p->time_limit_seconds.value_or(INT64_MAX); };
  std::stable_sort(fit.begin(), fit.end(), [&](const PartitionInfo* a, const PartitionInfo* b) {
    if ((a->idle_nodes > 0) != (b->idle_nodes > 0)) return a->idle_nodes > 0;
    if (limit(a) != limit(b)) return limit(a) < limit(b);
    return a->gpus_per_node < b->gpus_per_node;
  });
  const PartitionInfo& best = *fit.front();
  std::string reason = "partition " + best.name + ": up, limit " + best.time_limit_text;
  if (resources.time_seconds) reason += " >= " + parse::format_walltime(*resources.time_seconds);
  reason += ", " + std::to_string(best.idle_nodes) + "/" + std::to_string(best.nodes) + " node(s) idle";
  if (gpus > 0) reason += ", " + std::to_string(best.gpus_per_node) + " GPU(s) per node";
  std::vector<std::string> others;
  for (std::size_t i = 1; i < fit.size(); ++i) others.push_back(fit[i]->name);
  others.insert(others.end(), rejected.begin(), rejected.end());
  if (!others.empty()) reason += "; also considered " + join(others, ", ");
  return PartitionChoice{best.name, reason};
}

SlurmConfig slurm_config_from(const BackendSettings& settings) {
  SlurmConfig c;
  const std::pair<const char*, std::string*> fields[] = {{"partition", &c.partition},
                                                         {"ssh_host", &c.ssh_host},
                                                         {"output_dir", &c.output_dir},
                                                         {"ssh_control_path", &c.ssh_control_path},
                                                         {"ssh_config", &c.ssh_config}};
  for (const auto& [key, into] : fields) {
    if (auto it = settings.find(key); it != settings.end()) *into = it->second;
  }
  return c;
}

// ---------------------------------------------------------------------------------------

SlurmScheduler::SlurmScheduler(std::unique_ptr<CommandRunner> runner, SlurmConfig config)
    : m_runner(std::move(runner)), m_local(m_runner.get()), m_config(std::move(config)) {
  if (!m_config.ssh_host.empty()) {
    SshOptions o;
    o.host = m_config.ssh_host;
    o.control_path = m_config.ssh_control_path.empty() ? "/tmp/cairn-ssh-%C" : m_config.ssh_control_path;
    o.config_file = m_config.ssh_config;
    m_ssh = o;
    m_runner = std::make_unique<SshRunner>(std::move(m_runner), std::move(o));
    m_workspace = std::make_unique<RemoteWorkspace>(*m_runner, m_config.ssh_host, m_config.timeout);
  }
}

Expected<CommandResult> SlurmScheduler::call(const std::vector<std::string>& argv) {
  return m_runner->run(argv, "", m_config.timeout);
}

std::string SlurmScheduler::output_dir_for(const std::string& work_dir) const {
  if (m_config.output_dir.empty()) return work_dir + "/.cairn";
  if (m_config.output_dir.front() == '/') return m_config.output_dir;
  return work_dir + "/" + m_config.output_dir;
}

const std::string& SlurmScheduler::work_dir(const engine::SubmitRequest& request) {
  return request.remote_dir.empty() ? request.campaign_dir : request.remote_dir;
}

Expected<std::string> SlurmScheduler::login_user() {
  if (!m_user.empty()) return m_user;
  auto r = CAIRN_TRY(call({"id", "-un"}));
  const auto ls = lines_of(r.out);
  if (r.exit != 0 || ls.size() != 1 || ls.front().find_first_of(" \t,") != std::string_view::npos) {
    return fail("cannot tell which user runs the Slurm commands: `id -un` said " + tool_error_text(r),
                ExitCode::unreachable);
  }
  m_user = std::string(ls.front());
  return m_user;
}

engine::Workspace* SlurmScheduler::workspace() {
  return m_workspace.get();
}

Expected<std::optional<std::string>> SlurmScheduler::find(const engine::JobKey& key) {
  const std::string name = key.str();
  // All states: a job that just ended is still the controller's for MinJobAge, while
  // slurmdbd may not have its name yet. Only this user's (the one ssh logs in as):
  // another user's job under the same name is not ours to adopt.
  auto q =
      CAIRN_TRY(call({m_config.squeue, "--noheader", "--me", "--states=all", "--name=" + name, "-o", "%i"}));
  if (q.exit != 0) return classify_tool_error("squeue", q);
  auto ids = lines_of(q.out);
  if (!ids.empty()) return std::optional<std::string>(split_job_id(ids.back()).first);

  // sacct has no --me, and as root it lists every user's jobs: name the user.
  const std::string user = CAIRN_TRY(login_user());
  auto a = CAIRN_TRY(call({m_config.sacct, "--noheader", "-X", "--parsable2", "--user=" + user,
                           "--name=" + name, "-S", m_config.sacct_window, "-o", "JobID,State"}));
  if (a.exit != 0) {
    // Without accounting there is nothing more to ask: the job is not queued.
    if (contains(a.err, "accounting storage is disabled")) return std::optional<std::string>();
    return fail(classify_tool_error("sacct", a).message, ExitCode::unreachable);
  }
  std::optional<std::string> found;
  for (auto line : lines_of(a.out)) {
    auto id = split_job_id(split(line, '|')[0]).first;
    if (!id.empty()) found = id;  // sacct lists by submit time: keep the newest
  }
  return found;
}

Expected<std::map<std::string, std::string>> SlurmScheduler::find_all(
    const std::vector<engine::JobKey>& keys) {
  std::map<std::string, std::string> out;
  // squeue and sacct split --name on commas: a key holding one is asked on its own.
  std::vector<std::string> names;
  for (const auto& key : keys) {
    const std::string name = key.str();
    if (name.find(',') != std::string::npos) {
      if (auto id = CAIRN_TRY(find(key))) out[name] = *id;
    } else if (std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
    }
  }
  if (names.empty()) return out;
  // "id|name" rows; a name may hold '|', an id never does. The last row of a name wins,
  // as in find().
  auto take = [&](std::string_view text) {
    for (auto line : lines_of(text)) {
      const auto bar = line.find('|');
      if (bar == std::string_view::npos) continue;
      const std::string name(line.substr(bar + 1));
      const std::string id = split_job_id(line.substr(0, bar)).first;
      if (!id.empty() && std::find(names.begin(), names.end(), name) != names.end()) out[name] = id;
    }
  };
  auto q = CAIRN_TRY(call(
      {m_config.squeue, "--noheader", "--me", "--states=all", "--name=" + join(names, ","), "-o", "%i|%j"}));
  if (q.exit != 0) return classify_tool_error("squeue", q);
  take(q.out);
  std::vector<std::string> missing;
  for (const auto& n : names) {
    if (!out.count(n)) missing.push_back(n);
  }
  if (missing.empty()) return out;
  const std::string user = CAIRN_TRY(login_user());
  auto a =
      CAIRN_TRY(call({m_config.sacct, "--noheader", "-X", "--parsable2", "--user=" + user,
                      "--name=" + join(missing, ","), "-S", m_config.sacct_window, "-o", "JobID,JobName"}));
  if (a.exit != 0) {
    if (contains(a.err, "accounting storage is disabled")) return out;
    return fail(classify_tool_error("sacct", a).message, ExitCode::unreachable);
  }
  take(a.out);
  return out;
}

Expected<std::string> SlurmScheduler::pick_partition(const doc::Resources& resources) {
  if (!resources.partition.empty()) return resources.partition;
  if (!m_config.partition.empty()) return m_config.partition;
  if (!m_partitions) {
    auto r = CAIRN_TRY(call({m_config.sinfo, "--noheader", "-o", "%P|%a|%l|%G|%D|%t"}));
    if (r.exit != 0) return classify_tool_error("sinfo", r);
    m_partitions = parse_sinfo(r.out);
  }
  auto choice = CAIRN_TRY(choose_partition(*m_partitions, resources));
  m_choice_reason = choice.reason;
  return choice.partition;
}

Expected<std::string> SlurmScheduler::submit(const engine::SubmitRequest& request) {
  if (!request.remote_dir.empty() && request.remote_dir.front() != '/') {
    return fail("deploy.remote_dir `" + request.remote_dir + "` is not an absolute path");
  }
  if (request.remote_dir.find_first_of("<>") != std::string::npos) {
    return fail("deploy.remote_dir `" + request.remote_dir + "` still holds a template placeholder");
  }
  // No lookup here: the tick asked find_all() for every key it submits and published its
  // intent first, so only it submits this key (a second squeue and sacct per submit is
  // what the controller's admins notice).
  const auto& res = request.spec.resources;
  const std::string partition = CAIRN_TRY(pick_partition(res));
  const std::string array = request.array.empty() ? request.spec.array : request.array;
  const std::string& dir = work_dir(request);
  const std::string out_dir = output_dir_for(dir);

  // Slurm opens the output file on the node and silently loses the log if its
  // directory is missing, so create it first (through the runner: it may be remote).
  auto mk = CAIRN_TRY(call({"mkdir", "-p", "--", out_dir}));
  if (mk.exit != 0) return fail("mkdir " + out_dir + ": " + tool_error_text(mk));

  // The job gets an explicit environment, never the submitter's (sbatch exports all of
  // it by default, where `scontrol show job`, job-env accounting and prologs see it):
  // only the stage's `env:`, handed to sbatch by name so no value is parsed by Slurm.
  std::vector<std::string> argv;
  std::string exported;
  if (!request.spec.env.empty()) {
    argv.push_back("env");
    for (const auto& [k, v] : request.spec.env) {
      argv.push_back(k + "=" + v);
      exported += (exported.empty() ? "" : ",") + k;
    }
  }
  argv.insert(argv.end(),
              {m_config.sbatch, "--parsable", "--export=" + (exported.empty() ? "NONE" : exported),
               "--job-name=" + request.key.str(), "--chdir=" + dir,
               "--output=" + output_pattern(out_dir, !array.empty())});
  if (res.time_seconds) {
    argv.push_back("--time=" + parse::format_walltime(*res.time_seconds));
  } else if (!res.time_text.empty()) {
    argv.push_back("--time=" + res.time_text);
  }
  if (res.cpus) argv.push_back("--cpus-per-task=" + std::to_string(*res.cpus));
  if (res.mem_mb) argv.push_back("--mem=" + std::to_string(*res.mem_mb) + "M");
  if (res.gpus && *res.gpus > 0) {
    argv.push_back("--gres=gpu:" + (res.gpu_type.empty() ? "" : res.gpu_type + ":") +
                   std::to_string(*res.gpus));
  }
  if (!partition.empty()) argv.push_back("--partition=" + partition);
  if (!array.empty()) argv.push_back("--array=" + array);
  if (!request.exclude_nodes.empty()) argv.push_back("--exclude=" + request.exclude_nodes);
  // The script is submitted unchanged, by path: sbatch reads it relative to its own
  // working directory, not --chdir, so make the path absolute.
  argv.push_back(!request.spec.run.empty() && request.spec.run.front() == '/' ? request.spec.run
                                                                              : dir + "/" + request.spec.run);

  auto r = CAIRN_TRY(call(argv));
  if (r.exit != 0) return classify_tool_error("sbatch", r);
  auto ls = lines_of(r.out);
  if (ls.empty()) return fail("sbatch printed no job id", ExitCode::unreachable);
  const std::string id(trim(split(ls.back(), ';')[0]));
  if (!to_int(id)) return fail("sbatch printed '" + std::string(ls.back()) + "', not a job id");
  return id;
}

Expected<std::vector<SlurmRecord>> SlurmScheduler::user_queue() {
  // --me, not --jobs: the same answer serves the pile-up check (every queued job of the
  // user, whoever submitted it), so a tick asks squeue once. --states=all: between a
  // job's end and MinJobAge the controller still knows how it ended, while slurmdbd may
  // lag seconds behind (see parse_sacct's placeholder rows). Times as epoch seconds: the
  // login node's time zone and the user's own SLURM_TIME_FORMAT (e.g. "relative") would
  // make them unreadable.
  auto q = CAIRN_TRY(call({"env", "SLURM_TIME_FORMAT=%s", m_config.squeue, "--noheader", "--me", "--array",
                           "--states=all", "-o", "%i|%T|%r|%V|%S|%e|%P|%N|%j|%Z"}));
  // "Invalid job id specified" (squeue's refusal of ids that left the controller, from
  // when the ids were named) stays an answer ("none queued"), not an outage.
  if (q.exit != 0 && !contains(q.err, "Invalid job id specified")) {
    return fail(classify_tool_error("squeue", q).message, ExitCode::unreachable);
  }
  m_queue = parse_squeue(q.exit == 0 ? q.out : "");
  return *m_queue;
}

Expected<std::optional<std::map<std::string, int>>> SlurmScheduler::queued_by_name(
    const std::string& prefix) {
  if (!m_queue) CAIRN_TRY(user_queue());
  return std::optional<std::map<std::string, int>>(count_queued(*m_queue, prefix));
}

Expected<std::map<std::string, JobStatus>> SlurmScheduler::status(const std::vector<std::string>& job_ids) {
  std::map<std::string, JobStatus> out;
  if (job_ids.empty()) return out;
  auto queued = aggregate(CAIRN_TRY(user_queue()), job_ids);

  std::vector<std::string> ask;  // not queued, or queued only as finished
  for (const auto& id : job_ids) {
    auto it = queued.find(id);
    if (it == queued.end() || is_final(it->second.state) || it->second.state == JobState::unknown) {
      ask.push_back(id);
    } else {
      out[id] = it->second;
    }
  }
  std::map<std::string, JobStatus> finished;
  std::set<std::string> placeholder;
  if (!ask.empty()) {
    auto a =
        CAIRN_TRY(call({"env", "SLURM_TIME_FORMAT=%s", m_config.sacct, "--noheader", "-X", "--parsable2",
                        "--jobs=" + join(ask, ","), "-o",
                        "JobID,JobName,State,ExitCode,Reason,Elapsed,AllocCPUS,NodeList,Submit,Start,End,"
                        "Partition,WorkDir"}));
    if (a.exit == 0) {
      // slurmdbd first shows a placeholder row (JobName "allocation", no WorkDir, and
      // for an array one row claiming COMPLETED) until the job's own records arrive:
      // trusting it would pass an array whose task failed.
      std::vector<SlurmRecord> real;
      for (auto& r : parse_sacct(a.out)) {
        if (r.work_dir.empty()) {
          placeholder.insert(split_job_id(r.job_id).first);
        } else {
          real.push_back(std::move(r));
        }
      }
      finished = aggregate(real, ask);
    } else if (!contains(a.err, "accounting storage is disabled")) {
      return fail(classify_tool_error("sacct", a).message, ExitCode::unreachable);
    }
  }
  for (const auto& id : ask) {
    const auto q_known = queued.find(id);
    const auto it = finished.find(id);
    // Accounting that lags (placeholder rows, or fewer of an array's tasks than the
    // controller lists) must not pass an array on its first task: the controller's
    // word wins, and without it the job is unknown until the next tick.
    const bool partial =
        placeholder.count(id) != 0 || (it != finished.end() && q_known != queued.end() &&
                                       it->second.tasks.size() < q_known->second.tasks.size());
    if (it != finished.end() && !partial) {
      out[id] = it->second;
    } else if (auto q_it = q_known; q_it != queued.end()) {
      out[id] = q_it->second;  // finished in squeue, not (yet) in accounting
    } else if (placeholder.count(id)) {
      continue;  // ended, but how is not recorded yet: unknown until the next tick
    } else {
      JobStatus js;
      js.job_id = id;
      js.state = JobState::pending;
      js.reason = "not visible in squeue or sacct yet";
      // Right after sbatch that is the controller's lag; for longer (no accounting, and
      // the job ended more than MinJobAge ago) nothing will ever say more: the engine's
      // stuck check, not a wait forever.
      js.blocked = true;
      out[id] = std::move(js);
    }
  }
  return out;
}

Expected<std::string> SlurmScheduler::log_tail(const std::string& job_id, int lines) {
  return tail(job_id, lines, /*evidence=*/true);
}

Expected<std::string> SlurmScheduler::output(const std::string& job_id, int lines) {
  return tail(job_id, lines, /*evidence=*/false);
}

Expected<std::string> SlurmScheduler::tail(const std::string& job_id, int lines, bool with_evidence) {
  // Where the output went and how the job ended: sacct knows both (the job name and
  // working directory give the --output path we chose at submit).
  auto a = CAIRN_TRY(call({m_config.sacct, "--noheader", "-X", "--parsable2", "--jobs=" + job_id, "-o",
                           "JobID,JobName,State,ExitCode,Reason,WorkDir"}));
  if (a.exit != 0) return fail(classify_tool_error("sacct", a).message, ExitCode::unreachable);
  std::vector<std::string> files;
  std::vector<std::string> evidence;
  bool placeholder = false;
  for (auto line : lines_of(a.out)) {
    auto f = split(line, '|');
    if (f.size() < 6) continue;
    auto [base, index] = split_job_id(f[0]);
    if (base != job_id) continue;
    if (f[5].empty()) {
      placeholder = true;
      continue;
    }
    // Tasks not started yet ("[3-7]") have no file.
    if (index.empty() || index.front() != '[') {
      files.push_back(output_file(output_dir_for(std::string(f[5])), f[1], base, index));
    }
    std::string ev = (index.empty() ? "" : "task " + index + ": ") + "state=" + std::string(f[2]) +
                     " exit=" + std::string(f[3]);
    if (f[4] != "None" && !f[4].empty()) ev += " reason=" + std::string(f[4]);
    evidence.push_back(ev);
  }
  if (evidence.empty() && placeholder) {
    return fail("accounting has not recorded job " + job_id + " yet; retry", ExitCode::unreachable);
  }
  if (evidence.empty()) return fail("sacct knows no job " + job_id);
  std::string text;
  if (!files.empty()) {
    std::vector<std::string> argv = {"tail", "-n", std::to_string(lines < 0 ? 0 : lines), "--"};
    argv.insert(argv.end(), files.begin(), files.end());
    auto t = CAIRN_TRY(call(argv));
    // `tail -n` per file bounds the lines, not the bytes: bound them as the local backend does.
    text = util::tail_lines(t.out, std::numeric_limits<int>::max(), util::kLogTailBytes);
    // A missing file (job never started, output elsewhere) is evidence too.
    for (auto line : lines_of(t.err)) text += "[slurm] " + std::string(line) + "\n";
  }
  if (!text.empty() && text.back() != '\n') text += '\n';
  if (with_evidence) text += "[slurm] " + join(evidence, "; ") + "\n";
  return text;
}

Expected<void> SlurmScheduler::cancel(const std::string& job_id) {
  if (job_id.empty() || job_id.find(',') != std::string::npos || job_id.find(' ') != std::string::npos) {
    return fail("cancel takes exactly one job id, got '" + job_id + "'", ExitCode::usage);
  }
  auto r = CAIRN_TRY(call({m_config.scancel, job_id}));
  if (r.exit != 0) return classify_tool_error("scancel", r);
  return {};
}

std::vector<std::string> SlurmScheduler::rsync_argv(const engine::SubmitRequest& request) const {
  const std::string& from = work_dir(request);
  if (request.spec.sync.empty() || (!m_ssh && from == request.campaign_dir)) return {};
  // --relative with a "/./" in each source keeps the path below it: WORKDIR/./out/a.dcd
  // lands in CAMPAIGN_DIR/out/a.dcd.
  std::vector<std::string> argv = {m_config.rsync, "-a", "--relative"};
  if (m_ssh) {
    // -s: the paths reach the remote rsync through its protocol, not a remote shell
    // (spaces stay, and rsync itself expands the globs).
    argv.push_back("-s");
    std::vector<std::string> rsh;
    for (const auto& w : ssh_command(*m_ssh)) rsh.push_back(rsh_quote(w));
    argv.push_back("-e");
    argv.push_back(join(rsh, " "));
    for (const auto& path : request.spec.sync) argv.push_back(m_ssh->host + ":" + from + "/./" + path);
  } else {
    for (const auto& path : request.spec.sync) {
      const std::string pattern = from + "/./" + path;
      glob_t g{};
      if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
        for (std::size_t i = 0; i < g.gl_pathc; ++i) argv.emplace_back(g.gl_pathv[i]);
      } else {
        argv.push_back(pattern);  // rsync names what is missing
      }
      ::globfree(&g);
    }
  }
  argv.push_back(request.campaign_dir + "/");
  return argv;
}

Expected<void> SlurmScheduler::sync_outputs(const std::string& job_id, const engine::SubmitRequest& request) {
  const auto argv = rsync_argv(request);
  if (argv.empty()) return {};
  const std::string what = "copying the outputs of job " + job_id + " back";
  auto r = m_local->run(argv, "", m_config.sync_timeout);
  if (!r) return fail(what + ": " + r.error().message, ExitCode::unreachable);
  if (r->exit == 0) return {};
  // rsync's exit codes: 1-4 usage and file selection, 11 file I/O, 23 partial transfer
  // (a source missing), 24 vanished sources: the outputs are not what the stage
  // declared; 127: no rsync here. The rest (5, 10, 12, 30, 35, 255...) are the
  // connection's.
  static const std::set<int> kFindings = {1, 2, 3, 4, 11, 23, 24, 127};
  const bool findings = kFindings.count(r->exit) != 0 || contains(r->err, "command not found");
  // rsync's first line names the file or the connection; its summary line only the code.
  const auto err = lines_of(r->err);
  return fail(what + ": " + (err.empty() ? tool_error_text(*r) : std::string(err.front())),
              findings ? ExitCode::findings : ExitCode::unreachable);
}

}  // namespace cairn::sched
