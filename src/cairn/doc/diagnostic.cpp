#include <cairn/doc/diagnostic.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace cairn::doc {

std::string format(const Diagnostic& d) {
  const char* sev = d.severity == Severity::error ? "error" : "warning";
  if (d.line == 0) return fmt::format("{}: {}: {}", d.path, sev, d.message);
  if (d.column == 0) return fmt::format("{}:{}: {}: {}", d.path, d.line, sev, d.message);
  return fmt::format("{}:{}:{}: {}: {}", d.path, d.line, d.column, sev, d.message);
}

bool has_errors(const std::vector<Diagnostic>& ds) {
  return std::any_of(ds.begin(), ds.end(), [](const Diagnostic& d) { return d.severity == Severity::error; });
}

}  // namespace cairn::doc
