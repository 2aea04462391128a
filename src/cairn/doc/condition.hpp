#pragma once

// The condition-clause grammar of docs/workflow-file.md "Conditions", as plain data. A
// stage's Entry and Exit cells are comma-separated clauses; every clause is either
// machine-checkable (a Clause) or reported (an UncheckableClause) -- nothing passes
// silently.

#include <string>
#include <vector>

namespace cairn::doc {

struct Clause {
  enum class Kind {
    always,          // `always`
    stage_done,      // `stage N done` / `stage NAME done`: `operand` holds N or NAME
    exit_code,       // `exit=N`: `exit_code`
    file_exists,     // `` `PATH` exists `` / `` N× `GLOB` exists ``: `operand`, `count` (0 = any)
    no_word_in_log,  // `no WORD in log`: `operand` is the word
    command_ok,      // `` `CMD` exits 0 ``: `operand` is the command
    approved,        // `approved`
  };
  Kind kind = Kind::always;
  int column = 0;  // 1-based column of the clause in its line of the file
  int exit_code = 0;
  int count = 0;
  std::string text;     // the clause as written, trimmed
  std::string operand;  // the stage, path/glob, word or command, by kind
};

struct UncheckableClause {
  std::string text;
  int column = 0;
  std::string suggestion;  // e.g. "write `restart.coor` exists"; may be empty
};

struct Condition {
  std::vector<Clause> clauses;
  std::vector<UncheckableClause> uncheckable;
  bool checkable() const { return uncheckable.empty(); }
};

}  // namespace cairn::doc
