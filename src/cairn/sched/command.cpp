#include <cairn/sched/command.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include <cairn/sched/names.hpp>
#include <cairn/util/fs.hpp>
#include <cairn/util/number.hpp>
#include <cairn/util/time.hpp>

namespace cairn::sched {

using engine::JobState;
using engine::JobStatus;
using engine::TaskStatus;
using json = nlohmann::json;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Non-empty trimmed lines with their 1-based line numbers.
std::vector<std::pair<int, std::string_view>> numbered_lines(std::string_view text) {
  std::vector<std::pair<int, std::string_view>> out;
  int n = 0;
  while (!text.empty()) {
    ++n;
    auto p = text.find('\n');
    auto line = trim(text.substr(0, p));
    if (!line.empty()) out.emplace_back(n, line);
    if (p == std::string_view::npos) break;
    text.remove_prefix(p + 1);
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool icontains(std::string_view hay, std::string_view needle) {
  return lower(hay).find(lower(needle)) != std::string::npos;
}

std::optional<std::int64_t> to_int(std::string_view s) {
  s = trim(s);
  std::int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
           c == '_';
  });
}

std::string clip(std::string_view s, std::size_t n = 160) {
  return s.size() <= n ? std::string(s) : std::string(s.substr(0, n)) + "...";
}

// Calls f(name) for each placeholder {name} in `element`; literal braces ({.metadata},
// JSON) are not placeholders.
template <class F>
void for_each_placeholder(std::string_view element, F f) {
  std::size_t i = 0;
  while ((i = element.find('{', i)) != std::string_view::npos) {
    auto close = element.find('}', i + 1);
    if (close == std::string_view::npos) return;
    auto name = element.substr(i + 1, close - i - 1);
    if (is_identifier(name)) {
      f(name);
      i = close + 1;
    } else {
      ++i;
    }
  }
}

const std::set<std::string, std::less<>>& builtin_placeholders() {
  static const std::set<std::string, std::less<>> k = {
      "key",   "campaign",     "stage",        "attempt",  "run",       "dir",  "job_id",   "job_ids",
      "time",  "time_minutes", "time_seconds", "cpus",     "mem_mb",    "gpus", "gpu_type", "partition",
      "array", "lines",        "pbs_select",   "k8s_name", "key_label", "user"};
  return k;
}

// Number-or-string JSON fields, as qstat and bjobs print them.
std::optional<std::int64_t> json_int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_number()) return util::to_int64(it->get<double>());
  if (it->is_string()) return to_int(it->get<std::string>());
  return std::nullopt;
}

std::optional<double> json_double(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (it->is_number()) return it->get<double>();
  if (it->is_string()) {
    try {
      return std::stod(it->get<std::string>());
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::string json_str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  if (it->is_number() || it->is_boolean()) return it->dump();
  return "";
}

// "HH:MM:SS" -> seconds (PBS walltime, hours unbounded).
std::optional<std::int64_t> hms_seconds(std::string_view s) {
  std::int64_t total = 0;
  int parts = 0;
  while (true) {
    auto p = s.find(':');
    auto v = to_int(s.substr(0, p));
    // Three fields of at most 10^12 each: the sum stays far inside int64.
    if (!v || *v < 0 || *v > 1'000'000'000'000 || parts == 3) return std::nullopt;
    total = total * 60 + *v;
    ++parts;
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return parts == 3 ? std::optional<std::int64_t>(total) : std::nullopt;
}

std::string format_hms(std::int64_t seconds) {
  if (seconds < 0) seconds = 0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(seconds / 3600),
                static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60));
  return buf;
}

bool is_transient_text(std::string_view text) {
  static constexpr std::array<std::string_view, 19> kTransient = {"connection refused",
                                                                  "connection timed out",
                                                                  "timed out",
                                                                  "unable to connect to the server",
                                                                  "cannot connect to server",
                                                                  "cannot connect to lsf",
                                                                  "lsf is down",
                                                                  "not responding",
                                                                  "could not resolve host",
                                                                  "name or service not known",
                                                                  "temporary failure in name resolution",
                                                                  "network is unreachable",
                                                                  "no route to host",
                                                                  "failed to establish a new connection",
                                                                  "max retries exceeded",
                                                                  "503 service unavailable",
                                                                  "502 bad gateway",
                                                                  "i/o timeout",
                                                                  "connection reset by peer"};
  const std::string l = lower(text);
  return std::any_of(kTransient.begin(), kTransient.end(),
                     [&](std::string_view t) { return l.find(t) != std::string::npos; });
}

std::string first_error_line(const CommandResult& r) {
  auto err = numbered_lines(r.err);
  for (const auto& [n, line] : err) {
    if (icontains(line, "error")) return clip(line, 300);
  }
  if (!err.empty()) return clip(err.front().second, 300);
  auto out = numbered_lines(r.out);
  if (!out.empty()) return clip(out.front().second, 300);
  return "exit " + std::to_string(r.exit);
}

// A tool that answers for the ids it knows and complains about the rest (qstat,
// bjobs): the answer is still good.
bool partial_answer(std::string_view preset, const CommandResult& r) {
  if (preset == "pbs") return icontains(r.err, "Unknown Job Id") || icontains(r.err, "Job has finished");
  if (preset == "lsf") return icontains(r.err, "is not found") || icontains(r.out, "is not found");
  return false;
}

// --- status parsers ----------------------------------------------------------------------

void fold(std::vector<CommandJob>& jobs, std::map<std::string, std::vector<CommandJob>>& by_id,
          std::vector<std::string>& order) {
  for (const auto& id : order) {
    auto& rows = by_id[id];
    const bool tasks =
        std::any_of(rows.begin(), rows.end(), [](const CommandJob& j) { return !j.status.tasks.empty(); });
    if (!tasks) {
      jobs.push_back(rows.back());
      continue;
    }
    CommandJob merged = rows.front();
    merged.status.tasks.clear();
    double cost = 0, cpu = 0;
    bool have_cost = false, have_cpu = false;
    for (const auto& r : rows) {
      if (r.status.tasks.empty()) continue;  // the array's own row: its tasks say it all
      merged.status.tasks.insert(merged.status.tasks.end(), r.status.tasks.begin(), r.status.tasks.end());
      if (r.status.cost_usd) cost += *r.status.cost_usd, have_cost = true;
      if (r.status.cpu_hours) cpu += *r.status.cpu_hours, have_cpu = true;
    }
    if (have_cost) merged.status.cost_usd = cost;
    if (have_cpu) merged.status.cpu_hours = cpu;
    engine::summarize_tasks(merged.status);
    jobs.push_back(std::move(merged));
  }
}

// Records with a task index become one-task JobStatus rows, folded per id afterwards.
void add_row(std::map<std::string, std::vector<CommandJob>>& by_id, std::vector<std::string>& order,
             CommandJob job, const std::string& task) {
  const std::string id = job.status.job_id;
  if (!task.empty()) {
    TaskStatus t;
    t.index = task;
    t.state = job.status.state;
    t.exit_code = job.status.exit_code;
    t.reason = job.status.reason;
    job.status.tasks = {t};
  }
  if (!by_id.count(id)) order.push_back(id);
  by_id[id].push_back(std::move(job));
}

Expected<std::vector<CommandJob>> parse_json_lines(std::string_view text) {
  std::map<std::string, std::vector<CommandJob>> by_id;
  std::vector<std::string> order;
  for (const auto& [n, line] : numbered_lines(text)) {
    const std::string where = "status line " + std::to_string(n) + " (" + clip(line, 120) + ")";
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail(where + ": not a JSON object");
    CommandJob job;
    job.status.job_id = json_str(j, "id");
    if (job.status.job_id.empty()) return fail(where + ": no \"id\"");
    const std::string state = json_str(j, "state");
    auto st = parse_command_state(state);
    if (!st) {
      return fail(where + ": unknown state \"" + state +
                  "\" (expected pending, running, completed, failed, timeout, out_of_memory, node_fail, "
                  "preempted, cancelled, boot_fail or unknown)");
    }
    job.status.state = *st;
    if (auto e = json_int(j, "exit_code")) job.status.exit_code = static_cast<int>(*e);
    if (!job.status.exit_code && *st == JobState::completed) job.status.exit_code = 0;
    job.status.reason = json_str(j, "reason");
    // `"blocked": true`: pending for a reason that will not clear by itself (a hold).
    const auto blocked = j.find("blocked");
    job.status.blocked = *st == JobState::pending && blocked != j.end() && *blocked == true;
    job.status.cost_usd = json_double(j, "cost_usd");
    job.status.cpu_hours = json_double(j, "cpu_hours");
    job.name = json_str(j, "name");
    job.log_path = json_str(j, "log");
    job.status.work_dir = json_str(j, "work_dir");
    add_row(by_id, order, std::move(job), json_str(j, "task"));
  }
  std::vector<CommandJob> jobs;
  fold(jobs, by_id, order);
  return jobs;
}

Expected<json> parse_document(std::string_view what, std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    auto ls = numbered_lines(text);
    return fail(std::string(what) + " printed no JSON" + (ls.empty() ? "" : ": " + clip(ls.front().second)));
  }
  return j;
}

