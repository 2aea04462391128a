#include <cairn/sched/command_runner.hpp>

#include <utility>

#include <cairn/util/subprocess.hpp>

namespace cairn::sched {

Expected<CommandResult> ProcessRunner::run(const std::vector<std::string>& argv, std::string_view input,
                                           std::chrono::milliseconds timeout) {
  if (argv.empty()) return fail("no command to run", ExitCode::usage);
  util::SpawnOptions options;
  options.workload = true;
  options.only = m_only;
  auto r = util::run_capture(argv, std::string(input), timeout, options);
  if (!r) {
    // A command that cannot be started or hangs says nothing about the jobs: the
    // caller treats it like an unreachable scheduler.
    return fail(argv[0] + ": " + r.error().message, ExitCode::unreachable);
  }
  return CommandResult{r->exit, std::move(r->out), std::move(r->err)};
}

std::string shell_quote(std::string_view text) {
  auto safe = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
  };
  bool plain = !text.empty();
  for (char c : text) plain = plain && safe(c);
  if (plain) return std::string(text);
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

SshRunner::SshRunner(std::unique_ptr<CommandRunner> inner, SshOptions options)
    : m_inner(std::move(inner)), m_options(std::move(options)) {}

std::vector<std::string> ssh_command(const SshOptions& options) {
  std::vector<std::string> out = {options.ssh_program};
  if (!options.config_file.empty()) {
    out.push_back("-F");
    out.push_back(options.config_file);
  }
  for (std::string opt :
       {std::string("BatchMode=yes"), "ConnectTimeout=" + std::to_string(options.connect_timeout_seconds)}) {
    out.push_back("-o");
    out.push_back(std::move(opt));
  }
  if (!options.control_path.empty()) {
    for (std::string opt : {std::string("ControlMaster=auto"), "ControlPath=" + options.control_path,
                            "ControlPersist=" + std::to_string(options.control_persist_seconds)}) {
      out.push_back("-o");
      out.push_back(std::move(opt));
    }
  }
  return out;
}

std::vector<std::string> SshRunner::wrap(const std::vector<std::string>& argv) const {
  std::vector<std::string> out = ssh_command(m_options);
  out.push_back(m_options.host);
  out.push_back("--");
  // ssh joins its remaining arguments with spaces and hands the line to the remote
  // user's shell, so each one must arrive as exactly one quoted word.
  for (const auto& a : argv) out.push_back(shell_quote(a));
  return out;
}

Expected<CommandResult> SshRunner::run(const std::vector<std::string>& argv, std::string_view input,
                                       std::chrono::milliseconds timeout) {
  auto r = m_inner->run(wrap(argv), input, timeout);
  if (!r) return fail("ssh " + m_options.host + ": " + r.error().message, ExitCode::unreachable);
  if (r->exit == 255) {
    std::string why = r->err;
    while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
    return fail("ssh " + m_options.host + " failed: " + (why.empty() ? "exit 255" : why),
                ExitCode::unreachable);
  }
  return r;
}

}  // namespace cairn::sched
