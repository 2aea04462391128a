#pragma once

// The generic `command` backend: submit / status / cancel / logs are user-supplied
// command templates run through a CommandRunner, so PBS, LSF, Kubernetes, Vast.ai or a
// site's own wrapper work without code changes. Presets supply the templates and parse
// each tool's native output; without a preset, status speaks a small JSON-lines
// protocol (README.md, "command backend"). The implementation is the folder
// sched/command/: one file per preset (command/preset.hpp), the templates, the settings
// and the scheduler.
//
// Templates are argv lists, never shell strings: placeholders such as {campaign} expand
// inside one argv element, so a value with spaces or `;` stays one argument.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cairn/engine/ports.hpp>
#include <cairn/sched/command_runner.hpp>
#include <cairn/sched/settings.hpp>
#include <cairn/sched/workspace.hpp>

namespace cairn::sched {

namespace command {
class Preset;
}

// One command template: argv elements as written, placeholders unexpanded. An element
// that is exactly "[" opens an optional group and "]" closes it; the group's elements
// are dropped when any placeholder inside expands to nothing.
using CommandTemplate = std::vector<std::string>;

struct CommandBackendConfig {
  // "" (generic JSON lines) or a preset's name: "pbs", "lsf", "kubernetes", "vastai".
  std::string preset;
  CommandTemplate submit;  // prints the job id
  CommandTemplate status;  // all jobs at once: {job_ids} expands to one element per id
  CommandTemplate cancel;  // one job: {job_id}
  CommandTemplate logs;    // one job: {job_id}, {lines}; empty = `tail` of the status "log" path
  CommandTemplate find;    // the job named {key}; empty = status with no ids, matched by "name"
  // ECMAScript regex whose first group is the job id in submit's output; empty = the
  // preset's rule, or the first non-empty line.
  std::string submit_regex;
  // Every other setting: extra placeholders ({image}, {offer}, {namespace}, {queue}...).
  std::map<std::string, std::string> vars;
  std::string ssh_host;                      // non-empty: run every command there through ssh
  std::chrono::milliseconds timeout{60000};  // per command
  // The current time, for Vast.ai's cost (dph_total x time since start); empty = the
  // system clock.
  std::function<engine::TimePoint()> now;
};

// A template written as one string: elements split on whitespace, '...' and "..."
// group words (inside "...", \" and \\ escape), or a YAML list (`[a, b]` or `- a` lines,
// as cairn.yaml keeps a nested list). Fails on an unterminated quote, unbalanced
// "[" / "]" groups, or YAML that is not a list of scalars.
Expected<CommandTemplate> parse_command_template(std::string_view text);

// The configuration in a backend's `settings` (cairn.yaml): `preset`, the templates
// `submit`, `status`, `cancel`, `logs`, `find` (each overrides the preset's),
// `submit_regex`, `ssh_host`, `timeout` (seconds); other keys become placeholders.
// Fails (ExitCode::usage) naming the setting: unknown preset (with a did-you-mean), a
// template that does not parse or names an unknown placeholder, a bad `submit_regex` or
// `timeout`, a missing submit/status/cancel template (no setting: key ""), or a setting
// the preset needs (`image` for kubernetes and vastai, `offer` for vastai: key `preset`).
Expected<CommandBackendConfig, SettingError> parse_command_config(const BackendSettings& settings);

// The default templates of `preset` ("" gives none). Never fails; unknown -> empty.
CommandBackendConfig command_preset(std::string_view preset);

// `tmpl` with every placeholder replaced by its value from `values` (absent = empty);
// {job_ids} must be a whole element and becomes one element per id. Optional groups
// are dropped when a placeholder inside is empty. Fails on unbalanced groups.
Expected<std::vector<std::string>> expand_command_template(const CommandTemplate& tmpl,
                                                           const std::map<std::string, std::string>& values,
                                                           const std::vector<std::string>& job_ids = {});

// The JSON-lines state vocabulary: pending, running, completed, failed, timeout,
// out_of_memory, node_fail, preempted, cancelled, boot_fail, unknown (case-insensitive).
// nullopt for anything else.
std::optional<engine::JobState> parse_command_state(std::string_view text);

// One job as a status (or find) query reported it.
struct CommandJob {
  std::string name;          // job name / label (cairn's job key), "" if the tool did not say
  std::string log_path;      // where its output goes, "" if the tool did not say
  engine::JobStatus status;  // status.work_dir: where the tool says the job works, else ""
};

// Parses status output in `preset`'s format: JSON lines for "" (fields id, state,
// exit_code, reason, cost_usd, cpu_hours, optional name, log, task, work_dir), `qstat -x
// -t -F json -f` for pbs, `bjobs -json -o ...` for lsf, `kubectl get jobs -o json` for
// kubernetes, `vastai show instances --raw` for vastai (`now` prices the running time).
// The working directory comes from the JSON line's `work_dir`, PBS's Variable_List
// CAIRN_DIR, LSF's EXEC_CWD and the Job's first container's workingDir; Vast.ai has none.
// Records of one id with tasks are folded with summarize_tasks. An unknown preset name
// reads JSON lines. Fails (ExitCode::findings) naming the line (JSON lines) or what is
// malformed.
Expected<std::vector<CommandJob>> parse_command_status(std::string_view preset, std::string_view text,
                                                       engine::TimePoint now);

// The job id in what `config`'s submit command printed: `submit_regex`'s first group (LSF:
// `Job <N>`), Vast.ai's `new_contract`, else the first line (kubectl's `job.batch/NAME`
// -> NAME). Fails naming `prog` when there is none, or a Vast.ai answer says it failed.
Expected<std::string> submit_id_from(const CommandBackendConfig& config, const std::string& prog,
                                     std::string_view out);

class CommandScheduler : public engine::Scheduler {
 public:
  // Takes every command through `runner`, wrapped in an SshRunner when config.ssh_host
  // is set.
  CommandScheduler(std::unique_ptr<CommandRunner> runner, CommandBackendConfig config);

