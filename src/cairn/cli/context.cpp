#include <cairn/cli/context.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include <cairn/cli/exit_policy.hpp>
#include <cairn/parse/workflow_file.hpp>
#include <cairn/util/fs.hpp>
#include <cairn/util/subprocess.hpp>
#include <cairn/util/suggest.hpp>

namespace cairn::cli {

Expected<RepoContext> load_context(const fs::path& start, Needs needs) {
  RepoContext ctx;
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec);
  ctx.top = dir;
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    if (fs::exists(p / ".git", ec)) {
      ctx.top = p;
      ctx.is_git = true;
      break;
    }
    if (p == p.parent_path()) break;
  }
  if (!ctx.is_git && needs == Needs::repository) return not_a_repository();
  const fs::path cfg = ctx.top / "cairn.yaml";
  if (fs::exists(cfg, ec)) {
    std::ifstream in(cfg, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto parsed = parse::parse_config("cairn.yaml", ss.str(), &ctx.config_warnings);
    if (!parsed) {
      print_diagnostics(parsed.error());
      return fail(fmt::format("cairn.yaml is invalid ({} error(s) above)", parsed.error().size()),
                  ExitCode::findings);
    }
    ctx.config = std::move(*parsed);
  }
  if (const fs::path priors = ctx.top / parse::kPriorsFile; fs::exists(priors, ec)) {
    std::ifstream in(priors, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto parsed = parse::parse_priors(parse::kPriorsFile, ss.str());
    if (parsed)
      ctx.priors = std::move(*parsed);
    else
      ctx.priors_errors = std::move(parsed).error();
  }
  // The forge token is the tick's alone: no job, check command or scheduler client sees it.
  util::add_secret_variable(ctx.config.forge.token_env);
  return ctx;
}

namespace {

// Walks `dir` with readdir's d_type (no stat per entry: a repo of 10,000 campaigns is
// 20,000 entries), skipping hidden directories, build trees and node_modules.
void walk(const std::string& dir, std::vector<fs::path>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    unsigned char type = e->d_type;
    const std::string path = dir + "/" + e->d_name;
    if (type == DT_UNKNOWN || type == DT_LNK) {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) continue;
      type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
    }
    if (type == DT_DIR) {
      if (name.front() == '.' || name == "build" || name == "node_modules") continue;
      walk(path, out);
    } else if (type == DT_REG && name == "WORKFLOW.md") {
      out.emplace_back(path);
    }
  }
  ::closedir(d);
}

}  // namespace

std::vector<fs::path> find_workflows(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_regular_file(dir, ec)) return {dir};
  std::vector<fs::path> out;
  walk(dir.string(), out);
  std::sort(out.begin(), out.end());
  return out;
}

Expected<std::string> read_workflow(const fs::path& path) {
  // The size check comes first: a runaway file is refused, not read.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fail(fmt::format("cannot read: {}", std::strerror(errno)));
  if (static_cast<std::uintmax_t>(st.st_size) > parse::kMaxWorkflowBytes) {
    return fail(fmt::format("file is {} bytes; WORKFLOW.md files are limited to {} bytes", st.st_size,
                            parse::kMaxWorkflowBytes));
  }
  auto text = util::read_file(path.string());
  if (!text) return fail(text.error().message);
  return text;
}

std::string display_path(const fs::path& path, const fs::path& base) {
  std::error_code ec;
  // Normal form: under the default `root: .` the files are found as TOP/./campaigns/...,
  // and "./campaigns/c1/WORKFLOW.md" is not the path git (last_writers) reports.
  const fs::path abs = fs::absolute(path, ec).lexically_normal();
  const fs::path rel = abs.lexically_relative(base.lexically_normal());
  if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
  return path.generic_string();
}

std::vector<engine::CampaignInput> load_campaigns(const RepoContext& ctx,
                                                  std::vector<doc::Diagnostic>& errors) {
  std::vector<engine::CampaignInput> out;
  for (const auto& file : find_workflows(ctx.root())) {
    const std::string rel = display_path(file, ctx.top);
    auto text = read_workflow(file);
    if (!text) {
      errors.push_back({rel, 0, 0, doc::Severity::error, text.error().message});
      continue;
    }
    out.push_back({rel, fs::absolute(file).parent_path().string(), std::move(*text)});
  }
  return out;
}

std::vector<std::string> campaign_names(const RepoContext& ctx) {
  std::vector<std::string> names;
  for (const auto& file : find_workflows(ctx.root())) names.push_back(file.parent_path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

Expected<engine::CampaignInput> find_campaign(const RepoContext& ctx, std::string_view name) {
  std::vector<std::string> names;
  for (const auto& file : find_workflows(ctx.root())) {
    const std::string dir = file.parent_path().filename().string();
    if (dir != name) {
      names.push_back(dir);
      continue;
    }
    auto text = read_workflow(file);
    const std::string rel = display_path(file, ctx.top);
    if (!text) return fail(fmt::format("{}: {}", rel, text.error().message), ExitCode::findings);
    return engine::CampaignInput{rel, fs::absolute(file).parent_path().string(), std::move(*text)};
  }
  std::sort(names.begin(), names.end());
  return unknown_campaign(name, names, display_path(ctx.root(), fs::current_path()));
}

Expected<void> refuse_dirty(gitstore::Repo& repo, const std::vector<std::string>& only,
                            std::string_view doing) {
  auto dirty = repo.dirty_tracked_files();
  if (!dirty) return fail(dirty.error().message, ExitCode::unreachable);
  std::vector<std::string> in_the_way;
  for (const auto& f : *dirty) {
    if (only.empty() || std::find(only.begin(), only.end(), f) != only.end()) in_the_way.push_back(f);
  }
  if (in_the_way.empty()) return {};
  return dirty_tree(in_the_way, doing);
}

Expected<Campaign> open_campaign(const RepoContext& ctx, std::string_view name) {
  auto input = CAIRN_TRY(find_campaign(ctx, name));
  auto file = parse::WorkflowFile::parse(input.path, input.text);
  if (!file) {
    print_diagnostics(file.error());
    return fail(fmt::format("{} does not parse; fix it first (`cairn validate {}`)", input.path, input.path),
                ExitCode::findings);
  }
  return Campaign{std::move(input), std::move(*file)};
}

Expected<const doc::Stage*> pick_stage(const doc::Workflow& wf, std::string_view name) {
  if (wf.stages.empty()) return fail(fmt::format("campaign `{}` has no stages", wf.campaign));
  if (name.empty()) {
    const doc::Stage* open = wf.first_open_stage();
    return open != nullptr ? open : &wf.stages.back();
  }
  if (const doc::Stage* s = wf.stage(name)) return s;
  std::vector<std::string> names;
  for (const auto& s : wf.stages) names.push_back(s.name);
  return fail(
      fmt::format("campaign `{}` has no stage `{}`{}", wf.campaign, name, util::did_you_mean(name, names)),
      ExitCode::usage);
}

void print_diagnostics(const std::vector<doc::Diagnostic>& ds) {
  for (const auto& d : ds) std::fprintf(stderr, "%s\n", doc::format(d).c_str());
}

bool stdout_is_tty() {
  return isatty(STDOUT_FILENO) != 0;
}

}  // namespace cairn::cli
