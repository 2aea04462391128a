// Units (walltime, duration, memory, arrays) and the `stages:` block of a frontmatter.

#include "fuzz.hpp"

#include <cairn/parse/frontmatter.hpp>
#include <cairn/parse/stage_spec.hpp>
#include <cairn/parse/units.hpp>

using namespace cairn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  if (auto w = parse::parse_walltime(text)) {
    CAIRN_FUZZ_CHECK(*w >= 0, text);
    // Written and read again, a walltime keeps its value.
    auto back = parse::parse_walltime(parse::format_walltime(*w));
    CAIRN_FUZZ_CHECK(back && *back == *w, text);
  }
  if (auto d = parse::parse_duration(text)) CAIRN_FUZZ_CHECK(*d > 0, text);
  if (auto m = parse::parse_mem_mb(text)) (void)parse::format_mem(*m);
  if (auto a = parse::expand_array(text)) CAIRN_FUZZ_CHECK(a->size() <= 100000, text);
  // As the YAML of a `stages:` mapping.
  if (auto root = parse::fm::read_simple(text)) {
    std::vector<doc::Diagnostic> out;
    (void)parse::parse_stage_specs(*root, 0, "demo/WORKFLOW.md", out);
  }
  return 0;
}
