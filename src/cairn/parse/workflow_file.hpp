#pragma once

// A WORKFLOW.md held as its original bytes plus the located spans of everything cairn
// reads or writes. Parsing never changes a byte; every edit replaces only the bytes of
// one cell or scalar (or appends lines to a section), so `git diff` shows exactly the
// transition and an unedited file writes back identical.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <cairn/doc/diagnostic.hpp>
#include <cairn/doc/workflow.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::parse {

namespace md {
struct CellSpan;
}
namespace detail {
struct LogTable;
}

// Files larger than this are refused (docs/workflow-file.md: "a file over 1 MiB").
inline constexpr std::size_t kMaxWorkflowBytes = 1024 * 1024;

// What deciding "is this campaign due?" needs, from the frontmatter alone. cairn keeps
// `status`, `current_stage` and `last_tick` in step with the stage table on every
// commit, so a tick over thousands of campaigns parses only the ones that are due.
struct Schedule {
  std::string campaign;
  doc::Status status = doc::Status::pending;
  bool escalation_required = false;
  std::string last_tick;
  std::string current_stage;
  // The current stage's `expect`, else its `resources.time`; nullopt when neither.
  std::optional<std::int64_t> expect_seconds;
};

// Reads the Schedule of a WORKFLOW.md text. nullopt when the frontmatter is missing,
// outside the fast reader's subset, or lacks a readable `status`: the caller then
// parses the whole file, which also reports what is wrong.
std::optional<Schedule> peek_schedule(std::string_view text);

// The edits of WorkflowFile, as values, for WorkflowFile::apply (one batch, parsed once).
namespace edit {
struct Scalar {  // set_scalar, or set_optional_scalar when `optional_key`
  std::string key;
  std::string value;
  bool optional_key = false;
  bool best_effort = false;  // an edit the file cannot take is skipped, not a failure
};
struct Cell {  // set_cell
  std::string stage;
  doc::Column column = doc::Column::status;
  std::string value;
};
struct Failure {  // append_failure
  doc::FailureRow row;
};
struct FailureResult {  // set_failure_result
  std::size_t row = 0;
  std::string result;
};
struct Learning {  // append_learning
  doc::LearningRow row;
};
struct Action {  // upsert_action
  std::string prefix;
  std::string text;
  bool checked = false;
};
struct Lesson {  // append_lesson
  std::string text;
};
}  // namespace edit
using Edit = std::variant<edit::Scalar, edit::Cell, edit::Failure, edit::FailureResult, edit::Learning,
                          edit::Action, edit::Lesson>;

class WorkflowFile {
 public:
  // Parses `text`, read from `path` (used in diagnostics only). Fails with the
  // diagnostics that make the file unusable: no or unterminated frontmatter, invalid
  // YAML, YAML anchors/aliases, missing or malformed `## Stages` table, unknown
  // Status, duplicate stages, oversize or invalid UTF-8. Warnings and uncheckable
  // conditions of a usable file are in diagnostics().
  static Expected<WorkflowFile, std::vector<doc::Diagnostic>> parse(std::string path, std::string text);

  const std::string& path() const { return m_path; }
  const doc::Workflow& workflow() const { return m_workflow; }
  // The current bytes: the original text plus the edits made so far.
  const std::string& text() const { return m_text; }
  // Non-fatal findings (warnings, uncheckable clauses as errors for `validate`).
  const std::vector<doc::Diagnostic>& diagnostics() const { return m_diagnostics; }
  // The 1-based line and column (byte offset in the line + 1) of byte `offset` of
  // text(); offsets past the end map to the last line. Scans the text (no line index is
  // kept per file).
  std::pair<int, int> position(std::size_t offset) const;

  // Sets one stage-table cell of the row named `stage`. An empty value writes `—`.
  // The cell is re-padded to its column width when the value fits. Fails when the
  // stage does not exist or the value holds `|` or a newline.
  Expected<void> set_cell(std::string_view stage, doc::Column column, std::string_view value);

  // Sets a frontmatter scalar by dotted key (`status`, `budget.spent_usd`,
  // `stages.smoke.resources.time`), keeping its quoting style and any trailing
  // comment. `value` is the plain value; it is quoted when YAML needs it. Fails when
  // the key is absent or not a scalar.
  Expected<void> set_scalar(std::string_view dotted_key, std::string_view value);

  // set_scalar() for an optional top-level key (`paused`): when the frontmatter does
  // not have it, it is added as the frontmatter's last line.
  Expected<void> set_optional_scalar(std::string_view key, std::string_view value);

  // Appends a row to the `## Failure log` table (creating the table under an existing
  // heading if it has none). Fails when there is no Failure log section.
  Expected<void> append_failure(const doc::FailureRow& row);