// PBS Pro's JOB_EXEC_* codes (negative Exit_status: the job never ran its script
// to the end for the scheduler's own reasons).
JobState pbs_exec_state(std::int64_t code) {
  switch (code) {
    case -1:
    case -2:
    case -4:
    case -5:
    case -6:
    case -7:
    case -10: return JobState::boot_fail;
    case -20: return JobState::node_fail;
    case -26:
    case -27: return JobState::out_of_memory;
    case -29: return JobState::timeout;
    default: return JobState::failed;
  }
}

Expected<std::vector<CommandJob>> parse_pbs(std::string_view text) {
  std::vector<CommandJob> out;
  std::map<std::string, std::vector<CommandJob>> by_id;
  std::vector<std::string> order;
  if (trim(text).empty()) return out;
  auto doc = CAIRN_TRY(parse_document("qstat", text));
  auto jobs = doc.find("Jobs");
  if (jobs == doc.end()) return out;  // no job matched
  if (!jobs->is_object()) return fail("qstat: \"Jobs\" is not an object");
  for (const auto& [id, j] : jobs->items()) {
    CommandJob job;
    // `qstat -t` lists an array's subjobs as "1234[3].server" next to "1234[].server".
    std::string task;
    job.status.job_id = id;
    if (auto lb = id.find('['), rb = id.find(']');
        lb != std::string::npos && rb != std::string::npos && rb > lb + 1) {
      task = id.substr(lb + 1, rb - lb - 1);
      job.status.job_id = id.substr(0, lb + 1) + id.substr(rb);
    }
    job.name = json_str(j, "Job_Name");
    // The preset's jobs start in $HOME and work in $CAIRN_DIR (qsub -v): that is the
    // job's directory. PBS_O_WORKDIR is only where qsub ran.
    if (auto vars = j.find("Variable_List"); vars != j.end() && vars->is_object()) {
      job.status.work_dir = json_str(*vars, "CAIRN_DIR");
    }
    const std::string path = json_str(j, "Output_Path");
    job.log_path = path.substr(path.find(':') == std::string::npos ? 0 : path.find(':') + 1);
    const std::string st = json_str(j, "job_state");
    const std::string comment = json_str(j, "comment");
    const auto exit = json_int(j, "Exit_status");
    job.status.reason = "job_state=" + st + (comment.empty() ? "" : " (" + comment + ")");
    if (st == "Q" || st == "H" || st == "W" || st == "T" || st == "M") {
      job.status.state = JobState::pending;
      job.status.blocked = st == "H";  // held: waits for a human, not for its turn
    } else if (st == "R" || st == "E" || st == "B" || st == "S" || st == "U") {
      job.status.state = JobState::running;
    } else if (st == "F" || st == "X") {
      if (!exit) {
        // Deleted before it ran: history keeps no exit status.
        job.status.state = JobState::cancelled;
      } else if (*exit < 0) {
        job.status.state = pbs_exec_state(*exit);
        job.status.exit_code = static_cast<int>(*exit);
      } else if (*exit >= 256) {
        job.status.state = JobState::failed;
        job.status.exit_code = static_cast<int>(128 + *exit - 256);
        job.status.reason += ", signal " + std::to_string(*exit - 256);
      } else {
        job.status.state = *exit == 0 ? JobState::completed : JobState::failed;
        job.status.exit_code = static_cast<int>(*exit);
      }
      // MoM says why it killed a job only in the comment.
      if (icontains(comment, "walltime") && icontains(comment, "exceed"))
        job.status.state = JobState::timeout;
      if ((icontains(comment, " mem ") || icontains(comment, "mem ") || icontains(comment, "vmem")) &&
          icontains(comment, "exceed") && !icontains(comment, "walltime")) {
        job.status.state = JobState::out_of_memory;
      }
      if (icontains(comment, "deleted")) job.status.state = JobState::cancelled;
    } else {
      job.status.state = JobState::unknown;
    }
    if (auto used = j.find("resources_used"); used != j.end() && used->is_object()) {
      auto wall = hms_seconds(json_str(*used, "walltime"));
      auto ncpus = json_int(*used, "ncpus");
      if (wall && ncpus)
        job.status.cpu_hours = static_cast<double>(*wall) / 3600.0 * static_cast<double>(*ncpus);
    }
    add_row(by_id, order, std::move(job), task);
  }
  fold(out, by_id, order);
  return out;
}

