#pragma once

// A preset of the command backend: what one scheduler's tools need beyond templates
// (sched/command.hpp): their default templates, the settings they cannot do without,
// how to read their status and submit answers, and what a submit sends on stdin. One
// file of this folder per preset; the table in preset.cpp lists them, so adding a
// scheduler is adding its file and its line there.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <cairn/engine/ports.hpp>
#include <cairn/sched/command.hpp>
#include <cairn/sched/command_runner.hpp>

namespace cairn::sched::command {

using Values = std::map<std::string, std::string>;

// What a preset brings to a backend's configuration: its command templates as cairn.yaml
// would write them ("" = none; a setting of the same name overrides one), the settings
// its templates read (placeholders, empty until set) and which of them must be set.
struct PresetDefaults {
  std::string_view submit = {}, status = {}, find = {}, cancel = {}, logs = {};
  std::vector<std::string> settings = {};
  std::vector<std::string> required = {};
};

class Preset {
 public:
  virtual ~Preset() = default;

  // `preset:` in cairn.yaml; "" for the JSON-lines protocol of a backend without one.
  virtual std::string_view name() const = 0;
  // The preset's templates and settings; none for the JSON-lines protocol. Never fails.
  virtual PresetDefaults defaults() const;
  // The jobs in the status command's output (and the find command's, when
  // find_answers_as_status()). `now` prices a running job where the tool bills by the
  // hour. Fails (findings) naming what is malformed; may throw json::exception on a field
  // of a type no check foresaw (parse_command_status stops it).
  virtual Expected<std::vector<CommandJob>> parse_status(std::string_view text,
                                                         engine::TimePoint now) const = 0;
  // Whether the find template answers in the status format, matched by name; else it
  // prints job ids (or JSON lines with `id` and `name`).
  virtual bool find_answers_as_status() const;
  // Whether a command that exited non-zero still answered: tools that report the ids
  // they know and complain about the rest.
  virtual bool partial_answer(const CommandResult& result) const;
  // The job id in what the submit command `prog` printed when no `submit_regex` is set;
  // "" when there is none. The default is the first non-empty line. Fails (findings)
  // when the answer says the submit failed.
  virtual Expected<std::string> submit_id(const std::string& prog, std::string_view out) const;
  // Whether submit makes {dir}/.cairn first: the tool writes the job's output file there
  // and loses it when the directory is missing.
  virtual bool makes_output_dir() const;
  // What the submit command reads on stdin, from the request, the placeholders of this
  // submit and the backend's settings; "" for nothing. Never fails.
  virtual std::string submit_input(const engine::SubmitRequest& request, const Values& placeholders,
                                   const Values& settings) const;
  // Whether a job's files are where a Workspace reaches, given the backend's settings.
  virtual bool outputs_are_files(const Values& settings) const;
};

// The preset named `name` ("" is the JSON-lines protocol); nullptr for an unknown name.
const Preset* find_preset(std::string_view name);
// find_preset(name), or the JSON-lines protocol for an unknown name. Never fails.
const Preset& preset_or_jsonl(std::string_view name);
// The names of the presets, JSON lines (no name) left out. Never fails.
std::vector<std::string_view> preset_names();

// One per file of this folder.
const Preset& jsonl_preset();
const Preset& pbs_preset();
const Preset& lsf_preset();
const Preset& kubernetes_preset();
const Preset& vastai_preset();

}  // namespace cairn::sched::command