  // Sets the Result cell of failure-log row `row` (0-based, as in Workflow::failures),
  // e.g. RETRYING -> RESOLVED once the retried stage is done.
  Expected<void> set_failure_result(std::size_t row, std::string_view result);

  // Appends a row to the `## Learnings` table, adding the section (after Lessons
  // learned, else at the end of the file) when the file has none.
  Expected<void> append_learning(const doc::LearningRow& row);

  // Finds the action-queue item whose text starts with `prefix` (e.g. "cairn:") and
  // replaces its line; appends a new item when there is none. Items whose text does not
  // start with `prefix` are never touched. Fails when there is no Action queue section.
  Expected<void> upsert_action(std::string_view prefix, std::string_view text, bool checked);

  // Appends a bullet to `## Lessons learned` (replacing a `(none yet)` placeholder).
  Expected<void> append_lesson(std::string_view text);

  // Applies `edits` as one batch and parses the file once: the same bytes as calling the
  // edits above one by one in order. Each edit's bytes are computed against the file as
  // it was before the batch (stages by their names then, Failure-log rows by their index
  // then, action items by prefix among the items then and those the batch appends), and
  // the replacements are spliced in together: appends at the same place land in edit
  // order. A batch whose edits interact beyond that (two edits of one cell or scalar, a
  // row or item the batch itself added and then edits, a section the batch creates and
  // then appends to again, a renamed stage) and a batch whose result does not parse are
  // applied one by one instead, so the bytes are always those of the one-by-one edits.
  // Fails with the first edit the file cannot take (best-effort scalars are skipped);
  // the file is then unchanged, or partly edited when the one-by-one path failed.
  Expected<void> apply(const std::vector<Edit>& edits);

 private:
  WorkflowFile() = default;
  // Where an edit writes: bytes [begin, end) of text() become `bytes`.
  struct Replacement {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::string bytes;
    int creates = 0;  // a structure the edit adds (the Creates enum in the .cpp), 0 = none
  };
  // What one edit would write against text() as it is; nullopt when it changes nothing.
  using Planned = std::optional<Replacement>;
  Expected<Planned> plan_cell(std::string_view stage, doc::Column column, std::string_view value) const;
  // The frontmatter's place in text() and its YAML text, for the scalar edits.
  struct Frontmatter {
    std::size_t yaml_begin = 0;
    std::size_t yaml_end = 0;
    std::string yaml;
    bool crlf = false;
  };
  Expected<Frontmatter> frontmatter() const;
  Expected<Planned> plan_scalar(std::string_view dotted_key, std::string_view value) const;
  Expected<Planned> plan_optional_scalar(std::string_view key, std::string_view value) const;
  Expected<Planned> plan_failure(const doc::FailureRow& row) const;
  Expected<Planned> plan_failure_result(std::size_t row, std::string_view result) const;
  Expected<Planned> plan_learning(const doc::LearningRow& row) const;
  // The Learnings table from before its Pool failures column, with that column (`title`)
  // added to its header and rule and the row `values` appended: one replacement.
  Expected<Planned> plan_widened_learning(const std::vector<std::string>& values,
                                          const std::string& title) const;
  Expected<Planned> plan_action(std::string_view prefix, std::string_view text, bool checked) const;
  Expected<Planned> plan_lesson(std::string_view text) const;
  // `lines` as a new Markdown block after 0-based line `after`, separated by a blank line
  // (and followed by one when the next line is not blank).
  Expected<Planned> plan_block(int after, const std::vector<std::string>& lines) const;
  // One table cell rewritten, keeping its padding when the value fits.
  Expected<Planned> plan_replace_cell(const md::CellSpan& cell, std::string_view value) const;
  // `values` as a row of `table`, creating the table (with `header`) under the section's
  // heading when it has none.
  Expected<Planned> plan_log_row(const detail::LogTable& table, const std::vector<std::string>& values,
                                 const std::vector<std::string>& header) const;
  // Applies one planned edit (parsing the result).
  Expected<void> apply_planned(Expected<Planned> planned);
  // Applies the edits one by one.
  Expected<void> apply_each(const std::vector<Edit>& edits);
  // Re-reads spans after an edit; an edit that would make the file unparsable is
  // rolled back and reported.
  Expected<void> replace(std::size_t begin, std::size_t end, std::string_view bytes);

  std::string m_path;
  std::string m_text;
  doc::Workflow m_workflow;
  std::vector<doc::Diagnostic> m_diagnostics;
  struct Spans;
  std::shared_ptr<const Spans> m_spans;
};

}  // namespace cairn::parse
