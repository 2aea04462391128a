#include <cairn/sched/osmo.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include <cairn/parse/units.hpp>
#include <cairn/sched/names.hpp>
#include <cairn/sched/tool_error.hpp>
#include <cairn/util/number.hpp>
#include <cairn/util/strings.hpp>
#include <cairn/util/time.hpp>

namespace cairn::sched {

using engine::JobState;
using engine::JobStatus;
using engine::TaskStatus;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

using util::join;
using util::lower;
using util::to_int;
using util::trim;

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    auto p = text.find('\n');
    auto line = trim(text.substr(0, p));
    if (!line.empty()) out.push_back(line);
    if (p == std::string_view::npos) break;
    text.remove_prefix(p + 1);
  }
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

std::string collapse_spaces(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : trim(s)) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// OSMO prints counts as strings in pool list ("8") and as numbers elsewhere.
std::int64_t count_of(const json& j) {
  if (j.is_number_integer()) return j.get<std::int64_t>();
  if (j.is_number()) return util::to_int64(j.get<double>()).value_or(0);
  if (j.is_string()) return to_int(j.get<std::string>()).value_or(0);
  return 0;
}

std::string str_of(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

Expected<json> parse_json(std::string_view text, std::string_view what) {
  // The CLI may print a line before the JSON (warnings, "Workflow X has ..."): start at
  // the first brace.
  const auto start = text.find('{');
  if (start == std::string_view::npos) {
    return fail(std::string(what) + ": no JSON in the output", ExitCode::unreachable);
  }
  try {
    return json::parse(text.substr(start));
  } catch (const json::exception& e) {
    return fail(std::string(what) + ": output is not JSON: " + e.what(), ExitCode::unreachable);
  }
}

// "2026-05-09T09:01:30.000000" (UTC, as OSMO prints) -> time point; the fraction is
// dropped, a year a TimePoint cannot hold is no time.
std::optional<engine::TimePoint> parse_time(const json& j) {
  if (!j.is_string()) return std::nullopt;
  const std::string& s = j.get_ref<const std::string&>();
  if (s.size() < 19 || (s.size() > 19 && std::isdigit(static_cast<unsigned char>(s[19]))))
    return std::nullopt;
  return util::parse_time(std::string_view(s).substr(0, 19));
}

bool mentions_oom(std::string_view text) {
  return contains(text, "OOMKilled") || contains(text, "OOMKilling");
}

bool type_matches(const OsmoPool& p, std::string_view gpu_type) {
  if (gpu_type.empty()) return true;
  const std::string t = lower(gpu_type);
  if (contains(lower(p.name), t) || contains(lower(p.backend), t)) return true;
  return std::any_of(p.platforms.begin(), p.platforms.end(), [&](const auto& pl) {
    return contains(lower(pl.first), t) || contains(lower(pl.second), t);
  });
}

}  // namespace

// ---------------------------------------------------------------------------------------

Expected<OsmoConfig, SettingError> osmo_config_from(const BackendSettings& settings) {
  OsmoConfig c;
  auto get = [&](const char* key) -> const std::string* {
    auto it = settings.find(key);
    return it == settings.end() ? nullptr : &it->second;
  };
  if (const auto* v = get("pool")) c.pool = *v;
  if (const auto* v = get("osmo")) c.osmo = *v;
  if (const auto* v = get("label_key")) c.label_key = *v;
  if (const auto* v = get("priority")) {
    c.priority = upper(*v);
    if (c.priority != "HIGH" && c.priority != "NORMAL" && c.priority != "LOW") {
      return bad_setting("priority", "priority must be HIGH, NORMAL or LOW, not '" + *v + "'");
    }
  }
  if (const auto* v = get("max_attempts")) {
    auto n = to_int(*v);
    if (!n || *n < 1) {
      return bad_setting("max_attempts", "max_attempts must be a positive integer, not '" + *v + "'");
    }
    c.max_attempts = static_cast<int>(*n);
  }
  if (const auto* v = get("timeout_seconds")) {
    auto n = to_int(*v);
    if (!n || *n < 1) {
      return bad_setting("timeout_seconds", "timeout_seconds must be a positive integer, not '" + *v + "'");
    }
    c.timeout = std::chrono::seconds(*n);
  }
  return c;
}