std::optional<double> lsf_seconds(const std::string& text) {
  // "123 second(s)", "0.4 second(s)", "-" when not started
  try {
    std::size_t used = 0;
    double v = std::stod(text, &used);
    return used > 0 ? std::optional<double>(v) : std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// bsub's %J (job id) and %I (array index) in an output path, each written once, left to
// right: a replacement is never scanned again (a job id may itself hold "%J").
std::string expand_lsf_path(std::string_view path, std::string_view job_id, std::string_view index) {
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 1 < path.size() && (path[i + 1] == 'J' || path[i + 1] == 'I')) {
      out += path[i + 1] == 'J' ? job_id : index;
      ++i;
    } else {
      out += path[i];
    }
  }
  return out;
}

Expected<std::vector<CommandJob>> parse_lsf(std::string_view text) {
  std::vector<CommandJob> jobs;
  // Without a match some LSF versions print "Job <name> is not found" instead of JSON.
  if (trim(text).empty() || (trim(text).front() != '{' && icontains(text, "is not found"))) return jobs;
  auto doc = CAIRN_TRY(parse_document("bjobs", text));
  auto records = doc.find("RECORDS");
  if (records == doc.end() || !records->is_array()) return fail("bjobs: no \"RECORDS\" list in its JSON");
  std::map<std::string, std::vector<CommandJob>> by_id;
  std::vector<std::string> order;
  for (const auto& r : *records) {
    if (r.contains("ERROR")) continue;  // "Job <123> is not found"
    CommandJob job;
    job.status.job_id = json_str(r, "JOBID");
    if (job.status.job_id.empty()) continue;
    job.name = json_str(r, "JOB_NAME");
    std::string task;
    // An array element's name is "name[3]".
    if (auto lb = job.name.rfind('['); lb != std::string::npos && job.name.back() == ']') {
      const std::string idx = job.name.substr(lb + 1, job.name.size() - lb - 2);
      if (to_int(idx)) {
        task = idx;
        job.name.resize(lb);
      }
    }
    const std::string st = json_str(r, "STAT");
    const std::string why = json_str(r, "EXIT_REASON");
    const std::string pend = json_str(r, "PEND_REASON");
    auto exit = to_int(json_str(r, "EXIT_CODE"));
    job.status.reason = st;
    if (!why.empty() && why != "-") job.status.reason += " (" + why + ")";
    if (!pend.empty() && pend != "-" && st == "PEND") job.status.reason += " (" + pend + ")";
    if (st == "PEND" || st == "PSUSP" || st == "WAIT") {
      job.status.state = JobState::pending;
    } else if (st == "RUN" || st == "USUSP" || st == "SSUSP" || st == "PROV") {
      job.status.state = JobState::running;
    } else if (st == "DONE") {
      job.status.state = JobState::completed;
      job.status.exit_code = 0;
    } else if (st == "EXIT") {
      job.status.state = JobState::failed;
      job.status.exit_code = static_cast<int>(exit.value_or(1));
      if (icontains(why, "RUNLIMIT") || icontains(why, "run time limit")) {
        job.status.state = JobState::timeout;
      } else if (icontains(why, "MEMLIMIT") || icontains(why, "memory limit")) {
        job.status.state = JobState::out_of_memory;
      } else if (icontains(why, "PREEMPT")) {
        job.status.state = JobState::preempted;
      } else if (icontains(why, "TERM_OWNER") || icontains(why, "TERM_ADMIN") ||
                 icontains(why, "TERM_FORCE") || icontains(why, "killed by owner") ||
                 icontains(why, "killed by root")) {
        job.status.state = JobState::cancelled;
      } else if (icontains(why, "TERM_ZOMBIE") || icontains(why, "TERM_HOST") ||
                 icontains(why, "host failure")) {
        job.status.state = JobState::node_fail;
      }
    } else if (st == "ZOMBI") {
      job.status.state = JobState::node_fail;
    } else {
      job.status.state = JobState::unknown;  // UNKWN: mbatchd lost the execution host for now
    }
    if (auto cpu = lsf_seconds(json_str(r, "CPU_USED"))) job.status.cpu_hours = *cpu / 3600.0;
    const std::string out =
        expand_lsf_path(json_str(r, "OUTPUT_FILE"), job.status.job_id, task.empty() ? "0" : task);
    job.log_path = out == "-" ? "" : out;
    // Where it runs (bsub -cwd); "-" or absent until it has started.
    if (const std::string cwd = json_str(r, "EXEC_CWD"); cwd != "-") job.status.work_dir = cwd;
    add_row(by_id, order, std::move(job), task);
  }
  fold(jobs, by_id, order);
  return jobs;
}

