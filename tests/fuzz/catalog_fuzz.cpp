// Failure catalogs: load a Markdown catalog (part 1), classify evidence (parts 2, 3:
// log tail and scheduler reason) against it, and plan the fix it names.

#include "fuzz.hpp"

#include <cairn/catalog/catalog.hpp>
#include <cairn/catalog/fix.hpp>

using namespace cairn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto p = fuzz::parts(fuzz::as_text(data, size), 3);
  auto set = catalog::load_catalogs({{"catalog.md", p[0], ""}});
  if (!set) return 0;
  engine::Evidence e;
  e.exit_code = 1;
  e.state = "FAILED";
  e.log_tail = p[1];
  e.reason = p[2];
  if (auto cls = set->classify(e)) {
    CAIRN_FUZZ_CHECK(cls->matched.size() <= 1024, cls->matched);
    doc::StageSpec spec;
    spec.name = "s";
    spec.resources.time_seconds = 3600;
    spec.resources.time_text = "01:00:00";
    spec.resources.mem_mb = 1024;
    spec.resources.mem_text = "1G";
    spec.resources.gpus = 1;
    (void)catalog::plan_fix(cls->fix, spec);
  }
  (void)catalog::canonical_fix(p[1]);
  return 0;
}