Expected<std::vector<OsmoPool>> parse_pool_list(std::string_view text) {
  auto j = CAIRN_TRY(parse_json(text, "osmo pool list"));
  std::vector<OsmoPool> out;
  auto add = [&](const json& p) {
    if (!p.is_object()) return;
    OsmoPool pool;
    pool.name = str_of(p, "name");
    pool.status = str_of(p, "status");
    pool.backend = str_of(p, "backend");
    pool.default_platform = str_of(p, "default_platform");
    if (auto pl = p.find("platforms"); pl != p.end() && pl->is_object()) {
      for (const auto& [name, v] : pl->items()) pool.platforms.emplace_back(name, str_of(v, "description"));
    }
    if (auto u = p.find("resource_usage"); u != p.end() && u->is_object()) {
      auto field = [&](const char* key) { return u->contains(key) ? count_of((*u)[key]) : 0; };
      pool.quota_used = field("quota_used");
      pool.quota_free = field("quota_free");
      pool.quota_limit = field("quota_limit");
      pool.total_usage = field("total_usage");
      pool.total_capacity = field("total_capacity");
      pool.total_free = field("total_free");
    }
    if (!pool.name.empty()) out.push_back(std::move(pool));
  };
  // {"node_sets": [{"pools": [...]}, ...]}; older services answer {"pools": [...]}.
  if (auto ns = j.find("node_sets"); ns != j.end() && ns->is_array()) {
    for (const auto& set : *ns) {
      if (auto ps = set.find("pools"); ps != set.end() && ps->is_array()) {
        for (const auto& p : *ps) add(p);
      }
    }
  } else if (auto ps = j.find("pools"); ps != j.end()) {
    if (ps->is_array()) {
      for (const auto& p : *ps) add(p);
    } else if (ps->is_object()) {
      for (const auto& [name, p] : ps->items()) {
        add(p);
        if (!out.empty() && out.back().name.empty()) out.back().name = name;
      }
    }
  } else {
    return fail("osmo pool list: no node_sets or pools in the output", ExitCode::unreachable);
  }
  return out;
}

Expected<std::vector<OsmoNode>> parse_resource_list(std::string_view text) {
  auto j = CAIRN_TRY(parse_json(text, "osmo resource list"));
  auto rs = j.find("resources");
  if (rs == j.end() || !rs->is_array()) {
    return fail("osmo resource list: no resources in the output", ExitCode::unreachable);
  }
  std::vector<OsmoNode> out;
  for (const auto& r : *rs) {
    if (!r.is_object()) continue;
    OsmoNode n;
    n.hostname = str_of(r, "hostname");
    if (auto e = r.find("exposed_fields"); e != r.end() && e->is_object() && e->contains("gpu")) {
      n.gpus = static_cast<int>(count_of((*e)["gpu"]));
    }
    // What a workflow can still get on the node; platform_available_fields is the same
    // figure on services without the workflow-specific one.
    const json* avail = nullptr;
    for (const char* key : {"platform_workflow_allocatable_fields", "platform_available_fields"}) {
      if (auto a = r.find(key); a != r.end() && a->is_object()) {
        avail = &*a;
        break;
      }
    }
    if (avail != nullptr) {
      for (const auto& [pool, platforms] : avail->items()) {
        if (!platforms.is_object()) continue;
        for (const auto& [platform, fields] : platforms.items()) {
          n.free_gpus[pool][platform] =
              fields.is_object() && fields.contains("gpu") ? static_cast<int>(count_of(fields["gpu"])) : 0;
        }
      }
    }
    out.push_back(std::move(n));
  }
  return out;
}

Expected<PoolChoice> choose_pool(const std::vector<OsmoPool>& pools, const std::vector<OsmoNode>& nodes,
                                 int gpus, std::string_view gpu_type, std::string_view priority) {
  const bool low = upper(priority) == "LOW";
  struct Fit {
    const OsmoPool* pool;
    bool verified;
    int best_node;  // most GPUs free on one node (verified only)
  };
  std::vector<Fit> fit;
  std::vector<std::string> rejected;
  std::vector<std::string> quota_only;
  for (const auto& p : pools) {
    std::string why;
    // Largest number of GPUs free on one node for this pool, over its platforms.
    std::optional<int> best_node;
    for (const auto& n : nodes) {
      auto it = n.free_gpus.find(p.name);
      if (it == n.free_gpus.end()) continue;
      for (const auto& [platform, free] : it->second) best_node = std::max(best_node.value_or(0), free);
    }
    const bool capacity = best_node ? *best_node >= gpus : p.total_free >= gpus;
    const bool quota = low || p.quota_limit < 0 || p.quota_free >= gpus;
    if (p.status != "ONLINE") {
      why = "status " + (p.status.empty() ? std::string("unknown") : p.status);
    } else if (!type_matches(p, gpu_type)) {
      std::vector<std::string> names;
      for (const auto& pl : p.platforms) names.push_back(pl.first);
      why = "no " + std::string(gpu_type) + " platform (" + join(names, ", ") + ")";
    } else if (!capacity) {
      why = best_node ? "at most " + std::to_string(*best_node) + " GPU(s) free on one node < " +
                            std::to_string(gpus)
                      : std::to_string(p.total_free) + " GPU(s) free in the pool < " + std::to_string(gpus);
    } else if (!quota) {
      why = "quota " + std::to_string(p.quota_free) + " of " + std::to_string(p.quota_limit) +
            " GPU(s) free < " + std::to_string(gpus);
      quota_only.push_back(p.name + " (capacity free, " + why + ")");
    }
    if (why.empty()) {
      fit.push_back({&p, best_node.has_value(), best_node.value_or(0)});
    } else {
      rejected.push_back(p.name + " (" + why + ")");
    }
  }
  const std::string want =
      std::to_string(gpus) + " GPU(s)" + (gpu_type.empty() ? "" : " of type " + std::string(gpu_type));
  if (fit.empty()) {
    std::string message =
        "no OSMO pool fits " + want +
        (rejected.empty() ? std::string(": osmo pool list showed none") : ": " + join(rejected, ", "));
    if (!quota_only.empty()) {
      message +=
          ". Only quota blocks " + join(quota_only, ", ") +
          ": set `priority: LOW` on the osmo backend in cairn.yaml to run on idle capacity beyond the quota "
          "(LOW workflows may be preempted), or wait for quota";
    }
    return fail(message);
  }
  std::stable_sort(fit.begin(), fit.end(), [](const Fit& a, const Fit& b) {
    if (a.verified != b.verified) return a.verified;
    if (a.pool->quota_free != b.pool->quota_free) return a.pool->quota_free > b.pool->quota_free;
    if (a.pool->total_free != b.pool->total_free) return a.pool->total_free > b.pool->total_free;
    return a.pool->name < b.pool->name;
  });
  const Fit& best = fit.front();
  std::string reason = "pool " + best.pool->name + " for " + want + ": ONLINE";
  if (best.verified) {
    reason += ", " + std::to_string(best.best_node) + " GPU(s) free on one node";
  } else {
    reason += ", " + std::to_string(best.pool->total_free) +
              " GPU(s) free in the pool (per-node capacity unverified)";
  }
  reason += ", quota " + std::to_string(best.pool->quota_free) + "/" +
            std::to_string(best.pool->quota_limit) + " free";
  if (low) reason += " (LOW priority: quota not required)";
  std::vector<std::string> others;
  for (std::size_t i = 1; i < fit.size(); ++i) others.push_back(fit[i].pool->name);
  others.insert(others.end(), rejected.begin(), rejected.end());
  if (!others.empty()) reason += "; also considered " + join(others, ", ");
  return PoolChoice{best.pool->name, reason};
}