Expected<std::vector<CommandJob>> parse_kubernetes(std::string_view text) {
  std::vector<CommandJob> out;
  auto doc = CAIRN_TRY(parse_document("kubectl get jobs", text));
  std::vector<json> items;
  if (doc.contains("items") && doc["items"].is_array()) {
    items = doc["items"].get<std::vector<json>>();
  } else if (json_str(doc, "kind") == "Job") {
    items.push_back(doc);
  } else {
    return fail("kubectl get jobs: neither a List with \"items\" nor a Job");
  }
  for (const auto& item : items) {
    if (!item.is_object())
      return fail("kubectl get jobs: an item is not a Job object: " +
                  clip(item.dump(-1, ' ', false, json::error_handler_t::replace), 120));
    CommandJob job;
    const json meta = item.value("metadata", json::object());
    const json spec = item.value("spec", json::object());
    const json st = item.value("status", json::object());
    job.status.job_id = json_str(meta, "name");
    job.name = job.status.job_id;
    if (auto ann = meta.find("annotations"); ann != meta.end() && ann->is_object()) {
      if (auto k = json_str(*ann, "cairn.dev/key"); !k.empty()) job.name = k;
    }
    const auto active = json_int(st, "active").value_or(0);
    const auto ready = json_int(st, "ready");
    const auto failed = json_int(st, "failed").value_or(0);
    JobState state = JobState::pending;
    std::string reason;
    bool final = false;
    if (auto conds = st.find("conditions"); conds != st.end() && conds->is_array()) {
      for (const auto& c : *conds) {
        if (json_str(c, "status") != "True") continue;
        const std::string type = json_str(c, "type");
        const std::string why = json_str(c, "reason");
        const std::string msg = json_str(c, "message");
        if (type == "Complete") {
          state = JobState::completed;
          final = true;
        } else if (type == "Failed") {
          state = why == "DeadlineExceeded" ? JobState::timeout : JobState::failed;
          final = true;
        } else {
          continue;  // Suspended, SuccessCriteriaMet, FailureTarget: the final condition follows
        }
        reason = type + (why.empty() ? "" : " (" + why + ")") + (msg.empty() ? "" : ": " + msg);
      }
    }
    if (!final) {
      if (const auto sus = spec.find("suspend"); sus != spec.end() && *sus == true) {
        reason = "suspended";
      } else if (active > 0 && (!ready || *ready > 0)) {
        state = JobState::running;
        reason = std::to_string(active) + " pod(s) active";
      } else {
        reason = active > 0 ? "pods not ready" : "no pod yet";
      }
      if (failed > 0) reason += ", " + std::to_string(failed) + " failed pod(s)";
    }
    job.status.state = state;
    job.status.reason = reason;
    if (state == JobState::completed) job.status.exit_code = 0;
    if (auto t = util::parse_time(json_str(st, "startTime"))) job.status.started = *t;
    if (auto t = util::parse_time(json_str(st, "completionTime"))) job.status.ended = *t;
    // The first container's workingDir (the campaign dir on the preset's volume).
    if (auto tpl = spec.find("template"); tpl != spec.end() && tpl->is_object()) {
      const json pod = tpl->value("spec", json::object());
      if (auto cs = pod.find("containers"); cs != pod.end() && cs->is_array() && !cs->empty()) {
        job.status.work_dir = json_str(cs->front(), "workingDir");
      }
    }
    out.push_back(std::move(job));
  }
  return out;
}

Expected<std::vector<CommandJob>> parse_vastai(std::string_view text, engine::TimePoint now) {
  std::vector<CommandJob> out;
  auto doc = CAIRN_TRY(parse_document("vastai show instances", text));
  const json* list = &doc;
  if (doc.is_object() && doc.contains("instances")) list = &doc["instances"];
  if (!list->is_array()) return fail("vastai show instances: not a list of instances");
  const double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
  for (const auto& i : *list) {
    CommandJob job;
    job.status.job_id = json_str(i, "id");
    if (job.status.job_id.empty()) continue;
    job.name = json_str(i, "label");
    const std::string actual = json_str(i, "actual_status");
    const std::string intended = json_str(i, "intended_status");
    const std::string msg = std::string(trim(json_str(i, "status_msg")));
    if (actual.empty() || actual == "created" || actual == "loading" || actual == "scheduling") {
      job.status.state = JobState::pending;
    } else if (actual == "running") {
      job.status.state = JobState::running;
    } else if (actual == "exited" || actual == "stopped") {
      const bool error = icontains(msg, "error") || icontains(msg, "failed");
      job.status.state = error ? JobState::failed : JobState::completed;
      if (!error) job.status.exit_code = 0;
    } else if (actual == "offline") {
      job.status.state = JobState::node_fail;
    } else {
      job.status.state = JobState::unknown;
    }
    job.status.reason = "actual_status=" + (actual.empty() ? std::string("(none)") : actual) +
                        " intended_status=" + intended + (msg.empty() ? "" : " (" + clip(msg) + ")");
    auto start = json_double(i, "start_date");
    auto dph = json_double(i, "dph_total");
    if (start && *start > 0) {
      if (auto secs = util::to_int64(*start)) job.status.started = util::time_from_unix(*secs);
      const double hours = std::max(0.0, now_s - *start) / 3600.0;
      // Billing runs until the instance is destroyed, so the price of an instance still
      // listed is its rate times everything since it started.
      if (dph) job.status.cost_usd = *dph * hours;
      if (auto cores = json_double(i, "cpu_cores_effective")) job.status.cpu_hours = *cores * hours;
    }
    out.push_back(std::move(job));
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------

Expected<CommandTemplate> parse_command_template(std::string_view text) {
  text = trim(text);
  CommandTemplate out;
  const bool yaml_block = !text.empty() && text[0] == '-' &&
                          (text.size() == 1 || std::isspace(static_cast<unsigned char>(text[1])));
  const bool yaml_flow = !text.empty() && text[0] == '[' && text.size() > 1 &&
                         !std::isspace(static_cast<unsigned char>(text[1]));
  if (yaml_block || yaml_flow) {
    try {
      YAML::Node n = YAML::Load(std::string(text));
      if (!n.IsSequence()) return fail("a template list must be a YAML list of strings");
      for (const auto& item : n) {
        if (item.IsScalar()) {
          out.push_back(item.Scalar());
        } else if (item.IsMap() && item.size() == 1 && item.begin()->second.IsNull()) {
          // An unquoted `- {key}` reads as a one-key YAML map: it meant the placeholder.
          out.push_back("{" + item.begin()->first.Scalar() + "}");
        } else {
          return fail("template list items must be strings (quote \"{placeholders}\")");
        }
      }
    } catch (const YAML::Exception& e) {
      return fail(std::string("template list is not valid YAML: ") + e.what());
    }
  } else {
    std::string cur;
    bool have = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        if (have) out.push_back(std::move(cur));
        cur.clear();
        have = false;
      } else if (c == '\'') {
        auto close = text.find('\'', i + 1);
        if (close == std::string_view::npos) return fail("unterminated ' in template: " + std::string(text));
        cur += text.substr(i + 1, close - i - 1);
        have = true;
        i = close;
      } else if (c == '"') {
        std::size_t j = i + 1;
        for (; j < text.size() && text[j] != '"'; ++j) {
          if (text[j] == '\\' && j + 1 < text.size() && (text[j + 1] == '"' || text[j + 1] == '\\')) ++j;
          cur += text[j];
        }
        if (j >= text.size()) return fail("unterminated \" in template: " + std::string(text));
        have = true;
        i = j;
      } else {
        cur += c;
        have = true;
      }
    }
    if (have) out.push_back(std::move(cur));
  }
  int depth = 0;
  for (const auto& e : out) {
    if (e == "[" && ++depth > 1) return fail("optional groups \"[ ... ]\" do not nest: " + std::string(text));
    if (e == "]" && --depth < 0) return fail("\"]\" without \"[\" in template: " + std::string(text));
  }
  if (depth != 0) return fail("\"[\" without \"]\" in template: " + std::string(text));
  if (out.empty() || out.front() == "[") return fail("a template must start with the program to run");
  return out;
}

