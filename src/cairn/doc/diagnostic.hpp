#pragma once

// A finding about a file, printed the way compilers print them so editors jump to it:
// `path:line:col: error|warning: message`.

#include <string>
#include <vector>

namespace cairn::doc {

enum class Severity { error, warning };

struct Diagnostic {
  std::string path;
  int line = 0;    // 1-based; 0 = the whole file
  int column = 0;  // 1-based; 0 = the whole line
  Severity severity = Severity::error;
  std::string message;
};

// Renders `path:line:col: error: message` (line and column omitted when 0).
std::string format(const Diagnostic& d);

// True when any diagnostic is an error.
bool has_errors(const std::vector<Diagnostic>& ds);

}  // namespace cairn::doc