JobState map_osmo_status(std::string_view status) {
  static const std::map<std::string, JobState, std::less<>> kStates = {
      {"PENDING", JobState::pending},
      {"SUBMITTING", JobState::pending},
      {"WAITING", JobState::pending},
      {"PROCESSING", JobState::pending},
      {"SCHEDULING", JobState::pending},
      {"INITIALIZING", JobState::pending},
      // A task that was rescheduled has a successor on its way.
      {"RESCHEDULED", JobState::pending},
      {"RUNNING", JobState::running},
      {"COMPLETED", JobState::completed},
      {"FAILED", JobState::failed},
      {"FAILED_SUBMISSION", JobState::failed},
      {"FAILED_UPSTREAM", JobState::failed},
      {"FAILED_IMAGE_PULL", JobState::failed},
      {"FAILED_START_ERROR", JobState::failed},
      {"FAILED_START_TIMEOUT", JobState::failed},
      // Memory or storage over the limit; the failure message and events tell which.
      {"FAILED_EVICTED", JobState::failed},
      // Sat in the queue too long: not a run time limit, doubling walltime would not help.
      {"FAILED_QUEUE_TIMEOUT", JobState::failed},
      {"FAILED_EXEC_TIMEOUT", JobState::timeout},
      {"FAILED_CANCELED", JobState::cancelled},
      {"FAILED_CANCELLED", JobState::cancelled},
      {"FAILED_PREEMPTED", JobState::preempted},
      // Infrastructure, not the workload: a resubmit is the right answer.
      {"FAILED_BACKEND_ERROR", JobState::node_fail},
      {"FAILED_SERVER_ERROR", JobState::node_fail},
  };
  auto it = kStates.find(upper(trim(status)));
  return it == kStates.end() ? JobState::unknown : it->second;
}

Expected<JobStatus> parse_workflow_query(std::string_view text) {
  auto j = CAIRN_TRY(parse_json(text, "osmo workflow query"));
  const std::string wf_status = str_of(j, "status");
  if (wf_status.empty()) return fail("osmo workflow query: no status in the output", ExitCode::unreachable);
  JobStatus js;
  js.job_id = str_of(j, "name");
  if (auto g = j.find("groups"); g != j.end() && g->is_array()) {
    for (const auto& group : *g) {
      const std::string gname = str_of(group, "name");
      auto ts = group.find("tasks");
      if (ts == group.end() || !ts->is_array()) continue;
      for (const auto& task : *ts) {
        TaskStatus t;
        t.index = (gname.empty() ? "" : gname + "/") + str_of(task, "name");
        const std::string st = str_of(task, "status");
        t.state = map_osmo_status(st);
        if (auto e = task.find("exit_code"); e != task.end() && e->is_number())
          t.exit_code = static_cast<int>(count_of(*e));
        if (!t.exit_code && t.state == JobState::completed) t.exit_code = 0;
        const std::string message = str_of(task, "failure_message");
        if (t.state == JobState::failed && mentions_oom(message)) t.state = JobState::out_of_memory;
        t.reason = st + (message.empty() ? "" : ": " + message);
        js.tasks.push_back(std::move(t));
      }
    }
  }
  engine::summarize_tasks(js);
  const JobState wf_state = map_osmo_status(wf_status);
  // The workflow's status is the service's verdict; a plain FAILED is made precise by
  // the tasks (OOMKilled, preempted...), any other state is taken as is.
  if (wf_status == "FAILED") {
    if (!is_final(js.state) || js.state == JobState::completed) js.state = JobState::failed;
  } else {
    js.state = wf_state;
  }
  std::vector<std::string> reasons = {wf_status};
  if (auto g = j.find("groups"); g != j.end() && g->is_array()) {
    for (const auto& group : *g) {
      const std::string m = str_of(group, "failure_message");
      if (!m.empty()) reasons.push_back(str_of(group, "name") + ": " + m);
    }
  }
  if (reasons.size() == 1) {
    for (const auto& t : js.tasks) {
      if (t.state != JobState::completed && t.reason.find(": ") != std::string::npos)
        reasons.push_back(t.index + " " + t.reason);
    }
  }
  js.reason = join(reasons, "; ");
  js.submitted = parse_time(j.value("submit_time", json()));
  js.started = parse_time(j.value("start_time", json()));
  js.ended = parse_time(j.value("end_time", json()));
  js.pool = str_of(j, "pool");
  js.link = str_of(j, "overview");
  return js;
}

