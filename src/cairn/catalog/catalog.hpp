#pragma once

// Failure catalogs: GFM tables in Markdown files (catalogs/failure-catalog.md, a
// project's playbook), loaded into a CatalogSet that classifies a failed job's evidence
// and plans the catalogued auto-fix. The table format is documented at the top of
// catalogs/failure-catalog.md.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cairn/doc/diagnostic.hpp>
#include <cairn/engine/ports.hpp>
#include <cairn/util/expected.hpp>

namespace re2 {
class RE2;
}

namespace cairn::catalog {

// One catalog to load. Sources are consulted in the order given: project catalogs
// first, the generic one last.
struct Source {
  std::string path;     // for messages and Classification::source
  std::string text;     // the Markdown
  std::string section;  // optional GitHub anchor (`common-failure-modes`): only tables
                        // under that heading (up to the next heading of its level or
                        // above) are read; empty = every table in the file
};

// One catalog row, validated and compiled.
struct Entry {
  std::string error_class;
  std::vector<int> exit_codes;            // empty = not checked
  std::vector<std::string> states;        // upper-case, `_`-separated; empty = not checked
  std::string signature;                  // the RE2 pattern as compiled (literal text quoted)
  std::string signature_text;             // the cell as written, for `cairn classify`/docs
  std::shared_ptr<const re2::RE2> regex;  // null when the row has no log signature
  bool safe_to_retry = false;
  bool transient = false;
  bool destructive = false;
  std::string fix;  // canonical fix name; empty = none (escalate)
  int max_auto_fixes = 1;
  std::string hint;
  std::string path;  // the catalog file
  int line = 0;      // 1-based line of the row

  // The row as the engine sees a match of it (`matched` left empty).
  engine::Classification classification() const;
};

struct SignatureIndex;  // every entry's log signature in one RE2::Set (catalog.cpp)

// The loaded catalogs, in priority order. Implements the engine's Catalog port.
class CatalogSet : public engine::Catalog {
 public:
  CatalogSet() = default;
  // Compiles every entry's log signature into one RE2::Set as well, so classifying
  // scans the evidence once however many entries there are.
  CatalogSet(std::vector<Entry> entries, std::vector<doc::Diagnostic> diagnostics);

  // The first entry whose non-empty signature columns (exit codes, scheduler states,
  // log signature) all match `evidence`, as a Classification; nullopt when none does.
  // `matched` is the evidence line the signature matched, trimmed to ~200 bytes.
  std::optional<engine::Classification> classify(const engine::Evidence& evidence) const override;

  // Delegates to catalog::plan_fix (fix.hpp): the frontmatter edits for `fix`, or the
  // reason the fix cannot apply to `spec`.
  Expected<engine::FixPlan> plan_fix(std::string_view fix, const doc::StageSpec& spec,
                                     const doc::ResourceCeilings& ceilings,
                                     const engine::SpecInfo* declared) const override;
  // Without ceilings: what a human approving the change (a clear-escalation PR) applies.
  Expected<engine::FixPlan> plan_fix(std::string_view fix, const doc::StageSpec& spec) const {
    return plan_fix(fix, spec, {}, nullptr);
  }

  // The first entry of class `error_class` (project catalogs first), as a
  // Classification without evidence; nullopt when no catalog has the class.
  std::optional<engine::Classification> by_class(std::string_view error_class) const;

  // Every loaded entry, in priority order.
  const std::vector<Entry>& entries() const { return m_entries; }
  // Findings from loading (malformed rows, bad regexes, missing sections) about the
  // parts that were skipped; the entries above are still usable.
  const std::vector<doc::Diagnostic>& diagnostics() const { return m_diagnostics; }

 private:
  // Per entry: whether its log signature can match `evidence` (true for an entry with
  // none, and for every entry when the set cannot answer).
  std::vector<bool> signature_hits(const engine::Evidence& evidence) const;

  std::vector<Entry> m_entries;
  std::vector<doc::Diagnostic> m_diagnostics;
  std::shared_ptr<const SignatureIndex> m_index;  // null when no entry has a log signature
};

// Parses every source's catalog tables. A malformed row, an invalid regex or an unknown
// fix is a diagnostic (`path:line:col`, line of the row) and that row is skipped; the
// rest loads, and the diagnostics are kept in CatalogSet::diagnostics(). Fails, with all
// diagnostics, only when no source yields a single entry.
Expected<CatalogSet, std::vector<doc::Diagnostic>> load_catalogs(std::vector<Source> sources);

// The GitHub-style anchor of a heading: lower-cased, punctuation other than `-` and `_`
// dropped, spaces turned into `-` ("Common failure modes" -> "common-failure-modes").
std::string heading_slug(std::string_view heading);

}  // namespace cairn::catalog