  // The job named `key` (the full key, repository included): the `find` template (job
  // ids one a line, the newest last, or JSON lines whose `name` must be the key; the lsf
  // and kubernetes presets' answers are parsed as status and matched by name, so a
  // hashed {key_label} never adopts another key's job), else the status command with no
  // ids matched by name. The pbs preset's find is this user's jobs (`qselect -u
  // {user}`). Fails per classify_tool_error, or (unreachable) when a template needs
  // {user} and `id -un` does not answer.
  Expected<std::optional<std::string>> find(const engine::JobKey& key) override;
  // Adopts the job found under the key, else runs the submit template and returns the
  // id it printed. Fails per classify_tool_error, when no id can be read, or
  // (findings) when the stage is an array and the submit template has no {array}.
  Expected<std::string> submit(const engine::SubmitRequest& request) override;
  // One status command for all ids. Requested ids the answer leaves out are absent
  // (unknown). Fails per classify_tool_error, or (findings) on malformed output.
  Expected<std::map<std::string, engine::JobStatus>> status(const std::vector<std::string>& job_ids) override;
  // The logs template's output, else `tail -n LINES` of the log path the status
  // command reports. Fails per classify_tool_error, or (findings) when neither
  // exists.
  Expected<std::string> log_tail(const std::string& job_id, int lines) override;
  // Runs the cancel template for one id. Fails per classify_tool_error.
  Expected<void> cancel(const std::string& job_id) override;
  // With ssh_host, a RemoteWorkspace over the same connection; else nullptr (this
  // machine's filesystem).
  engine::Workspace* workspace() override;
  // False for jobs whose files live where no Workspace reaches: Vast.ai instances, and
  // Kubernetes pods without a `pvc` holding the campaign dir.
  bool outputs_are_files() const override;

 private:
  Expected<CommandResult> call(std::string_view what, const CommandTemplate& tmpl,
                               const std::map<std::string, std::string>& values,
                               const std::vector<std::string>& job_ids = {}, std::string_view input = "");
  // The find template for `key`; fails per classify_tool_error unless the preset
  // takes a non-zero exit as a partial answer.
  Expected<CommandResult> call_find(const engine::JobKey& key);
  Expected<std::vector<CommandJob>> query(const std::vector<std::string>& job_ids);
  Expected<std::string> login_user();
  engine::TimePoint now() const;

  std::unique_ptr<CommandRunner> m_runner;
  CommandBackendConfig m_config;
  const command::Preset& m_preset;  // m_config.preset's, the JSON-lines protocol for an unknown name
  std::string m_user;               // {user}: `id -un` where the commands run, once asked
  std::unique_ptr<RemoteWorkspace> m_workspace;
};

}  // namespace cairn::sched
