#pragma once

// Turns the plan's Moves into span edits on one WorkflowFile and one commit each
// through the Store port (engine/plan.hpp decides; this writes).

#include <string>
#include <vector>

#include <cairn/doc/diagnostic.hpp>
#include <cairn/engine/plan.hpp>
#include <cairn/engine/ports.hpp>
#include <cairn/parse/workflow_file.hpp>

namespace cairn::engine {

// Who the commits are from and what they carry besides the move.
struct CommitContext {
  Identity identity;
  std::string run_url;   // `Cairn-Run-URL`
  std::string tick_id;   // `Cairn-Tick-Id`
  bool dry_run = false;  // edit the file, commit nothing
};

// What applying one Move did.
struct Applied {
  bool ok = false;         // edits and commit went through
  std::string diagnostic;  // an edit the file could not take (the schema's promise broken)
  std::string error;       // the commit failed (infrastructure)
  Transition transition;   // as committed (tick time and ids filled in)
};

// Applies `move` to `file`: its edits in order, then the upkeep fields the edited table
// implies (`status`, `current_stage`, `last_tick` = `now`, cairn's "campaign done" item
// when every stage is done), then one commit of `path` (and the move's other files)
// through `store`, unless `context.dry_run`. An edit that fails leaves `file` partly
// edited: the caller drops it (the next tick starts from HEAD again).
Applied apply_move(Move move, parse::WorkflowFile& file, const std::string& path, Store& store,
                   const CommitContext& context, TimePoint now);

}  // namespace cairn::engine
