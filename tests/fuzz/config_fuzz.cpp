// cairn.yaml: a value or file:line:col diagnostics, nothing else.

#include "fuzz.hpp"

#include <cairn/parse/config.hpp>

using namespace cairn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(fuzz::as_text(data, size));
  std::vector<doc::Diagnostic> warnings;
  auto c = parse::parse_config("cairn.yaml", text, &warnings);
  if (!c) CAIRN_FUZZ_CHECK(!c.error().empty(), text);
  return 0;
}