CommandBackendConfig command_preset(std::string_view preset) {
  CommandBackendConfig c;
  c.preset = std::string(preset);
  auto t = [](std::string_view s) { return *parse_command_template(s); };
  if (preset == "pbs") {
    c.submit =
        t("qsub -N {key} -j oe -o {dir}/.cairn/{key}.out -v CAIRN_DIR={dir} [ -l walltime={time} ] "
          "-l select={pbs_select} [ -q {partition} ] [ -J {array} ] {run}");
    c.status = t("qstat -x -t -F json -f {job_ids}");
    c.find = t("qselect -x -u {user} -N {key}");
    c.cancel = t("qdel {job_id}");
  } else if (preset == "lsf") {
    c.submit =
        t("bsub -J {key} -cwd {dir} -oo {dir}/.cairn/{key}.out [ -W {time_minutes} ] [ -n {cpus} ] "
          "[ -R rusage[mem={mem_mb}] ] [ -gpu num={gpus} ] [ -q {partition} ] {run}");
    c.status =
        t("bjobs -a -json -o \"jobid stat exit_code job_name exit_reason pend_reason cpu_used run_time "
          "output_file exec_cwd\" {job_ids}");
    c.find = t("bjobs -a -json -o \"jobid stat job_name\" -J {key}");
    c.cancel = t("bkill {job_id}");
  } else if (preset == "kubernetes") {
    c.vars = {{"namespace", ""}, {"image", ""}, {"pvc", ""}};
    c.submit = t("kubectl [ --namespace {namespace} ] create -f - -o name");
    c.status =
        t("kubectl [ --namespace {namespace} ] get jobs -l app.kubernetes.io/managed-by=cairn -o json");
    c.find =
        t("kubectl [ --namespace {namespace} ] get jobs -l "
          "app.kubernetes.io/managed-by=cairn,cairn.dev/key={key_label} "
          "-o json");
    c.cancel = t("kubectl [ --namespace {namespace} ] delete job {job_id}");
    c.logs = t("kubectl [ --namespace {namespace} ] logs job/{job_id} --tail={lines} --all-containers=true");
  } else if (preset == "vastai") {
    c.vars = {{"offer", ""}, {"image", ""}, {"disk", ""}};
    c.submit =
        t("vastai create instance {offer} --image {image} [ --disk {disk} ] --label {key} --onstart {run} "
          "--raw");
    c.status = t("vastai show instances --raw");
    c.cancel = t("vastai destroy instance {job_id}");
    c.logs = t("vastai logs {job_id} --tail {lines}");
  }
  return c;
}

Expected<CommandBackendConfig> parse_command_config(const std::map<std::string, std::string>& settings) {
  auto get = [&](const char* k) -> std::string {
    auto it = settings.find(k);
    return it == settings.end() ? "" : it->second;
  };
  const std::string preset = get("preset");
  if (!preset.empty() && preset != "pbs" && preset != "lsf" && preset != "kubernetes" && preset != "vastai") {
    return fail("command backend: unknown preset `" + preset + "`; presets: pbs, lsf, kubernetes, vastai",
                ExitCode::usage);
  }
  CommandBackendConfig c = command_preset(preset);
  const std::set<std::string, std::less<>> reserved = {"preset", "submit",       "status",   "cancel", "logs",
                                                       "find",   "submit_regex", "ssh_host", "timeout"};
  for (const auto& [k, v] : settings) {
    if (reserved.count(k)) continue;
    if (!is_identifier(k))
      return fail("command backend: setting `" + k + "` is not a placeholder name ([a-z_][a-z0-9_]*)",
                  ExitCode::usage);
    if (builtin_placeholders().count(k))
      return fail("command backend: setting `" + k + "` would shadow the built-in {" + k + "}",
                  ExitCode::usage);
    c.vars[k] = v;
  }
  c.submit_regex = get("submit_regex");
  if (!c.submit_regex.empty()) {
    // RE2, as every pattern a user writes: linear time. A job-id pattern is short; a
    // huge one (thousands of nested groups) is refused before RE2 builds it.
    constexpr std::size_t kMaxPattern = 512;
    if (c.submit_regex.size() > kMaxPattern) {
      return fail(fmt::format("command backend: `submit_regex` is {} characters long; a job-id pattern needs at "
                              "most {}",
                              c.submit_regex.size(), kMaxPattern),
                  ExitCode::usage);
    }
    const RE2 re(c.submit_regex, RE2::Quiet);
    if (!re.ok())
      return fail("command backend: `submit_regex` is not an RE2 regex: " + re.error(), ExitCode::usage);
    if (re.NumberOfCapturingGroups() < 1)
      return fail("command backend: `submit_regex` needs a (group) around the job id", ExitCode::usage);
  }
  c.ssh_host = get("ssh_host");
  if (auto t = get("timeout"); !t.empty()) {
    auto secs = to_int(t);
    if (!secs || *secs <= 0)
      return fail("command backend: `timeout` must be a number of seconds", ExitCode::usage);
    c.timeout = std::chrono::seconds(*secs);
  }
  const std::pair<const char*, CommandTemplate*> templates[] = {{"submit", &c.submit},
                                                                {"status", &c.status},
                                                                {"cancel", &c.cancel},
                                                                {"logs", &c.logs},
                                                                {"find", &c.find}};
  for (const auto& [name, into] : templates) {
    if (auto text = get(name); !text.empty()) {
      auto parsed = parse_command_template(text);
      if (!parsed)
        return fail("command backend: `" + std::string(name) + "`: " + parsed.error().message,
                    ExitCode::usage);
      *into = std::move(*parsed);
    }
    std::string unknown;
    for (const auto& e : *into) {
      for_each_placeholder(e, [&](std::string_view p) {
        if (!builtin_placeholders().count(p) && !c.vars.count(std::string(p)) && unknown.empty()) unknown = p;
      });
    }
    if (!unknown.empty()) {
      return fail("command backend: `" + std::string(name) + "` uses {" + unknown +
                      "}, which is neither built in nor a setting of this backend",
                  ExitCode::usage);
    }
  }
  for (const auto& [name, into] :
       {std::pair{"submit", &c.submit}, {"status", &c.status}, {"cancel", &c.cancel}}) {
    if (into->empty())
      return fail(std::string("command backend: no `") + name + "` template (or `preset`)", ExitCode::usage);
  }
  const std::vector<std::string> need = preset == "kubernetes" ? std::vector<std::string>{"image"}
                                        : preset == "vastai"   ? std::vector<std::string>{"offer", "image"}
                                                               : std::vector<std::string>{};
  for (const auto& n : need) {
    if (c.vars[n].empty())
      return fail("command backend: preset " + preset + " needs the setting `" + n + "`", ExitCode::usage);
  }
  return c;
}

