// `cairn validate [PATH...] [--staged] [--json]`: every WORKFLOW.md checked, diagnostics
// printed the way compilers print them; exit 1 when any is an error. Beyond what the
// file says on its own, what a tick would hit later: `run:` scripts missing, untracked
// or not runnable, backends cairn.yaml does not configure, or configures with settings
// they refuse (reported at cairn.yaml's line).

#include <cairn/cli/validate.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <cairn/cli/backends.hpp>
#include <cairn/cli/context.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/gitstore/index.hpp>
#include <cairn/gitstore/repo.hpp>
#include <cairn/parse/frontmatter.hpp>
#include <cairn/parse/workflow_file.hpp>
#include <cairn/util/suggest.hpp>

namespace cairn::cli {

namespace {

struct ValidateOptions {
  std::vector<std::string> paths;
  bool staged = false;
  bool quiet = false;
  bool json = false;
};

// Where the value of frontmatter key `dotted` is, as (line, column); `fallback_line`
// (column 1) when it cannot be located (a flow style the locator does not take).
std::pair<int, int> value_position(const parse::WorkflowFile& file, const std::string& dotted,
                                   int fallback_line) {
  const parse::md::LineIndex lines(file.text());
  int fence = 0;
  auto bounds = parse::fm::locate(file.text(), lines, &fence);
  if (!bounds) return {fallback_line, 1};
  const std::string yaml = file.text().substr(bounds->yaml_begin, bounds->yaml_end - bounds->yaml_begin);
  auto span = parse::fm::locate_scalar(yaml, dotted);
  if (!span || span->insert) return {fallback_line, 1};
  return file.position(bounds->yaml_begin + span->begin);
}

// The backends the file names (budget.backend, stages.NAME.backend) must be kinds or
// instances cairn.yaml configures: a tick escalates the stage (`unknown-backend`) otherwise.
void check_backends(const parse::WorkflowFile& file, const parse::RepoConfig& config,
                    std::vector<doc::Diagnostic>& out) {
  std::vector<std::string> known(std::begin(parse::kKnownBackendKinds), std::end(parse::kKnownBackendKinds));
  for (const auto& b : config.backends) {
    if (std::find(known.begin(), known.end(), b.name) == known.end()) known.push_back(b.name);
  }
  auto check = [&](const std::string& name, const std::string& key, int fallback_line) {
    if (name.empty() || std::find(known.begin(), known.end(), name) != known.end()) return;
    const auto [line, col] = value_position(file, key, fallback_line);
    std::string hint = util::did_you_mean(name, known);
    if (hint.empty()) {
      hint = fmt::format(
          "; configure it in cairn.yaml (backends: {{{}: {{kind: slurm, ssh_host: ...}}}}) or use one "
          "of: {}",
          name, fmt::join(known, ", "));
    }
    out.push_back({file.path(), line, col, doc::Severity::error,
                   fmt::format("{}: unknown backend `{}`{}", key, name, hint)});
  };
  const doc::Workflow& wf = file.workflow();
  check(wf.budget.backend, "budget.backend", 1);
  for (const auto& spec : wf.specs)
    check(spec.backend, fmt::format("stages.{}.backend", spec.name), spec.line);
}

// Where the tick will look for a stage's script: `run:` must name a file inside the
// campaign directory that a clone of the repository has (git tracks it) and that runs.
struct ScriptChecks {
  const parse::WorkflowFile& file;
  fs::path campaign_dir;    // absolute
  fs::path top;             // the work tree
  gitstore::Repo* repo;     // null: no repository questions
  bool from_index = false;  // --staged: the index is what gets committed
};

void check_run_scripts(const ScriptChecks& c, std::vector<doc::Diagnostic>& out) {
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(c.campaign_dir, ec);
  // Repository questions only about files inside the work tree.
  auto in_repo = [&](const fs::path& p) -> std::optional<std::string> {
    const std::string rel = display_path(p, c.top);
    if (c.repo == nullptr || fs::path(rel).is_absolute()) return std::nullopt;
    return rel;
  };
  std::optional<bool> workflow_tracked;
  if (const auto rel = in_repo(c.campaign_dir / "WORKFLOW.md")) {
    if (auto t = gitstore::indexed_executable(*c.repo, *rel)) workflow_tracked = t->has_value();
  }
  for (const auto& spec : c.file.workflow().specs) {
    if (spec.run.empty()) continue;
    const std::string key = fmt::format("stages.{}.run", spec.name);
    const std::pair<int, int> at = value_position(c.file, key, spec.line);
    const int line = at.first;
    const int col = at.second;
    auto report = [&](doc::Severity sev, std::string message) {
      out.push_back({c.file.path(), line, col, sev, fmt::format("{}: {}", key, message)});
    };
    const fs::path target = c.campaign_dir / spec.run;
    const std::string rel = display_path(target, c.top);
    std::optional<bool> indexed;  // nullopt: not tracked; else its mode's executable bit
    bool index_known = false;
    if (const auto in = in_repo(target)) {
      if (auto e = gitstore::indexed_executable(*c.repo, *in)) {
        indexed = *e;
        index_known = true;
      }
    }
    if (c.from_index) {
      if (index_known && !indexed) {
        report(doc::Severity::error,
               fmt::format("`{}` is not staged: `git add {}` (a clone would not have it)", spec.run, rel));
      } else if (indexed && !*indexed) {
        report(doc::Severity::warning,
               fmt::format("`{}` is not executable in git: `git update-index --chmod=+x {}`", spec.run, rel));
      }
      continue;
    }
    if (!fs::exists(fs::symlink_status(target, ec))) {
      report(doc::Severity::error,
             fmt::format("`{}` does not exist (looked for {}); a tick would submit it and fail with exit 127",
                         spec.run, rel));
      continue;
    }
    const fs::path real = fs::weakly_canonical(target, ec);
    const fs::path inside = real.lexically_relative(base);
    if (inside.empty() || *inside.begin() == "..") {
      report(doc::Severity::error,
             fmt::format("`{}` resolves to {}, outside the campaign directory", spec.run, real.string()));
      continue;
    }
    if (fs::is_directory(real, ec)) {
      report(doc::Severity::error, fmt::format("`{}` is a directory, not a script", spec.run));
      continue;
    }
    if (index_known && !indexed) {
      // A campaign nobody added yet (cairn new) is added with its scripts: say it, no more.
      const bool fresh = workflow_tracked.has_value() && !*workflow_tracked;
      report(fresh ? doc::Severity::warning : doc::Severity::error,
             fmt::format("`{}` is not tracked by git: `git add {}` (a tick's clone would not have it)",
                         spec.run, rel));
    }
    if (::access(real.c_str(), X_OK) != 0) {
      std::ifstream in(real);
      std::string first;
      std::getline(in, first);
      // Without the bit the local backend runs it with /bin/sh, ignoring its #! line.
      const bool needs_own_interpreter = first.rfind("#!", 0) == 0 && first.find("sh") == std::string::npos;
      report(needs_own_interpreter ? doc::Severity::error : doc::Severity::warning,
             fmt::format("`{}` is not executable{}: chmod +x {}", spec.run,
                         needs_own_interpreter ? fmt::format(" and /bin/sh cannot run its `{}`", first) : "",
                         rel));
    }
  }
}

}  // namespace

std::vector<doc::Diagnostic> check_workflow(const RepoContext& ctx, gitstore::Repo* repo,
                                            const std::string& shown, const std::string& text,
                                            const fs::path& dir, bool from_index) {
  auto parsed = parse::WorkflowFile::parse(shown, text);
  if (!parsed) return parsed.error();
  std::vector<doc::Diagnostic> out = parsed->diagnostics();
  check_backends(*parsed, ctx.config, out);
  check_run_scripts({*parsed, dir, ctx.top, repo, from_index}, out);
  std::stable_sort(out.begin(), out.end(),
                   [](const doc::Diagnostic& a, const doc::Diagnostic& b) { return a.line < b.line; });
  return out;
}

namespace {

struct FileResult {
  std::string path;
  std::vector<doc::Diagnostic> diagnostics;
};

nlohmann::json to_json(const doc::Diagnostic& d) {
  return {{"path", d.path},
          {"line", d.line},
          {"column", d.column},
          {"severity", d.severity == doc::Severity::error ? "error" : "warning"},
          {"message", d.message}};
}

Outcome run_validate(Session& session, const ValidateOptions& o) {
  const RepoContext& ctx = session.ctx;
  std::vector<FileResult> results;
  std::vector<doc::Diagnostic> general = ctx.config_warnings;  // not about one WORKFLOW.md
  general.insert(general.end(), ctx.priors_errors.begin(), ctx.priors_errors.end());
  const auto backend_errors = backend_diagnostics(ctx.config);
  general.insert(general.end(), backend_errors.begin(), backend_errors.end());
  gitstore::Repo* repo = &*session.repo;
  auto check_text = [&](const std::string& shown, const std::string& text, const fs::path& dir,
                        bool from_index) {
    results.push_back({shown, check_workflow(ctx, &*repo, shown, text, dir, from_index)});
  };
  if (o.staged) {
    auto staged = repo->staged_files();
    if (!staged) return fail(staged.error().message, ExitCode::unreachable);
    for (const auto& f : *staged) {
      if (fs::path(f.path).filename() != "WORKFLOW.md") continue;
      if (f.content.size() > parse::kMaxWorkflowBytes) {
        results.push_back({f.path,
                           {{f.path, 0, 0, doc::Severity::error,
                             fmt::format("file is over {} bytes", parse::kMaxWorkflowBytes)}}});
        continue;
      }
      check_text(f.path, f.content, ctx.top / fs::path(f.path).parent_path(), true);
    }
  } else {
    std::vector<fs::path> targets;
    if (o.paths.empty()) {
      targets = find_workflows(ctx.root());
    } else {
      for (const auto& p : o.paths) {
        std::error_code ec;
        if (!fs::exists(p, ec)) {
          results.push_back({p, {{p, 0, 0, doc::Severity::error, "no such file or directory"}}});
          continue;
        }
        auto found = find_workflows(p);
        if (fs::is_regular_file(p, ec)) found = {fs::path(p)};
        targets.insert(targets.end(), found.begin(), found.end());
      }
    }
    for (const auto& t : targets) {
      const std::string shown = display_path(t, fs::current_path());
      auto text = read_workflow(t);
      if (!text) {
        results.push_back({shown, {{shown, 0, 0, doc::Severity::error, text.error().message}}});
        continue;
      }
      check_text(shown, *text, fs::absolute(t).parent_path(), false);
    }
  }
  int bad = 0;
  for (const auto& r : results) bad += doc::has_errors(r.diagnostics) ? 1 : 0;
  if (o.json) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& r : results) {
      nlohmann::json ds = nlohmann::json::array();
      for (const auto& d : r.diagnostics) ds.push_back(to_json(d));
      files.push_back({{"path", r.path}, {"valid", !doc::has_errors(r.diagnostics)}, {"diagnostics", ds}});
    }
    nlohmann::json config = nlohmann::json::array();
    for (const auto& d : general) config.push_back(to_json(d));
    std::printf("%s\n", nlohmann::json{{"version", 1},
                                       {"checked", results.size()},
                                       {"invalid", bad},
                                       {"files", files},
                                       {"config", config}}
                            .dump(2)
                            .c_str());
  } else {
    print_diagnostics(general);
    for (const auto& r : results) {
      print_diagnostics(r.diagnostics);
      if (!o.quiet && !doc::has_errors(r.diagnostics)) std::printf("%s: ok\n", r.path.c_str());
    }
    if (!o.quiet) {
      const auto config_errors = std::count_if(general.begin(), general.end(), [](const doc::Diagnostic& d) {
        return d.severity == doc::Severity::error;
      });
      std::printf("%zu file(s) checked, %d with errors%s\n", results.size(), bad,
                  config_errors > 0 ? fmt::format("; {} error(s) in cairn.yaml", config_errors).c_str() : "");
    }
  }
  if (bad > 0 || doc::has_errors(general)) return findings_reported();
  return {};
}

}  // namespace

void define_validate(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<ValidateOptions>();
  sub.add_option("paths", o->paths, "WORKFLOW.md files or directories (default: the campaign root)");
  sub.add_flag("--staged", o->staged,
               "Check the staged (index) content of WORKFLOW.md files (pre-commit hook)");
  sub.add_flag("-q,--quiet", o->quiet, "Print diagnostics only (nothing when every file is valid)");
  sub.add_flag("--json", o->json,
               "Print {version: 1, checked, invalid, files: [{path, valid, diagnostics}]} as JSON");
  run = [o](Session& session) { return run_validate(session, *o); };
}

}  // namespace cairn::cli
