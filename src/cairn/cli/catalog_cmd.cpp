// `cairn catalog promote CLASS --from CAMPAIGN`: a fix that resolved a failure in one
// campaign becomes a row of the project catalog, so the next tick of every campaign
// applies it. One commit, like every other change cairn makes.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cairn/catalog/fix.hpp>
#include <cairn/cli/backends.hpp>
#include <cairn/cli/catalog_edit.hpp>
#include <cairn/cli/context.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/engine/commit_message.hpp>
#include <cairn/gitstore/repo.hpp>
#include <cairn/gitstore/store.hpp>
#include <cairn/parse/markdown.hpp>
#include <cairn/parse/workflow_file.hpp>
#include <cairn/util/suggest.hpp>
#include <cairn/util/time.hpp>

namespace cairn::cli {

namespace {

constexpr std::string_view kGenericCatalog = "catalogs/failure-catalog.md";

struct PromoteOptions {
  std::string error_class;
  std::string campaign;
  std::string to;  // project catalog file; default: the first of cairn.yaml `catalogs:`
};

Error findings(std::string message) {
  return fail(std::move(message), ExitCode::findings);
}

// "walltime x2 (resources.time 00:30:00 -> 01:00:00)" -> "walltime x2": the fix as a
// catalog writes it, without what it changed in that one campaign.
std::string fix_of_action(std::string_view action) {
  if (const auto paren = action.find(" ("); paren != std::string_view::npos) action = action.substr(0, paren);
  return std::string(action);
}

}  // namespace

// The project catalog to write: `--to`, else the first `catalogs:` entry that is not the
// shipped generic catalog. Only a file the tick reads makes the promotion useful.
Expected<std::string> target_catalog(const RepoContext& ctx, const std::string& to) {
  for (const auto& entry : ctx.config.catalogs) {
    const std::string file = entry.substr(0, entry.find('#'));
    if (file == kGenericCatalog) continue;
    if (to.empty() || to == file) return file;
  }
  if (!to.empty())
    return fail(fmt::format("{} is not among the project catalogs under `catalogs:` in cairn.yaml", to));
  return fail("no project catalog: name one under `catalogs:` in cairn.yaml (e.g. catalogs/project.md)");
}

namespace {

std::string escape_pipes(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

// One catalog row in the column order of the table whose header is on `header_line`.
std::string catalog_row(std::string_view header_line, const catalog::Entry& e, const std::string& fix,
                        const std::string& hint) {
  std::string row = "|";
  const auto cells = parse::md::split_row(header_line, 0, header_line.size());
  for (const auto& c : cells) {
    std::string title = parse::md::cell_value(header_line.substr(c.begin, c.end - c.begin));
    for (auto& ch : title) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string v;
    if (title == "class")
      v = e.error_class;
    else if (title == "exit code")
      v = fmt::format("{}", fmt::join(e.exit_codes, ", "));
    else if (title == "scheduler state")
      v = fmt::format("{}", fmt::join(e.states, ", "));
    else if (title.rfind("log signature", 0) == 0)
      v = e.signature_text;
    else if (title == "safe to retry")
      v = e.transient ? "transient" : (e.safe_to_retry ? "yes" : "no");
    else if (title == "auto-fix")
      v = fix;
    else if (title == "max fixes")
      v = std::to_string(std::max(1, e.max_auto_fixes));
    else if (title == "hint")
      v = hint;
    // The loader reads cells with `\|` unescaped (a signature's alternation, a hint's
    // pipe): write them back escaped, or the row would split.
    row += " " + (v.empty() ? std::string("—") : escape_pipes(v)) + " |";
  }
  return row;
}

struct Insertion {
  std::size_t offset = 0;  // where the new row's bytes go
  std::string header;      // the table's header line, for its column order
};

bool has_class_column(std::string_view line) {
  std::string lower(line);
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return lower.find("| class ") != std::string::npos || lower.find("|class|") != std::string::npos;
}

// After the last row of the first catalog table (a table whose header has a `Class`
// column) starting at or after 0-based line `from`.
std::optional<Insertion> table_end(const std::string& text, int from) {
  std::size_t offset = 0;
  std::string header;
  for (int n = 0; offset < text.size(); ++n) {
    const std::size_t eol = text.find('\n', offset);
    const std::size_t next = eol == std::string::npos ? text.size() : eol + 1;
    std::string_view line(text.data() + offset, (eol == std::string::npos ? text.size() : eol) - offset);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const bool row = !line.empty() && line.front() == '|';
    if (header.empty()) {
      if (n >= from && row && has_class_column(line)) header = std::string(line);
    } else if (!row) {
      return Insertion{offset, header};
    }
    offset = next;
  }
  if (header.empty()) return std::nullopt;
  return Insertion{text.size(), header};
}

std::size_t finding_count(const std::string& path, const std::string& text) {
  auto set = catalog::load_catalogs({{path, text, ""}});
  return set ? set->diagnostics().size() : set.error().size();
}

}  // namespace

Expected<std::string> with_catalog_row(const std::string& target, std::string text, const catalog::Entry& e,
                                       const std::string& fix, const std::string& hint, int from,
                                       std::string* row) {
  const auto where = table_end(text, from);
  if (!where) return findings(fmt::format("{} has no catalog table (a table with a `Class` column)", target));
  const std::string line = catalog_row(where->header, e, fix, hint);
  const std::string before = text;
  const bool needs_eol = where->offset == text.size() && !text.empty() && text.back() != '\n';
  text.insert(where->offset, (needs_eol ? "\n" : "") + line + "\n");
  // The catalog must still load, with no new finding about the row just written.
  if (finding_count(target, text) > finding_count(target, before)) {
    return findings(fmt::format("the row would not load: {}", line));
  }
  if (row != nullptr) *row = line;
  return text;
}

namespace {

Outcome run_promote(Session& session, const PromoteOptions& o) {
  const RepoContext* ctx = &session.ctx;
  const auto c = CAIRN_TRY(find_campaign(*ctx, o.campaign));
  auto file = parse::WorkflowFile::parse(c.path, c.text);
  if (!file) {
    print_diagnostics(file.error());
    return findings(fmt::format("{} does not parse; fix it first (`cairn validate {}`)", c.path, c.path));
  }
  std::optional<doc::FailureRow> resolved;
  std::vector<std::string> logged;  // the classes its failure log names, for a did-you-mean
  for (const auto& row : file->workflow().failures) {
    if (row.error_class == o.error_class && row.result == "RESOLVED") resolved = row;
    if (std::find(logged.begin(), logged.end(), row.error_class) == logged.end())
      logged.push_back(row.error_class);
  }
  if (!resolved) {
    return findings(
        fmt::format("{} has no RESOLVED `{}` row in its failure log{}: only a fix that worked is promoted",
                    o.campaign, o.error_class, util::did_you_mean(o.error_class, logged)));
  }

  const std::string fix_text = fix_of_action(resolved->action);
  const auto fix = catalog::canonical_fix(fix_text);
  if (!fix || fix->empty()) {
    return findings(fmt::format("`{}` (from the failure log) is not a catalogued fix", resolved->action));
  }
  std::vector<doc::Diagnostic> diagnostics;
  auto set = load_catalog_set(*ctx, diagnostics);
  if (!set) return findings(set.error().message);
  auto target = CAIRN_TRY(target_catalog(*ctx, o.to));

  const catalog::Entry* source = nullptr;
  for (const auto& e : set->entries()) {
    if (e.error_class != o.error_class) continue;
    if (e.path == target && e.fix == *fix) {
      std::printf("%s:%d already applies `%s` to %s; nothing to promote\n", e.path.c_str(), e.line,
                  fix->c_str(), o.error_class.c_str());
      return {};
    }
    if (source == nullptr) source = &e;
  }
  if (source == nullptr) return findings(fmt::format("no catalog entry recognises `{}`", o.error_class));

  std::ifstream in(ctx->top / target, std::ios::binary);
  if (!in) return findings(fmt::format("{} cannot be read", target));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  // Project catalogs come before the generic one and rows match top to bottom, so the
  // end of the project's first catalog table is enough to win over the generic entry.
  int from = 0;
  for (const auto& e : set->entries()) {
    if (e.path == target) {
      from = std::max(0, e.line - 3);  // its table's header is two lines above
      break;
    }
  }
  const auto now = std::chrono::system_clock::now();
  const std::string hint = fmt::format("{} Promoted from {} ({}): resolved by {}.", source->hint, o.campaign,
                                       resolved->date, resolved->action);
  std::string row;
  text = CAIRN_TRY(with_catalog_row(target, std::move(text), *source, *fix, hint, from, &row));

  gitstore::Repo* repo = &*session.repo;
  CAIRN_TRY(refuse_dirty(*repo, {target}, "promote into " + target));
  auto store = gitstore::GitStore::open(ctx->top.string());
  if (!store) return fail(store.error().message, ExitCode::unreachable);
  engine::Transition t;
  t.campaign = o.campaign;
  t.stage = resolved->stage;
  t.from = "catalog";
  t.to = "promoted";
  t.error_class = o.error_class;
  t.tick = util::iso8601(now);
  t.body.push_back(fmt::format("Promote the fix that resolved {} at {} in {} ({}) into {}.", o.error_class,
                               resolved->stage, o.campaign, resolved->action, target));
  t.body.push_back("Row: " + row);
  std::string message = engine::render_commit_message(t);
  message.replace(0, message.find('\n'),
                  fmt::format("catalog: promote {} ({}) from {}", o.error_class, *fix, o.campaign));
  auto id = (*store)->commit({target, text, message}, repo->default_identity());
  if (id && !(*store)->flush()) id = fail("flush failed");
  if (!id) return fail(id.error().message, ExitCode::unreachable);
  std::printf("promoted %s -> `%s` into %s (%s)\n", o.error_class.c_str(), fix->c_str(), target.c_str(),
              id->substr(0, 8).c_str());
  return {};
}

}  // namespace

void define_catalog(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<PromoteOptions>();
  sub.require_subcommand(1);
  CLI::App* promote = sub.add_subcommand(
      "promote", "Copy the fix that resolved CLASS in CAMPAIGN into the project catalog, as its own commit");
  promote->add_option("class", o->error_class, "Error class, as in the failure log")->required();
  promote->add_option("--from", o->campaign, "Campaign whose failure log has the RESOLVED row")->required();
  promote->add_option("--to", o->to, "Project catalog file (default: the first of cairn.yaml `catalogs:`)");
  run = [o](Session& session) { return run_promote(session, *o); };
}

}  // namespace cairn::cli