Expected<std::vector<std::string>> expand_command_template(const CommandTemplate& tmpl,
                                                           const std::map<std::string, std::string>& values,
                                                           const std::vector<std::string>& job_ids) {
  std::vector<std::string> out;
  std::vector<std::string> group;
  bool in_group = false, group_empty = false;
  for (const auto& e : tmpl) {
    if (e == "[") {
      if (in_group) return fail("optional groups do not nest");
      in_group = true;
      group_empty = false;
      group.clear();
      continue;
    }
    if (e == "]") {
      if (!in_group) return fail("\"]\" without \"[\"");
      if (!group_empty) out.insert(out.end(), group.begin(), group.end());
      in_group = false;
      continue;
    }
    auto& into = in_group ? group : out;
    if (e == "{job_ids}") {
      if (job_ids.empty()) group_empty = true;
      into.insert(into.end(), job_ids.begin(), job_ids.end());
      continue;
    }
    std::string expanded;
    std::size_t i = 0;
    while (i < e.size()) {
      const auto open = e.find('{', i);
      if (open == std::string::npos) {
        expanded += e.substr(i);
        break;
      }
      const auto close = e.find('}', open + 1);
      const std::string name = close == std::string::npos ? "" : e.substr(open + 1, close - open - 1);
      if (!is_identifier(name)) {
        expanded += e.substr(i, open + 1 - i);
        i = open + 1;
        continue;
      }
      expanded += e.substr(i, open - i);
      std::string value;
      if (name == "job_ids") {
        for (const auto& id : job_ids) value += (value.empty() ? "" : ",") + id;
      } else if (auto it = values.find(name); it != values.end()) {
        value = it->second;
      }
      if (value.empty()) group_empty = true;
      expanded += value;
      i = close + 1;
    }
    into.push_back(std::move(expanded));
  }
  if (in_group) return fail("\"[\" without \"]\"");
  return out;
}

std::optional<JobState> parse_command_state(std::string_view text) {
  static const std::map<std::string, JobState, std::less<>> kStates = {
      {"pending", JobState::pending},     {"running", JobState::running},
      {"completed", JobState::completed}, {"failed", JobState::failed},
      {"timeout", JobState::timeout},     {"out_of_memory", JobState::out_of_memory},
      {"node_fail", JobState::node_fail}, {"preempted", JobState::preempted},
      {"cancelled", JobState::cancelled}, {"boot_fail", JobState::boot_fail},
      {"unknown", JobState::unknown}};
  auto it = kStates.find(lower(trim(text)));
  if (it == kStates.end()) return std::nullopt;
  return it->second;
}

Expected<std::string> submit_id_from(const CommandBackendConfig& config, const std::string& prog,
                                     std::string_view out) {
  std::string id;
  if (!config.submit_regex.empty() || config.preset == "lsf") {
    // bsub: "Job <1234> is submitted to default queue <normal>."
    const RE2 re(config.submit_regex.empty() ? std::string(R"(Job <(\d+)>)") : config.submit_regex,
                 RE2::Quiet);
    re2::StringPiece group;
    if (re.ok() && re.NumberOfCapturingGroups() >= 1 &&
        RE2::PartialMatch(re2::StringPiece(out.data(), out.size()), re, &group)) {
      id = std::string(group.data(), group.size());
    }
  } else if (config.preset == "vastai") {
    // --raw: {"success": true, "new_contract": 7835610}
    json j = json::parse(out, nullptr, false);
    if (!j.is_discarded() && j.is_object()) {
      if (j.contains("success") && j["success"].is_boolean() && !j["success"].get<bool>()) {
        return fail(prog + ": " + json_str(j, "error") + " " + json_str(j, "msg"));
      }
      id = json_str(j, "new_contract");
    }
  } else {
    auto ls = numbered_lines(out);
    if (!ls.empty()) id = std::string(ls.front().second);
    // kubectl -o name: "job.batch/cairn-c-s-1"
    if (config.preset == "kubernetes" && id.find('/') != std::string::npos) id = id.substr(id.rfind('/') + 1);
  }
  if (id.empty() ||
      std::any_of(id.begin(), id.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); })) {
    auto ls = numbered_lines(out);
    return fail(prog + " printed no job id" + (ls.empty() ? std::string() : ": " + clip(ls.front().second)),
                ExitCode::unreachable);
  }
  return id;
}

Expected<std::vector<CommandJob>> parse_command_status(std::string_view preset, std::string_view text,
                                                       engine::TimePoint now) {
  // The parsers check each field's type; nlohmann's exceptions (a field of a type no
  // check foresaw) still stop here, as an error about this answer, never the tick.
  try {
    if (preset == "pbs") return parse_pbs(text);
    if (preset == "lsf") return parse_lsf(text);
    if (preset == "kubernetes") return parse_kubernetes(text);
    if (preset == "vastai") return parse_vastai(text, now);
    return parse_json_lines(text);
  } catch (const json::exception& e) {
    return fail(fmt::format("{} status: unexpected JSON: {}", preset.empty() ? "command" : preset, e.what()));
  }
}

