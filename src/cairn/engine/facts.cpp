#include <cairn/engine/facts.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>

#include <fmt/format.h>

#include <cairn/util/strings.hpp>
#include <cairn/util/time.hpp>

namespace cairn::engine {

namespace {

using doc::Status;

// The note `word` ("tasks", "nodes") of a failure-log message: "job 41: tasks 3,7;
// nodes c07; ..." -> "3,7" / "c07". Empty when there is no such note or it holds
// anything but `allowed` characters (a row a human edited is not passed on to the
// scheduler).
std::string row_note(std::string_view message, std::string_view word, std::string_view allowed) {
  std::size_t at = std::string_view::npos;
  for (const std::string_view before : {": ", "; "}) {
    at = message.find(fmt::format("{}{} ", before, word));
    if (at != std::string_view::npos) break;
  }
  if (at == std::string_view::npos) return {};
  const auto begin = at + 2 + word.size() + 1;
  const auto end = message.find(';', begin);
  if (end == std::string_view::npos || end == begin) return {};
  const std::string_view note = message.substr(begin, end - begin);
  return note.find_first_not_of(allowed) == std::string_view::npos ? std::string(note) : std::string();
}

// Drops a trailing `/` (any number) and then a trailing `.git`, and again a `/` left
// before it ("name.git/" and "name/.git" alike end at "name"). Keeps a lone "/".
std::string_view strip_tail(std::string_view s) {
  auto slashes = [&] {
    while (s.size() > 1 && s.back() == '/') s.remove_suffix(1);
  };
  slashes();
  if (s.size() > 4 && s.substr(s.size() - 4) == ".git") s.remove_suffix(4);
  slashes();
  return s;
}

// "a//b/" -> "a/b/": one slash between path segments.
std::string squeeze_slashes(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out += c;
  }
  return out;
}

// The host of a URL authority ("user:pw@Host:22" -> "host"; "[::1]:22" -> "[::1]").
std::string host_of(std::string_view authority) {
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close != std::string_view::npos) authority = authority.substr(0, close + 1);
  } else if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
    authority = authority.substr(0, colon);
  }
  return util::lower(authority);
}

// "host" + "/" + path, the path without leading slashes, tail or case.
std::string join_remote(std::string_view host, std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return util::lower(fmt::format("{}/{}", host, strip_tail(squeeze_slashes(path))));
}

}  // namespace

std::string backend_of(const doc::Workflow& wf, std::string_view stage) {
  if (const doc::StageSpec* spec = wf.spec(stage); spec != nullptr && !spec->backend.empty())
    return spec->backend;
  if (!wf.budget.backend.empty()) return wf.budget.backend;
  return "local";
}

std::string escalated_stage(const doc::Workflow& wf) {
  for (const Status want : {Status::escalated, Status::failed}) {
    for (const auto& s : wf.stages) {
      if (s.status == want) return s.name;
    }
  }
  if (const doc::Stage* open = wf.first_open_stage(); open != nullptr) return open->name;
  return wf.current_stage;
}

doc::Status implied_status(const doc::Workflow& wf) {
  if (wf.escalation_required) return Status::escalated;
  const doc::Stage* open = wf.first_open_stage();
  return open == nullptr ? Status::done : open->status;
}

std::string implied_current_stage(const doc::Workflow& wf) {
  if (const doc::Stage* open = wf.first_open_stage(); open != nullptr) return open->name;
  return wf.stages.empty() ? std::string() : wf.stages.back().name;
}

std::string clear_lesson(std::string_view date, const ClearedEscalation& cleared, std::string_view why) {
  return fmt::format("{} {}: escalation ({}) cleared: {}", date, cleared.stage,
                     cleared.reason.empty() ? "no reason recorded" : cleared.reason, why);
}

