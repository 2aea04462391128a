#include <cairn/engine/apply.hpp>

#include <fmt/format.h>

#include <cairn/engine/facts.hpp>
#include <cairn/util/time.hpp>

namespace cairn::engine {

namespace {

// Every edit of `move`, in the order plan.hpp documents, as one batch (parsed once).
// Fails with the first edit the file could not take.
Expected<void> edit(const Move& move, parse::WorkflowFile& file) {
  std::vector<parse::Edit> edits;
  edits.reserve(move.scalars.size() + move.cells.size() + move.failures.size() + move.resolved.size() +
                move.lessons.size() + 1 + move.actions.size());
  for (const auto& s : move.scalars) edits.emplace_back(parse::edit::Scalar{s.key, s.value, s.optional_key});
  for (const auto& c : move.cells) edits.emplace_back(parse::edit::Cell{c.stage, c.column, c.value});
  for (const auto& row : move.failures) edits.emplace_back(parse::edit::Failure{row});
  for (const std::size_t i : move.resolved) edits.emplace_back(parse::edit::FailureResult{i, "RESOLVED"});
  for (const auto& lesson : move.lessons) edits.emplace_back(parse::edit::Lesson{lesson});
  if (move.learning) edits.emplace_back(parse::edit::Learning{*move.learning});
  for (const auto& a : move.actions) edits.emplace_back(parse::edit::Action{a.prefix, a.text, a.checked});
  return file.apply(edits);
}

}  // namespace

Applied apply_move(Move move, parse::WorkflowFile& file, const std::string& path, Store& store,
                   const CommitContext& context, TimePoint now) {
  Applied out;
  Transition& t = move.transition;
  t.tick = util::iso8601(now);
  t.run_url = context.run_url;
  t.tick_id = context.tick_id;
  if (auto r = edit(move, file); !r) {
    out.diagnostic = r.error().message;
    return out;
  }
  // The upkeep fields are derived from the table, never remembered.
  const doc::Status status = implied_status(file.workflow());
  std::vector<parse::Edit> upkeep;
  if (status == doc::Status::done) {
    upkeep.emplace_back(parse::edit::Action{
        std::string(kActionPrefix),
        fmt::format("{} campaign done at {}", kActionPrefix, util::table_time(now)), true});
  }
  // Upkeep keys may be absent from hand-written files; the transition still stands.
  upkeep.emplace_back(parse::edit::Scalar{"status", std::string(to_string(status)), false, true});
  upkeep.emplace_back(
      parse::edit::Scalar{"current_stage", implied_current_stage(file.workflow()), false, true});
  upkeep.emplace_back(parse::edit::Scalar{"last_tick", util::iso8601(now), false, true});
  if (auto r = file.apply(upkeep); !r) {
    out.diagnostic = r.error().message;
    return out;
  }
  if (!context.dry_run) {
    auto id =
        store.commit({path, file.text(), render_commit_message(t), std::move(move.also)}, context.identity);
    if (!id) {
      out.error = id.error().message;
      return out;
    }
  }
  out.ok = true;
  out.transition = std::move(t);
  return out;
}

}  // namespace cairn::engine