Error classify_command_error(std::string_view what, const CommandResult& result) {
  const std::string message = std::string(what) + ": " + first_error_line(result);
  if (is_transient_text(result.err) || is_transient_text(result.out))
    return fail(message, ExitCode::unreachable);
  return fail(message, ExitCode::findings);
}

// ---------------------------------------------------------------------------------------

CommandScheduler::CommandScheduler(std::unique_ptr<CommandRunner> runner, CommandBackendConfig config)
    : m_runner(std::move(runner)), m_config(std::move(config)) {
  if (!m_config.ssh_host.empty()) {
    SshOptions o;
    o.host = m_config.ssh_host;
    o.control_path = "/tmp/cairn-ssh-%C";
    m_runner = std::make_unique<SshRunner>(std::move(m_runner), std::move(o));
    m_workspace = std::make_unique<RemoteWorkspace>(*m_runner, m_config.ssh_host, m_config.timeout);
  }
}

engine::Workspace* CommandScheduler::workspace() {
  return m_workspace.get();
}

bool CommandScheduler::outputs_are_files() const {
  if (m_config.preset == "vastai") return false;
  if (m_config.preset == "kubernetes") {
    auto pvc = m_config.vars.find("pvc");
    return pvc != m_config.vars.end() && !pvc->second.empty();
  }
  return true;
}

Expected<std::string> CommandScheduler::login_user() {
  if (!m_user.empty()) return m_user;
  auto r = CAIRN_TRY(m_runner->run({"id", "-un"}, "", m_config.timeout));
  const auto ls = numbered_lines(r.out);
  if (r.exit != 0 || ls.size() != 1 || ls.front().second.find_first_of(" \t,") != std::string_view::npos) {
    return fail("cannot tell which user runs the commands: `id -un` said " + first_error_line(r),
                ExitCode::unreachable);
  }
  m_user = std::string(ls.front().second);
  return m_user;
}

engine::TimePoint CommandScheduler::now() const {
  return m_config.now ? m_config.now() : std::chrono::system_clock::now();
}

Expected<CommandResult> CommandScheduler::call(std::string_view what, const CommandTemplate& tmpl,
                                               const std::map<std::string, std::string>& values,
                                               const std::vector<std::string>& job_ids,
                                               std::string_view input) {
  std::map<std::string, std::string> all = m_config.vars;
  for (const auto& [k, v] : values) all[k] = v;
  bool wants_user = false;
  for (const auto& e : tmpl) for_each_placeholder(e, [&](std::string_view p) { wants_user |= p == "user"; });
  if (wants_user) all["user"] = CAIRN_TRY(login_user());
  auto argv = expand_command_template(tmpl, all, job_ids);
  if (!argv) return fail(std::string(what) + " template: " + argv.error().message, ExitCode::usage);
  if (argv->empty() || argv->front().empty())
    return fail(std::string(what) + " template expands to no program", ExitCode::usage);
  return m_runner->run(*argv, input, m_config.timeout);
}

Expected<std::vector<CommandJob>> CommandScheduler::query(const std::vector<std::string>& job_ids) {
  auto r = CAIRN_TRY(call("status", m_config.status, {}, job_ids));
  if (r.exit != 0 && !partial_answer(m_config.preset, r)) {
    return classify_command_error(m_config.status.front(), r);
  }
  auto jobs = parse_command_status(m_config.preset, r.out, now());
  if (!jobs) return fail(m_config.status.front() + ": " + jobs.error().message);
  return jobs;
}

Expected<std::optional<std::string>> CommandScheduler::find(const engine::JobKey& key) {
  const std::string name = key.str();
  std::optional<std::string> found;
  // bjobs and kubectl answer a find in their status format; the rest print ids.
  if (m_config.find.empty() || m_config.preset == "lsf" || m_config.preset == "kubernetes") {
    std::vector<CommandJob> jobs;
    if (m_config.find.empty()) {
      jobs = CAIRN_TRY(query({}));
    } else {
      auto r = CAIRN_TRY(call("find", m_config.find,
                              {{"key", name},
                               {"key_label", label_value(name)},
                               {"campaign", key.campaign},
                               {"stage", key.stage},
                               {"attempt", std::to_string(key.attempt)}}));
      if (r.exit != 0 && !partial_answer(m_config.preset, r))
        return classify_command_error(m_config.find.front(), r);
      jobs = CAIRN_TRY(parse_command_status(m_config.preset, r.out, now()));
    }
    for (const auto& j : jobs) {
      if (j.name == name) found = j.status.job_id;  // listed oldest first: keep the newest
    }
    return found;
  }
  auto r = CAIRN_TRY(call("find", m_config.find,
                          {{"key", name},
                           {"key_label", label_value(name)},
                           {"campaign", key.campaign},
                           {"stage", key.stage},
                           {"attempt", std::to_string(key.attempt)}}));
  if (r.exit != 0 && !partial_answer(m_config.preset, r))
    return classify_command_error(m_config.find.front(), r);
  for (const auto& [n, line] : numbered_lines(r.out)) {
    if (line.front() == '{') {
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        return fail(m_config.find.front() + ": find line " + std::to_string(n) + " (" + clip(line, 120) +
                    "): not a JSON object");
      }
      if (auto nm = json_str(j, "name"); !nm.empty() && nm != name) continue;
      if (auto id = json_str(j, "id"); !id.empty()) found = id;
    } else {
      found = std::string(line);
    }
  }
  return found;
}