Expected<ClearedEscalation> clear_escalation(parse::WorkflowFile& file, TimePoint now, std::string_view why) {
  // Copies, read before any edit: every edit re-derives the workflow, so references
  // into it would show the blanked reason.
  ClearedEscalation done;
  {
    const doc::Workflow& wf = file.workflow();
    if (!wf.escalation_required) {
      return fail(fmt::format("{} is not escalated (status {})", wf.campaign, doc::to_string(wf.status)),
                  ExitCode::findings);
    }
    done.stage = escalated_stage(wf);
    done.reason = wf.escalation_reason;
    const doc::Stage* row = wf.stage(done.stage);
    done.stage_reset = row != nullptr && (row->status == Status::escalated || row->status == Status::failed);
  }
  CAIRN_TRY(file.set_scalar("escalation_required", "false"));
  if (!done.reason.empty()) CAIRN_TRY(file.set_scalar("escalation_reason", ""));
  if (done.stage_reset) CAIRN_TRY(file.set_cell(done.stage, doc::Column::status, "ready"));
  // Upkeep keys, derived from the table; a hand-written file may lack them (the tick
  // treats them the same way).
  const std::string status(doc::to_string(implied_status(file.workflow())));
  if (file.workflow().status != implied_status(file.workflow())) (void)file.set_scalar("status", status);
  const std::string current = implied_current_stage(file.workflow());
  if (file.workflow().current_stage != current) (void)file.set_scalar("current_stage", current);
  CAIRN_TRY(file.append_lesson(clear_lesson(util::date(now), done, why)));
  return done;
}

std::string cancel_offer_prefix(const std::string& job_id) {
  return fmt::format("{} job {} ", kCancelPrefix, job_id);
}

std::string format_failure_note(std::string_view job, std::string_view tasks, std::string_view nodes,
                                std::string_view message) {
  return format_failure_note(FailureNote{std::string(job), std::string(tasks), std::string(nodes), {}, {}},
                             message);
}

std::string format_failure_note(const FailureNote& note, std::string_view message) {
  std::string out = fmt::format("job {}: ", note.job);
  if (!note.tasks.empty()) out += fmt::format("{} {}; ", kTasksWord, note.tasks);
  if (!note.nodes.empty()) out += fmt::format("{} {}; ", kNodesWord, note.nodes);
  if (!note.pool.empty()) out += fmt::format("{} {}; ", kPoolWord, note.pool);
  if (!note.link.empty()) out += fmt::format("{} {}; ", kLinkWord, note.link);
  out += message;
  return out;
}

FailureNote parse_failure_note(std::string_view text) {
  FailureNote note;
  constexpr std::string_view kJob = "job ";
  if (text.substr(0, kJob.size()) == kJob) {
    const std::string_view rest = text.substr(kJob.size());
    const auto colon = rest.find(':');
    const std::string_view id = colon == std::string_view::npos ? std::string_view() : rest.substr(0, colon);
    if (!id.empty() && id.find_first_of(" \t") == std::string_view::npos) note.job = std::string(id);
  }
  note.tasks = row_note(text, kTasksWord, kTaskChars);
  note.nodes = row_note(text, kNodesWord, kNodeChars);
  note.pool = row_note(text, kPoolWord, kPoolChars);
  note.link = row_note(text, kLinkWord, kLinkChars);
  return note;
}

std::string normalized_remote(std::string_view remote) {
  while (!remote.empty() && std::isspace(static_cast<unsigned char>(remote.front())) != 0)
    remote.remove_prefix(1);
  while (!remote.empty() && std::isspace(static_cast<unsigned char>(remote.back())) != 0)
    remote.remove_suffix(1);
  if (const auto scheme = remote.find("://"); scheme != std::string_view::npos) {
    const std::string_view rest = remote.substr(scheme + 3);
    if (util::lower(remote.substr(0, scheme)) == "file")
      return std::string(strip_tail(squeeze_slashes(rest)));
    const auto slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    return join_remote(host_of(authority), slash == std::string_view::npos ? "" : rest.substr(slash));
  }
  // git's scp form: a ':' before any '/' ("git@host:owner/name", "host:name").
  if (const auto colon = remote.find(':'); colon != std::string_view::npos && colon > 0 &&
                                           remote.substr(0, colon).find('/') == std::string_view::npos) {
    return join_remote(host_of(remote.substr(0, colon)), remote.substr(colon + 1));
  }
  return std::string(strip_tail(squeeze_slashes(remote)));
}

std::string repo_id(std::string_view remote_url_or_path, std::string_view branch) {
  // FNV-1a (64 bit) over "<normalized>\n<branch>", folded to 32: stable everywhere,
  // unlike std::hash.
  const std::string key = fmt::format("{}\n{}", normalized_remote(remote_url_or_path), branch);
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return fmt::format("{:08x}", static_cast<std::uint32_t>(h ^ (h >> 32)));
}

}  // namespace cairn::engine
