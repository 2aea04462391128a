// CommandScheduler: the engine's Scheduler over command templates; what differs between
// schedulers is asked of the backend's Preset.

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>
#include <utility>

#include <fmt/format.h>

#include <cairn/sched/command/parsing.hpp>
#include <cairn/sched/command/preset.hpp>
#include <cairn/sched/command/template.hpp>
#include <cairn/sched/names.hpp>
#include <cairn/sched/tool_error.hpp>
#include <cairn/util/fs.hpp>

namespace cairn::sched {

using engine::JobStatus;
using namespace command;

namespace {

std::string format_hms(std::int64_t seconds) {
  if (seconds < 0) seconds = 0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(seconds / 3600),
                static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60));
  return buf;
}

}  // namespace

Expected<std::string> submit_id_from(const CommandBackendConfig& config, const std::string& prog,
                                     std::string_view out) {
  std::string id;
  if (!config.submit_regex.empty()) {
    id = first_group(config.submit_regex, out);
  } else {
    id = CAIRN_TRY(preset_or_jsonl(config.preset).submit_id(prog, out));
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
    return preset_or_jsonl(preset).parse_status(text, now);
  } catch (const json::exception& e) {
    return fail(fmt::format("{} status: unexpected JSON: {}", preset.empty() ? "command" : preset, e.what()));
  }
}

// ---------------------------------------------------------------------------------------

CommandScheduler::CommandScheduler(std::unique_ptr<CommandRunner> runner, CommandBackendConfig config)
    : m_runner(std::move(runner)), m_config(std::move(config)), m_preset(preset_or_jsonl(m_config.preset)) {
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
  return m_preset.outputs_are_files(m_config.vars);
}

Expected<std::string> CommandScheduler::login_user() {
  if (!m_user.empty()) return m_user;
  auto r = CAIRN_TRY(m_runner->run({"id", "-un"}, "", m_config.timeout));
  const auto ls = numbered_lines(r.out);
  if (r.exit != 0 || ls.size() != 1 || ls.front().second.find_first_of(" \t,") != std::string_view::npos) {
    return fail("cannot tell which user runs the commands: `id -un` said " + tool_error_text(r),
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
  if (uses_placeholder(tmpl, "user")) all["user"] = CAIRN_TRY(login_user());
  auto argv = expand_command_template(tmpl, all, job_ids);
  if (!argv) return fail(std::string(what) + " template: " + argv.error().message, ExitCode::usage);
  if (argv->empty() || argv->front().empty())
    return fail(std::string(what) + " template expands to no program", ExitCode::usage);
  return m_runner->run(*argv, input, m_config.timeout);
}

Expected<CommandResult> CommandScheduler::call_find(const engine::JobKey& key) {
  const std::string name = key.str();
  auto r = CAIRN_TRY(call("find", m_config.find,
                          {{"key", name},
                           {"key_label", label_value(name)},
                           {"campaign", key.campaign},
                           {"stage", key.stage},
                           {"attempt", std::to_string(key.attempt)}}));
  if (r.exit != 0 && !m_preset.partial_answer(r)) return classify_tool_error(m_config.find.front(), r);
  return r;
}

Expected<std::vector<CommandJob>> CommandScheduler::query(const std::vector<std::string>& job_ids) {
  auto r = CAIRN_TRY(call("status", m_config.status, {}, job_ids));
  if (r.exit != 0 && !m_preset.partial_answer(r)) return classify_tool_error(m_config.status.front(), r);
  auto jobs = parse_command_status(m_config.preset, r.out, now());
  if (!jobs) return fail(m_config.status.front() + ": " + jobs.error().message);
  return jobs;
}

Expected<std::optional<std::string>> CommandScheduler::find(const engine::JobKey& key) {
  const std::string name = key.str();
  std::optional<std::string> found;
  if (m_config.find.empty() || m_preset.find_answers_as_status()) {
    std::vector<CommandJob> jobs;
    if (m_config.find.empty()) {
      jobs = CAIRN_TRY(query({}));
    } else {
      auto r = CAIRN_TRY(call_find(key));
      jobs = CAIRN_TRY(parse_command_status(m_config.preset, r.out, now()));
    }
    for (const auto& j : jobs) {
      if (j.name == name) found = j.status.job_id;  // listed oldest first: keep the newest
    }
    return found;
  }
  auto r = CAIRN_TRY(call_find(key));
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

  // Running an array stage once would pass it on one task's result.
  if (!v["array"].empty() && !uses_placeholder(m_config.submit, "array")) {
    return fail("stage asks for array " + v["array"] + " but this command backend's submit has no {array}");
  }
  if (m_preset.makes_output_dir()) {
    auto mk = CAIRN_TRY(
        m_runner->run({"mkdir", "-p", "--", request.campaign_dir + "/.cairn"}, "", m_config.timeout));
    if (mk.exit != 0) return classify_tool_error("mkdir " + request.campaign_dir + "/.cairn", mk);
  }
  const std::string input = m_preset.submit_input(request, v, m_config.vars);
  auto r = CAIRN_TRY(call("submit", m_config.submit, v, {}, input));
  const std::string prog = m_config.submit.front();
  if (r.exit != 0) return classify_tool_error(prog, r);
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
    if (r.exit != 0) return classify_tool_error(m_config.logs.front(), r);
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
  if (r.exit != 0) return classify_tool_error(m_config.cancel.front(), r);
  return {};
}

}  // namespace cairn::sched