Expected<std::string> CommandScheduler::submit(const engine::SubmitRequest& request) {
  if (auto existing = CAIRN_TRY(find(request.key))) return *existing;
  const auto& res = request.spec.resources;
  const std::string key = request.key.str();
  std::map<std::string, std::string> v = {
      {"key", key},
      {"campaign", request.key.campaign},
      {"stage", request.key.stage},
      {"attempt", std::to_string(request.key.attempt)},
      {"dir", request.campaign_dir},
      {"run", !request.spec.run.empty() && request.spec.run.front() == '/'
                  ? request.spec.run
                  : request.campaign_dir + "/" + request.spec.run},
      {"array", request.array.empty() ? request.spec.array : request.array},
      {"gpu_type", res.gpu_type},
      {"partition", res.partition},
      {"k8s_name", dns_label(key)},
      {"key_label", label_value(key)},
  };
  if (res.time_seconds) {
    v["time"] = format_hms(*res.time_seconds);
    v["time_minutes"] = std::to_string((*res.time_seconds + 59) / 60);
    v["time_seconds"] = std::to_string(*res.time_seconds);
  }
  if (res.cpus) v["cpus"] = std::to_string(*res.cpus);
  if (res.mem_mb) v["mem_mb"] = std::to_string(*res.mem_mb);
  if (res.gpus && *res.gpus > 0) v["gpus"] = std::to_string(*res.gpus);
  std::string select = "1:ncpus=" + std::to_string(res.cpus.value_or(1));
  if (res.mem_mb) select += ":mem=" + std::to_string(*res.mem_mb) + "mb";
  if (res.gpus && *res.gpus > 0) select += ":ngpus=" + std::to_string(*res.gpus);
  v["pbs_select"] = select;

  if (!v["array"].empty()) {
    bool takes_array = false;
    for (const auto& e : m_config.submit) {
      for_each_placeholder(e, [&](std::string_view p) { takes_array |= p == "array"; });
    }
    // Running an array stage once would pass it on one task's result.
    if (!takes_array) {
      return fail("stage asks for array " + v["array"] + " but this command backend's submit has no {array}");
    }
  }
  if (m_config.preset == "pbs" || m_config.preset == "lsf") {
    // The output file's directory must exist before the job starts, or the log is lost.
    auto mk = CAIRN_TRY(
        m_runner->run({"mkdir", "-p", "--", request.campaign_dir + "/.cairn"}, "", m_config.timeout));
    if (mk.exit != 0) return classify_command_error("mkdir " + request.campaign_dir + "/.cairn", mk);
  }
  std::string input;
  if (m_config.preset == "kubernetes") {
    // The Job cairn asks for, as JSON (which kubectl reads as YAML): values are JSON
    // strings, never spliced into text.
    std::map<std::string, std::string> all = m_config.vars;
    json container = {{"name", "stage"},
                      {"image", all["image"]},
                      {"command", {"/bin/sh", v["run"]}},
                      {"workingDir", request.campaign_dir},
                      {"env", json::array({{{"name", "CAIRN_KEY"}, {"value", key}},
                                           {{"name", "CAIRN_DIR"}, {"value", request.campaign_dir}}})}};
    json limits = json::object();
    if (res.cpus) limits["cpu"] = std::to_string(*res.cpus);
    if (res.mem_mb) limits["memory"] = std::to_string(*res.mem_mb) + "Mi";
    if (res.gpus && *res.gpus > 0) limits["nvidia.com/gpu"] = std::to_string(*res.gpus);
    if (!limits.empty()) container["resources"] = {{"requests", limits}, {"limits", limits}};
    json pod = {{"restartPolicy", "Never"}, {"containers", json::array()}};
    if (!all["pvc"].empty()) {
      container["volumeMounts"] = json::array({{{"name", "work"}, {"mountPath", request.campaign_dir}}});
      pod["volumes"] =
          json::array({{{"name", "work"}, {"persistentVolumeClaim", {{"claimName", all["pvc"]}}}}});
    }
    pod["containers"].push_back(container);
    json labels = {{"app.kubernetes.io/managed-by", "cairn"}};
    // find() selects by this label (a valid label value, hashed when the key is not one)
    // and then matches the full key in the annotation.
    json job_labels = labels;
    job_labels["cairn.dev/key"] = v["key_label"];
    json job = {
        {"apiVersion", "batch/v1"},
        {"kind", "Job"},
        {"metadata",
         {{"name", v["k8s_name"]},
          {"labels", job_labels},
          {"annotations",
           {{"cairn.dev/key", key},
            {"cairn.dev/campaign", request.key.campaign},
            {"cairn.dev/stage", request.key.stage}}}}},
        {"spec", {{"backoffLimit", 0}, {"template", {{"metadata", {{"labels", labels}}}, {"spec", pod}}}}}};
    if (res.time_seconds) job["spec"]["activeDeadlineSeconds"] = *res.time_seconds;
    input = job.dump(2) + "\n";
  }

  auto r = CAIRN_TRY(call("submit", m_config.submit, v, {}, input));
  const std::string prog = m_config.submit.front();
  if (r.exit != 0) return classify_command_error(prog, r);
  return submit_id_from(m_config, prog, r.out);
}

Expected<std::map<std::string, JobStatus>> CommandScheduler::status(const std::vector<std::string>& job_ids) {
  std::map<std::string, JobStatus> out;
  if (job_ids.empty()) return out;
  auto jobs = CAIRN_TRY(query(job_ids));
  const std::set<std::string> wanted(job_ids.begin(), job_ids.end());
  for (auto& j : jobs) {
    if (wanted.count(j.status.job_id)) out[j.status.job_id] = std::move(j.status);
  }
  return out;
}

Expected<std::string> CommandScheduler::log_tail(const std::string& job_id, int lines) {
  const std::map<std::string, std::string> v = {{"job_id", job_id},
                                                {"lines", std::to_string(std::max(lines, 0))}};
  if (!m_config.logs.empty()) {
    auto r = CAIRN_TRY(call("logs", m_config.logs, v));
    if (r.exit != 0) return classify_command_error(m_config.logs.front(), r);
    // The template may ignore {lines}; the byte bound is the local backend's.
    return std::string(util::tail_lines(r.out, lines, util::kLogTailBytes));
  }
  auto jobs = CAIRN_TRY(query({job_id}));
  std::string path;
  for (const auto& j : jobs) {
    if (j.status.job_id == job_id && !j.log_path.empty()) path = j.log_path;
  }
  if (path.empty()) {
    return fail("no `logs` template, and " + m_config.status.front() + " names no log file for job " +
                job_id);
  }
  auto t = CAIRN_TRY(m_runner->run({"tail", "-n", v.at("lines"), "--", path}, "", m_config.timeout));
  std::string text(util::tail_lines(t.out, lines, util::kLogTailBytes));
  for (const auto& [n, line] : numbered_lines(t.err)) text += "[command] " + std::string(line) + "\n";
  return text;
}

Expected<void> CommandScheduler::cancel(const std::string& job_id) {
  if (job_id.empty()) return fail("cancel needs a job id", ExitCode::usage);
  auto r = CAIRN_TRY(call("cancel", m_config.cancel, {{"job_id", job_id}}));
  if (r.exit != 0) return classify_command_error(m_config.cancel.front(), r);
  return {};
}

}  // namespace cairn::sched
