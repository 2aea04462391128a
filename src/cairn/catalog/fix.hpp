#pragma once

// Catalogued auto-fixes as pure functions over a stage's spec: each returns the
// frontmatter scalar edits that apply it, and the engine writes them surgically.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cairn/doc/workflow.hpp>
#include <cairn/engine/ports.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::catalog {

using FixResult = engine::FixPlan;

// The canonical form of a catalog's Auto-fix cell: "walltime x2", "mem x3", "gpus +1",
// "partition=NAME", "priority=LOW", "resubmit", "resubmit-from-checkpoint",
// "exclude-node", or "" for none/escalate/destructive/empty. Case and spacing are
// normalised ("Walltime  X2" -> "walltime x2", "exclude node" -> "exclude-node"), except
// the partition name, which keeps its case. nullopt for an unknown fix.
std::optional<std::string> canonical_fix(std::string_view cell);

// The edits that apply `fix` (canonical or as written in a catalog) to `spec`:
//   walltime xN    -> stages.<name>.resources.time multiplied by N (N in 2..10)
//   mem xN         -> stages.<name>.resources.mem multiplied by N, unit kept
//   gpus +N        -> stages.<name>.resources.gpus raised by N (N in 1..10)
//   partition=NAME -> stages.<name>.pool, else .resources.partition, set to NAME
//   priority=LOW   -> stages.<name>.priority (LOW, NORMAL or HIGH)
//   resubmit, exclude-node
//                  -> no edits (the failed node is not part of the spec)
//   resubmit-from-checkpoint
//                  -> no edits, `needs_checkpoint`: the engine resubmits only when the
//                     spec's `checkpoint:` advanced during the attempt
// A fix changes values the spec has; it never adds keys. Fails with the reason when the
// fix is unknown or needs a value the spec lacks (walltime x2 with no resources.time);
// the engine then escalates. Edits that raise a resource past `ceilings` are returned
// with `beyond_ceiling` saying which: the engine proposes them, never applies them.
//
// When `declared` (what the stage's job spec says, Scheduler::inspect) owns the
// resources (OSMO: the workflow YAML's `resources:` run, not the stage's), `mem xN`,
// `gpus +N` and `walltime xN` change the spec's template variables instead:
//   mem xN  -> stages.<name>.set.<var> multiplied by N, unit kept ("256Gi" -> "512Gi"),
//              for every template variable the spec's memory values are made of
//   gpus +N -> stages.<name>.set.<var> raised by N (and resources.gpus when the stage
//              has it, so the pool choice asks for as many)
// and fail, saying which key of which file to change, when the spec hard-codes the value
// ("resources.default.memory is 256Gi in osmo/train.yaml, not a template variable: ..."),
// when the stage's `set:` lacks the variable, or for a resource the spec has no template
// for (walltime). The spec itself is never edited.
Expected<FixResult> plan_fix(std::string_view fix, const doc::StageSpec& spec,
                             const doc::ResourceCeilings& ceilings = {},
                             const engine::SpecInfo* declared = nullptr);

}  // namespace cairn::catalog
