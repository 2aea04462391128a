// `cairn new NAME [--template generic|namd-ensemble]`: a campaign from a shipped template,
// with its job scripts, checked the way `cairn validate` checks it.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include <cairn/cli/context.hpp>
#include <cairn/cli/validate.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/util/resources.hpp>
#include <cairn/util/suggest.hpp>
#include <cairn/util/time.hpp>

namespace cairn::cli {

namespace {

struct NewOptions {
  std::string name;
  std::string templ = "generic";
};

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 100 || n[0] == '.' || n[0] == '-') return false;
  for (char c : n) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Replaces the value of the first top-level `key:` line, keeping any trailing comment.
std::string fill(std::string text, std::string_view key, std::string_view value) {
  const std::string needle = "\n" + std::string(key) + ":";
  const auto at = text.find(needle);
  if (at == std::string::npos) return text;
  const auto start = at + needle.size();
  const auto eol = text.find('\n', start);
  const auto comment = text.find(" #", start);
  const auto end = (comment != std::string::npos && comment < eol) ? comment : eol;
  std::string replacement = " " + std::string(value);
  // Keep the comment column where the template aligned it.
  if (end != eol && end - start > replacement.size()) replacement.resize(end - start, ' ');
  return text.replace(start, end - start, replacement);
}

Outcome run_new(Session& session, const NewOptions& o) {
  if (!valid_name(o.name)) {
    return fail(fmt::format("`{}` is not a campaign name (letters, digits, `-`, `_`, `.`)", o.name),
                ExitCode::usage);
  }
  const std::string res = o.templ == "generic" ? "templates/WORKFLOW.template.md"
                                               : fmt::format("templates/WORKFLOW.{}.md", o.templ);
  const auto templ = resources::get(res);
  if (!templ) {
    const std::vector<std::string> known = {"generic", "namd-ensemble"};
    return fail(fmt::format("no template `{}`{} (templates: generic, namd-ensemble)", o.templ,
                            util::did_you_mean(o.templ, known)),
                ExitCode::usage);
  }
  const RepoContext& ctx = session.ctx;
  // Without a cairn.yaml the conventional root is campaigns/.
  fs::path root = ctx.root();
  std::error_code ec;
  if (!fs::exists(ctx.top / "cairn.yaml", ec)) root = ctx.top / "campaigns";
  const fs::path dir = root / o.name;
  const fs::path file = dir / "WORKFLOW.md";
  if (fs::exists(file, ec)) {
    return fail(fmt::format("{} already exists; not overwritten", display_path(file, fs::current_path())),
                ExitCode::findings);
  }
  std::string text(*templ);
  text = fill(std::move(text), "campaign", o.name);
  text = fill(std::move(text), "created", util::date(std::chrono::system_clock::now()));
  fs::create_directories(dir, ec);
  if (ec) return fail(fmt::format("cannot create {}: {}", dir.string(), ec.message()), ExitCode::findings);
  std::ofstream out(file, std::ios::binary);
  out << text;
  if (!out.flush()) return fail(fmt::format("cannot write {}", file.string()), ExitCode::findings);
  out.close();
  // The template's job scripts (templates/<name>/...), so its stages run as shipped.
  const std::string prefix = fmt::format("templates/{}/", o.templ);
  std::vector<std::string> written = {display_path(file, fs::current_path())};
  for (const auto& r : resources::all()) {
    if (r.path.rfind(prefix, 0) != 0) continue;
    const fs::path target = dir / std::string(r.path.substr(prefix.size()));
    if (fs::exists(target, ec)) continue;
    fs::create_directories(target.parent_path(), ec);
    std::ofstream script(target, std::ios::binary);
    script << r.bytes;
    if (!script.flush()) return fail(fmt::format("cannot write {}", target.string()), ExitCode::findings);
    script.close();
    if (target.extension() == ".sh") {
      fs::permissions(target, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                      fs::perm_options::add, ec);
    }
    written.push_back(display_path(target, fs::current_path()));
  }
  for (const auto& w : written) std::printf("  created  %s\n", w.c_str());
  // What a tick would hit later is said now (a backend cairn.yaml does not configure,
  // a missing script); git tracking is the next step, printed below.
  const auto diagnostics =
      check_workflow(ctx, nullptr, display_path(file, fs::current_path()), text, dir, false);
  print_diagnostics(diagnostics);
  const std::string shown_dir = display_path(dir, fs::current_path());
  if (doc::has_errors(diagnostics)) {
    return fail(
        fmt::format("{} was created from template {} but does not validate (above); fix it before the "
                    "first tick",
                    written.front(), o.templ),
        ExitCode::findings);
  }
  std::printf("campaign %s from template %s validates\n", o.name.c_str(), o.templ.c_str());
  std::printf(
      "next: replace the bodies of %s/jobs/*.sh with your jobs, then `git add %s && git commit` and "
      "`cairn tick`\n",
      shown_dir.c_str(), shown_dir.c_str());
  return {};
}

}  // namespace

void define_new(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<NewOptions>();
  sub.add_option("name", o->name, "Campaign name (also its directory name)")->required();
  sub.add_option("-t,--template", o->templ, "Template: generic or namd-ensemble")->capture_default_str();
  run = [o](Session& session) { return run_new(session, *o); };
}

}  // namespace cairn::cli
