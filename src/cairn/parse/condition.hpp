#pragma once

// The condition-clause grammar of docs/workflow-file.md "Conditions": a stage's Entry or
// Exit cell, split into typed clauses. What is not machine-checkable comes back as an
// UncheckableClause with its column and a suggested rewrite, never as a guess.

#include <string_view>

#include <cairn/doc/condition.hpp>

namespace cairn::parse {

// Parses `cell` (the cell's text, trimmed), whose first byte is at 1-based file column
// `column`. Clauses are separated by commas outside backticks. An empty cell, `—` or
// `-` has no clauses. Never fails: every clause is either in `clauses` or in
// `uncheckable`, each with the column of its first character.
doc::Condition parse_condition(std::string_view cell, int column);

}  // namespace cairn::parse
