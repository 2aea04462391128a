// Condition cells (entry/exit clauses): any text parses to clauses or located
// uncheckable ones, never more than the cell holds.

#include "fuzz.hpp"

#include <cairn/parse/condition.hpp>

using namespace cairn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  const doc::Condition c = parse::parse_condition(text, 7);
  CAIRN_FUZZ_CHECK(c.clauses.size() + c.uncheckable.size() <= text.size() + 1, text);
  return 0;
}
