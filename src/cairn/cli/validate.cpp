// `cairn validate [PATH...] [--staged]`: every WORKFLOW.md checked, diagnostics printed
// the way compilers print them; exit 1 when any is an error.

#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include <cairn/cli/context.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/gitstore/repo.hpp>
#include <cairn/parse/workflow_file.hpp>

namespace cairn::cli {

namespace {

struct ValidateOptions {
  std::vector<std::string> paths;
  bool staged = false;
  bool quiet = false;
};

// Checks that need the filesystem: a `run:` path must stay inside the campaign dir,
// also through symlinks, and should exist.
void check_run_paths(const parse::WorkflowFile& file, const fs::path& campaign_dir,
                     std::vector<doc::Diagnostic>& out) {
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(campaign_dir, ec);
  for (const auto& spec : file.workflow().specs) {
    if (spec.run.empty()) continue;
    const fs::path target = campaign_dir / spec.run;
    if (!fs::exists(fs::symlink_status(target, ec))) {
      out.push_back({file.path(), spec.line, 0, doc::Severity::warning,
                     fmt::format("stages.{}.run: `{}` does not exist yet", spec.name, spec.run)});
      continue;
    }
    const fs::path real = fs::weakly_canonical(target, ec);
    const fs::path rel = real.lexically_relative(base);
    if (rel.empty() || *rel.begin() == "..") {
      out.push_back({file.path(), spec.line, 0, doc::Severity::error,
                     fmt::format("stages.{}.run: `{}` resolves to {}, outside the campaign directory", spec.name,
                                 spec.run, real.string())});
    }
  }
}

// Validates one file's bytes; returns whether it had errors.
bool validate_text(const std::string& shown, const std::string& text, const fs::path* campaign_dir, bool quiet) {
  auto parsed = parse::WorkflowFile::parse(shown, text);
  std::vector<doc::Diagnostic> ds = parsed ? parsed->diagnostics() : parsed.error();
  if (parsed && campaign_dir != nullptr) check_run_paths(*parsed, *campaign_dir, ds);
  print_diagnostics(ds);
  const bool bad = doc::has_errors(ds);
  if (!quiet && !bad) std::printf("%s: ok\n", shown.c_str());
  return bad;
}

Outcome run_validate(const ValidateOptions& o) {
  auto ctx = CAIRN_TRY(load_context(fs::current_path()));
  print_diagnostics(ctx.config_warnings);
  int files = 0;
  int bad = 0;
  if (o.staged) {
    gitstore::LibGit2 git;
    auto repo = gitstore::Repo::discover(fs::current_path().string());
    if (!repo) return fail(repo.error().message, ExitCode::unreachable);
    auto staged = repo->staged_files();
    if (!staged) return fail(staged.error().message, ExitCode::unreachable);
    for (const auto& f : *staged) {
      if (fs::path(f.path).filename() != "WORKFLOW.md") continue;
      ++files;
      if (f.content.size() > parse::kMaxWorkflowBytes) {
        std::fprintf(stderr, "%s: error: file is over %zu bytes\n", f.path.c_str(), parse::kMaxWorkflowBytes);
        ++bad;
        continue;
      }
      bad += validate_text(f.path, f.content, nullptr, o.quiet) ? 1 : 0;
    }
  } else {
    std::vector<fs::path> targets;
    if (o.paths.empty()) {
      targets = find_workflows(ctx.root());
    } else {
      for (const auto& p : o.paths) {
        std::error_code ec;
        if (!fs::exists(p, ec)) {
          std::fprintf(stderr, "%s: error: no such file or directory\n", p.c_str());
          ++bad;
          continue;
        }
        auto found = find_workflows(p);
        if (fs::is_regular_file(p, ec)) found = {fs::path(p)};
        targets.insert(targets.end(), found.begin(), found.end());
      }
    }
    for (const auto& t : targets) {
      ++files;
      const std::string shown = display_path(t, fs::current_path());
      auto text = read_workflow(t);
      if (!text) {
        std::fprintf(stderr, "%s: error: %s\n", shown.c_str(), text.error().message.c_str());
        ++bad;
        continue;
      }
      const fs::path dir = fs::absolute(t).parent_path();
      bad += validate_text(shown, *text, &dir, o.quiet) ? 1 : 0;
    }
  }
  if (!o.quiet) std::printf("%d file(s) checked, %d with errors\n", files, bad);
  if (bad > 0) return findings_reported();
  return {};
}

}  // namespace

void define_validate(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<ValidateOptions>();
  sub.add_option("paths", o->paths, "WORKFLOW.md files or directories (default: the campaign root)");
  sub.add_flag("--staged", o->staged, "Check the staged (index) content of WORKFLOW.md files (pre-commit hook)");
  sub.add_flag("-q,--quiet", o->quiet, "Print diagnostics only");
  run = [o] { return run_validate(*o); };
}

}  // namespace cairn::cli