std::optional<OsmoSubmitted> parse_submit_response(std::string_view text) {
  OsmoSubmitted out;
  if (auto brace = text.find('{'); brace != std::string_view::npos) {
    try {
      auto j = json::parse(text.substr(brace));
      for (const char* key : {"name", "workflow_id", "id"}) {
        if (out.id.empty()) out.id = str_of(j, key);
      }
      out.overview = str_of(j, "overview");
      out.dashboard = str_of(j, "dashboard_url");
      if (!out.id.empty()) return out;
    } catch (const json::exception&) {
      // not JSON: the text form below
    }
  }
  // "Workflow ID        - gr00t-train-1": the value follows the first '-' or ':' after
  // the label (a URL's own ':' comes later).
  auto value = [](std::string_view line, std::string_view label) -> std::string {
    if (line.rfind(label, 0) != 0) return {};
    auto rest = line.substr(label.size());
    auto sep = rest.find_first_of("-:");
    if (sep == std::string_view::npos || !trim(rest.substr(0, sep)).empty()) return {};
    return std::string(trim(rest.substr(sep + 1)));
  };
  for (auto line : lines_of(text)) {
    if (auto v = value(line, "Workflow ID"); !v.empty()) out.id = v;
    if (auto v = value(line, "Workflow Overview"); !v.empty()) out.overview = v;
    if (auto v = value(line, "Workflow Dashboard"); !v.empty()) out.dashboard = v;
  }
  if (out.id.empty()) return std::nullopt;
  return out;
}

std::optional<std::string> parse_submit_output(std::string_view text) {
  auto r = parse_submit_response(text);
  if (!r) return std::nullopt;
  return r->id;
}

namespace {

// OSMO expands `{{name}}` before it reads the YAML, so `memory: {{memory}}` is valid for
// it while YAML reads a flow mapping: quote such values first.
std::string quote_bare_templates(std::string_view yaml) {
  static const RE2 kBare(R"(^(\s*[A-Za-z0-9_-]+:\s*)(\{\{[^'"\n]*\}\}[^'"\s#]*)\s*$)");
  std::string out;
  for (auto rest = yaml; !rest.empty();) {
    const auto nl = rest.find('\n');
    std::string line(rest.substr(0, nl));
    RE2::Replace(&line, kBare, R"(\1"\2")");
    out += line;
    if (nl == std::string_view::npos) break;
    out += '\n';
    rest.remove_prefix(nl + 1);
  }
  return out;
}

YAML::Node load_workflow(std::string_view yaml) {
  return YAML::Load(quote_bare_templates(yaml));
}

}  // namespace

engine::SpecInfo inspect_workflow(std::string_view yaml, const std::string& file) {
  static const RE2 kVariable(R"(\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\})");
  static const std::map<std::string, std::string> kFields = {
      {"cpu", "cpus"}, {"gpu", "gpus"}, {"memory", "mem"}, {"storage", "storage"}};
  engine::SpecInfo info;
  info.owns_resources = true;
  info.file = file;
  info.outputs = workflow_outputs(yaml);
  try {
    const YAML::Node resources = load_workflow(yaml)["workflow"]["resources"];
    if (!resources || !resources.IsMap()) return info;
    for (const auto& spec : resources) {
      if (!spec.second.IsMap()) continue;
      const std::string name = spec.first.as<std::string>();
      for (const auto& field : spec.second) {
        const auto kind = kFields.find(field.first.as<std::string>());
        if (kind == kFields.end() || !field.second.IsScalar()) continue;
        engine::ResourceBinding b;
        b.resource = kind->second;
        b.key = "resources." + name + "." + kind->first;
        b.value = field.second.as<std::string>();
        if (std::string v; RE2::PartialMatch(b.value, kVariable, &v)) b.variable = std::move(v);
        info.bindings.push_back(std::move(b));
      }
    }
  } catch (const YAML::Exception&) {
    // What OSMO accepts is its call; cairn just knows nothing about the resources.
  }
  return info;
}

