#include <cairn/engine/apply.hpp>

#include <fmt/format.h>

#include <cairn/engine/facts.hpp>
#include <cairn/util/time.hpp>

namespace cairn::engine {

namespace {

// Every edit of `move`, in the order plan.hpp documents. Fails with the first edit the
// file could not take.
Expected<void> edit(const Move& move, parse::WorkflowFile& file) {
  for (const auto& s : move.scalars) {
    CAIRN_TRY(s.optional_key ? file.set_optional_scalar(s.key, s.value) : file.set_scalar(s.key, s.value));
  }
  for (const auto& c : move.cells) CAIRN_TRY(file.set_cell(c.stage, c.column, c.value));
  for (const auto& row : move.failures) CAIRN_TRY(file.append_failure(row));
  for (const std::size_t i : move.resolved) CAIRN_TRY(file.set_failure_result(i, "RESOLVED"));
  for (const auto& lesson : move.lessons) CAIRN_TRY(file.append_lesson(lesson));
  if (move.learning) CAIRN_TRY(file.append_learning(*move.learning));
  for (const auto& a : move.actions) CAIRN_TRY(file.upsert_action(a.prefix, a.text, a.checked));
  return {};
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
  if (status == doc::Status::done) {
    if (auto r = file.upsert_action(
            kActionPrefix, fmt::format("{} campaign done at {}", kActionPrefix, util::table_time(now)), true);
        !r) {
      out.diagnostic = r.error().message;
      return out;
    }
  }
  // Upkeep keys may be absent from hand-written files; the transition still stands.
  (void)file.set_scalar("status", std::string(to_string(status)));
  (void)file.set_scalar("current_stage", implied_current_stage(file.workflow()));
  (void)file.set_scalar("last_tick", util::iso8601(now));
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
