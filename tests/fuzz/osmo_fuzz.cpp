// OSMO's answers: workflow query, submit output, pool and resource lists, events.

#include "fuzz.hpp"

#include <cairn/sched/osmo.hpp>

using namespace cairn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  (void)sched::parse_workflow_query(text);
  (void)sched::parse_submit_output(text);
  auto pools = sched::parse_pool_list(text);
  auto nodes = sched::parse_resource_list(text);
  if (pools && nodes) (void)sched::choose_pool(*pools, *nodes, 8, "h100");
  (void)sched::event_warnings(text);
  (void)sched::blocking_event(text);
  return 0;
}