std::optional<std::string> workflow_name_variable(std::string_view yaml) {
  static const RE2 kVariable(R"(\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\})");
  std::string name;
  try {
    const YAML::Node node = load_workflow(yaml)["workflow"]["name"];
    if (!node || !node.IsScalar()) return std::nullopt;
    name = node.as<std::string>();
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
  re2::StringPiece rest(name);
  std::string variable, another;
  if (!RE2::FindAndConsume(&rest, kVariable, &variable)) return std::nullopt;
  // Two variables: cairn could set only one of them, and would not know the name.
  if (RE2::FindAndConsume(&rest, kVariable, &another) || name.find("{{") != name.rfind("{{")) {
    return std::nullopt;
  }
  return variable;
}

std::vector<std::string> workflow_outputs(std::string_view yaml) {
  std::vector<std::string> out;
  auto add = [&](std::string v) {
    if (!v.empty() && std::find(out.begin(), out.end(), v) == out.end()) out.push_back(std::move(v));
  };
  try {
    const YAML::Node tasks = load_workflow(yaml)["workflow"]["tasks"];
    if (!tasks || !tasks.IsSequence()) return out;
    for (const auto& task : tasks) {
      const YAML::Node outputs = task["outputs"];
      if (!outputs || !outputs.IsSequence()) continue;
      for (const auto& o : outputs) {
        if (!o.IsMap()) continue;
        if (o["url"] && o["url"].IsScalar()) add(o["url"].as<std::string>());
        const YAML::Node ds = o["dataset"];
        if (ds && ds.IsMap() && ds["name"] && ds["name"].IsScalar())
          add("dataset " + ds["name"].as<std::string>());
      }
    }
  } catch (const YAML::Exception&) {
    return {};
  }
  return out;
}

std::vector<std::string> event_warnings(std::string_view events) {
  std::vector<std::string> out;
  for (auto line : lines_of(events)) {
    std::string l = collapse_spaces(line);
    // "<time> Warning <Reason> <message>"
    auto sp = l.find(' ');
    if (sp != std::string::npos && l.compare(sp + 1, 8, "Warning ") == 0) out.push_back(std::move(l));
  }
  return out;
}

std::string blocking_event(std::string_view events) {
  static const RE2 kPerNode(R"(requested (\d+), max per node (\d+))");
  const auto warnings = event_warnings(events);
  // An image pull that backs off: the registry's own words ("manifest unknown",
  // "unauthorized") are in the "Failed to pull image" line, so keep every pull line.
  if (std::any_of(warnings.begin(), warnings.end(), [](const std::string& w) {
        return contains(w, "ImagePullBackOff") || contains(w, "ErrImagePull");
      })) {
    std::vector<std::string> pull;
    for (const auto& w : warnings) {
      if ((contains(w, "pull image") || contains(w, "ImagePull")) &&
          std::find(pull.begin(), pull.end(), w) == pull.end()) {
        pull.push_back(w);
      }
    }
    return join(pull, " / ");
  }
  // Digits compared as numbers of any length: an event may say 99999999999999999999.
  auto greater = [](std::string_view a, std::string_view b) {
    while (a.size() > 1 && a.front() == '0') a.remove_prefix(1);
    while (b.size() > 1 && b.front() == '0') b.remove_prefix(1);
    return a.size() != b.size() ? a.size() > b.size() : a > b;
  };
  for (const auto& w : warnings) {
    re2::StringPiece requested, per_node;
    if (contains(w, "FailedScheduling") && RE2::PartialMatch(w, kPerNode, &requested, &per_node) &&
        greater(std::string_view(requested.data(), requested.size()),
                std::string_view(per_node.data(), per_node.size()))) {
      return w;
    }
  }
  return {};
}

std::optional<engine::CapacityRefusal> parse_capacity_error(std::string_view text) {
  static const RE2 kPool(R"(in pool '([^']+)')");
  static const RE2 kRow(R"(^\s*(gpu|cpu|memory|storage)\s+(\S+)\s+(\S+)\s*$)");
  static const std::map<std::string, std::string> kResource = {
      {"cpu", "cpus"}, {"gpu", "gpus"}, {"memory", "mem"}, {"storage", "storage"}};
  if (!contains(text, "capacity validation")) return std::nullopt;
  engine::CapacityRefusal out;
  if (std::string pool; RE2::PartialMatch(text, kPool, &pool)) out.pool = std::move(pool);
  // A size in MiB when it is one ("2000Gi"), else a plain number ("300", "0.5").
  auto amount = [](const std::string& v) -> std::optional<double> {
    if (auto mb = parse::parse_mem_mb(v)) return static_cast<double>(*mb);
    double d = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
    return d;
  };
  for (auto line : lines_of(text)) {
    std::string name, requested, capacity;
    if (!RE2::FullMatch(std::string(line), kRow, &name, &requested, &capacity)) continue;
    const auto r = amount(requested);
    const auto c = amount(capacity);
    const bool over = r && c && *r > *c;
    auto same = std::find_if(out.limits.begin(), out.limits.end(),
                             [&](const engine::CapacityLimit& l) { return l.name == name; });
    if (same != out.limits.end()) {
      // Another task of the workflow: the largest request is the one to fit.
      if (over && (!same->over || amount(same->requested).value_or(0) < *r)) {
        same->requested = requested;
        same->capacity = capacity;
        same->over = true;
      }
      continue;
    }
    out.limits.push_back({kResource.at(name), name, requested, capacity, over});
  }
  if (out.limits.empty()) return std::nullopt;
  return out;
}

// ---------------------------------------------------------------------------------------

OsmoScheduler::OsmoScheduler(std::unique_ptr<CommandRunner> runner, OsmoConfig config)
    : m_runner(std::move(runner)), m_config(std::move(config)) {}

Expected<CommandResult> OsmoScheduler::call(const std::vector<std::string>& argv) {
  return m_runner->run(argv, "", m_config.timeout);
}

std::string OsmoScheduler::state_file(const std::string& campaign_dir, const engine::JobKey& key) {
  return campaign_dir + "/.cairn/osmo/" + key.str();
}

std::string OsmoScheduler::spec_file(const engine::SubmitRequest& request) {
  const std::string& run = request.spec.run;
  return !run.empty() && run.front() == '/' ? run : request.campaign_dir + "/" + run;
}

std::vector<std::string> OsmoScheduler::submit_notes(const std::string& job_id) const {
  auto it = m_notes.find(job_id);
  return it == m_notes.end() ? std::vector<std::string>() : it->second;
}

std::optional<engine::CapacityRefusal> OsmoScheduler::capacity_refusal(const engine::JobKey& key) const {
  auto it = m_refusals.find(key.str());
  if (it == m_refusals.end()) return std::nullopt;
  return it->second;
}

std::optional<engine::SpecInfo> OsmoScheduler::inspect(const engine::SubmitRequest& request) const {
  if (request.spec.run.empty()) return std::nullopt;
  std::ifstream in(spec_file(request), std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return inspect_workflow(text.str(), request.spec.run);
}

namespace {

std::optional<std::string> read_state(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string id;
  std::getline(in, id);
  auto t = trim(id);
  if (t.empty()) return std::nullopt;
  return std::string(t);
}

}  // namespace

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Why a tick on another machine cannot find this workflow, and the YAML key to template
// so it can.
std::string hard_coded_name_note(const std::string& file, std::string_view yaml, const engine::JobKey& key) {
  std::string name;
  try {
    if (const YAML::Node n = load_workflow(yaml)["workflow"]["name"]; n && n.IsScalar())
      name = n.as<std::string>();
  } catch (const YAML::Exception&) {
    // named below as "its own name"
  }
  return "Note: " + file + " hard-codes workflow.name" + (name.empty() ? "" : " " + name) +
         ": only .cairn/osmo/ in this checkout ties the workflow to job " + key.str() +
         ", so a tick elsewhere that finds no record resubmits; make it `name: \"{{workflow_name}}\"` and "
         "cairn "
         "names the workflow " +
         osmo_workflow_name(key.str()) + " and finds it in OSMO";
}

}  // namespace

Expected<std::optional<std::string>> OsmoScheduler::find_by_label(const engine::JobKey& key) {
  auto r = CAIRN_TRY(
      call({m_config.osmo, "workflow", "list", "--label", m_config.label_key + "=" + label_value(key.str()),
            "--count", "1", "--order", "desc", "--format-type", "json"}));
  if (r.exit != 0) return fail(classify_tool_error("osmo workflow list", r).message, ExitCode::unreachable);
  auto j = CAIRN_TRY(parse_json(r.out, "osmo workflow list"));
  auto ws = j.find("workflows");
  if (ws == j.end() || !ws->is_array() || ws->empty()) return std::optional<std::string>();
  const std::string name = str_of(ws->front(), "name");
  if (name.empty()) return std::optional<std::string>();
  return std::optional<std::string>(name);
}

Expected<std::optional<std::string>> OsmoScheduler::find_by_name(const engine::JobKey& key) {
  const std::string name = osmo_workflow_name(key.str());
  // `--name` lists the workflows whose name contains the string, newest first with
  // `--order desc`, and only the caller's own (OSMO lists every user's only with
  // `--all-users`): osmo workflow list in OSMO's CLI reference. The name is hashed, so
  // it is contained in no other key's name (names.hpp).
  auto r = CAIRN_TRY(call({m_config.osmo, "workflow", "list", "--name", name, "--count", "10", "--order",
                           "desc", "--format-type", "json"}));
  if (r.exit != 0) return fail(classify_tool_error("osmo workflow list", r).message, ExitCode::unreachable);
  auto j = CAIRN_TRY(parse_json(r.out, "osmo workflow list"));
  auto ws = j.find("workflows");
  if (ws == j.end() || !ws->is_array()) return std::optional<std::string>();
  for (const auto& w : *ws) {
    // The service's filter is its own; only a name made of the key's is this key's.
    if (std::string id = str_of(w, "name"); contains(id, name)) return std::optional<std::string>(id);
  }
  return std::optional<std::string>();
}

Expected<std::optional<std::string>> OsmoScheduler::find(const engine::JobKey& key) {
  for (const auto& dir : m_campaign_dirs) {
    if (auto id = read_state(state_file(dir, key))) return std::optional<std::string>(*id);
  }
  if (!m_config.label_key.empty()) return find_by_label(key);
  return find_by_name(key);
}

Expected<std::pair<std::string, std::string>> OsmoScheduler::pick_pool(const engine::SubmitRequest& request) {
  const doc::StageSpec& spec = request.spec;
  if (!spec.pool.empty()) return std::pair{spec.pool, std::string("the stage's `pool:`")};
  if (!m_config.pool.empty()) {
    return std::pair{m_config.pool, std::string("the osmo backend's `pool:` in cairn.yaml")};
  }
  auto p = CAIRN_TRY(call({m_config.osmo, "pool", "list", "--format-type", "json"}));
  if (p.exit != 0) return classify_tool_error("osmo pool list", p);
  auto pools = CAIRN_TRY(parse_pool_list(p.out));
  std::string not_kept;
  if (const std::string& first = request.first_pool; !first.empty()) {
    auto it =
        std::find_if(pools.begin(), pools.end(), [&](const OsmoPool& pool) { return pool.name == first; });
    if (it != pools.end() && upper(it->status) == "ONLINE") {
      return std::pair{first,
                       std::string("the pool of the stage's first attempt, as the failure log records it")};
    }
    not_kept = "the first attempt's pool " + first +
               (it == pools.end() ? " is no longer in `osmo pool list`" : " is " + it->status) + "; ";
  }
  auto r = CAIRN_TRY(call({m_config.osmo, "resource", "list", "--format-type", "json"}));
  if (r.exit != 0) return classify_tool_error("osmo resource list", r);
  auto nodes = CAIRN_TRY(parse_resource_list(r.out));
  auto choice = CAIRN_TRY(choose_pool(pools, nodes, spec.resources.gpus.value_or(0), spec.resources.gpu_type,
                                      !spec.priority.empty() ? spec.priority : m_config.priority));
  m_choice_reason = not_kept + choice.reason;
  return std::pair{choice.pool, not_kept + "chosen: " + choice.reason};
}

Expected<std::string> OsmoScheduler::submit(const engine::SubmitRequest& request) {
  const auto& key = request.key;
  const std::string state = state_file(request.campaign_dir, key);
  if (std::find(m_campaign_dirs.begin(), m_campaign_dirs.end(), request.campaign_dir) ==
      m_campaign_dirs.end()) {
    m_campaign_dirs.push_back(request.campaign_dir);
  }
  if (auto id = read_state(state)) return *id;
  if (!m_config.label_key.empty()) {
    if (auto existing = CAIRN_TRY(find_by_label(key))) return *existing;
  }
  if (key.attempt > m_config.max_attempts) {
    return fail("attempt " + std::to_string(key.attempt) + " of " + key.campaign + "/" + key.stage +
                " exceeds the osmo backend's max_attempts " + std::to_string(m_config.max_attempts) +
                ": a human should look at the failures before another submit");
  }
  if (request.spec.run.empty()) return fail("stage " + key.stage + " has no run: workflow YAML for osmo");
  const std::string file = spec_file(request);
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return fail("workflow spec " + file + " does not exist");

  const auto [pool, why] = CAIRN_TRY(pick_pool(request));
  // The file goes to the CLI by path and is never opened for writing here: the user's
  // YAML is what runs. Template values travel as --set, like a person would pass them.
  std::vector<std::string> argv = {m_config.osmo, "workflow", "submit", file, "--pool", pool};
  const std::string yaml = read_file(file);
  const auto name_variable = workflow_name_variable(yaml);
  for (const auto& [k, v] : request.spec.set) {
    if (k == name_variable) continue;  // the name is the key's, below
    argv.push_back("--set");
    argv.push_back(k + "=" + v);
  }
  // A templated name becomes the key's OSMO name (OSMO's --set fills `{{ field }}` of the
  // YAML, and the workflow id is that name plus "-<counter>": Templates and Tokens in
  // OSMO's user guide), so find_by_name() finds the workflow from OSMO alone.
  if (name_variable) {
    argv.push_back("--set");
    argv.push_back(*name_variable + "=" + osmo_workflow_name(key.str()));
  }
  // The stage's own priority (a `priority=LOW` fix writes it) wins over the backend's.
  if (const std::string& priority =
          !request.spec.priority.empty() ? request.spec.priority : m_config.priority;
      !priority.empty()) {
    argv.push_back("--priority");
    argv.push_back(priority);
  }
  if (!m_config.label_key.empty()) {
    argv.push_back("--label");
    argv.push_back(m_config.label_key + "=" + label_value(key.str()));
  }
  argv.push_back("--format-type");
  argv.push_back("json");
  auto r = CAIRN_TRY(call(argv));
  if (r.exit != 0 || contains(r.out, "submit failed") || contains(r.out, "ERROR:")) {
    // A request beyond one node of the pool: kept as a table, for the engine to size the
    // job down (on a validation error, adjust the resources and resubmit).
    if (auto refusal = parse_capacity_error(r.out + "\n" + r.err)) {
      if (refusal->pool.empty()) refusal->pool = pool;
      m_refusals[key.str()] = std::move(*refusal);
    }
    return classify_tool_error("osmo workflow submit", r);
  }
  auto answer = parse_submit_response(r.out);
  if (!answer)
    return fail("osmo workflow submit printed no workflow id: " + tool_error_text(r), ExitCode::unreachable);
  const std::string& id = answer->id;
  // What a submit reports for the commit: the pool, the web link, what the workflow will produce.
  std::vector<std::string> notes = {"Pool: " + pool + " (" + why + ")"};
  if (!answer->overview.empty()) notes.push_back("Overview: " + answer->overview);
  if (!answer->dashboard.empty()) notes.push_back("Dashboard: " + answer->dashboard);
  if (auto info = inspect(request); info && !info->outputs.empty()) {
    notes.push_back("Outputs: " + join(info->outputs, ", "));
  }
  if (!name_variable && m_config.label_key.empty()) {
    notes.push_back(hard_coded_name_note(request.spec.run, yaml, key));
  }
  m_notes[id] = std::move(notes);

  // Recorded before returning so a tick killed before its commit adopts this workflow.
  // A write failure only loses that protection: the workflow runs and the engine still
  // records its id in WORKFLOW.md, so it is not turned into a submit failure.
  fs::create_directories(fs::path(state).parent_path(), ec);
  if (!ec) {
    std::ofstream out(state + ".tmp", std::ios::binary | std::ios::trunc);
    out << id << "\n";
    out.close();
    if (out) fs::rename(state + ".tmp", state, ec);
  }
  return id;
}

Expected<std::map<std::string, JobStatus>> OsmoScheduler::status(const std::vector<std::string>& job_ids) {
  std::map<std::string, JobStatus> out;
  for (const auto& id : job_ids) {
    auto r = CAIRN_TRY(call({m_config.osmo, "workflow", "query", id, "--format-type", "json"}));
    if (r.exit != 0) {
      auto e = classify_tool_error("osmo workflow query " + id, r);
      if (e.exit == ExitCode::unreachable) return e;
      continue;  // OSMO does not know it (or will not say): unknown, retry next tick
    }
    auto parsed = parse_workflow_query(r.out);
    if (!parsed) continue;
    JobStatus js = std::move(*parsed);
    js.job_id = id;
    if (js.state == JobState::pending) {
      auto ev = call({m_config.osmo, "workflow", "events", id});
      if (ev && ev->exit == 0) {
        if (auto blocking = blocking_event(ev->out); !blocking.empty()) {
          js.state = JobState::failed;
          js.reason = "PENDING, cannot start: " + blocking +
                      " (the workflow stays PENDING in OSMO until `osmo workflow cancel " + id + "`)";
        } else if (auto warnings = event_warnings(ev->out); !warnings.empty()) {
          js.reason += "; " + warnings.back();
        }
      }
    }
    out[id] = std::move(js);
  }
  return out;
}

Expected<std::string> OsmoScheduler::log_tail(const std::string& job_id, int lines) {
  auto q = CAIRN_TRY(call({m_config.osmo, "workflow", "query", job_id, "--format-type", "json"}));
  if (q.exit != 0) return classify_tool_error("osmo workflow query " + job_id, q);
  auto js = CAIRN_TRY(parse_workflow_query(q.out));
  const std::string n = std::to_string(std::max(lines, 0));

  std::vector<const TaskStatus*> failed;
  for (const auto& t : js.tasks) {
    if (is_final(t.state) && t.state != JobState::completed) failed.push_back(&t);
  }
  std::string text;
  auto append = [&](const std::string& header, const CommandResult& r) {
    if (!header.empty()) text += header + "\n";
    text += r.out;
    if (!text.empty() && text.back() != '\n') text += '\n';
    for (auto line : lines_of(r.err)) text += "[osmo] " + std::string(line) + "\n";
  };
  if (failed.empty() || js.tasks.size() <= 1) {
    auto l = CAIRN_TRY(call({m_config.osmo, "workflow", "logs", job_id, "-n", n}));
    append("", l);
  } else {
    for (const auto* t : failed) {
      const std::string task = t->index.substr(t->index.find('/') + 1);
      auto l = CAIRN_TRY(call({m_config.osmo, "workflow", "logs", job_id, "--task", task, "-n", n}));
      append("==> task " + t->index + " <==", l);
    }
  }
  auto ev = CAIRN_TRY(call({m_config.osmo, "workflow", "events", job_id}));
  append("==> events <==", ev);
  for (const auto& t : js.tasks) {
    text += "[osmo] task " + t.index + ": " + t.reason;
    if (t.exit_code) text += " exit=" + std::to_string(*t.exit_code);
    text += "\n";
  }
  text += "[osmo] workflow " + job_id + ": " + js.reason + "\n";
  return text;
}

Expected<std::string> OsmoScheduler::output(const std::string& job_id, int lines) {
  auto l =
      CAIRN_TRY(call({m_config.osmo, "workflow", "logs", job_id, "-n", std::to_string(std::max(lines, 0))}));
  std::string text = l.out;
  if (!text.empty() && text.back() != '\n') text += '\n';
  for (auto line : lines_of(l.err)) text += "[osmo] " + std::string(line) + "\n";
  return text;
}

Expected<void> OsmoScheduler::cancel(const std::string& job_id) {
  if (job_id.empty() || job_id.find(' ') != std::string::npos) {
    return fail("cancel takes exactly one workflow id, got '" + job_id + "'", ExitCode::usage);
  }
  auto r = CAIRN_TRY(call({m_config.osmo, "workflow", "cancel", job_id}));
  // The CLI reports a refused cancel on stdout and still exits 0.
  if (r.exit != 0 || contains(r.out, "cancelation failed"))
    return classify_tool_error("osmo workflow cancel", r);
  return {};
}

}  // namespace cairn::sched
