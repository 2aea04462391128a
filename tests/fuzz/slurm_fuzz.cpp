// Slurm's answers: squeue, sacct, sinfo, folded into job statuses; durations and times.

#include "fuzz.hpp"

#include <cairn/parse/units.hpp>
#include <cairn/sched/slurm.hpp>

using namespace cairn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  auto q = sched::parse_squeue(text);
  (void)sched::count_queued(q, "cairn.");
  auto a = sched::parse_sacct(text);
  q.insert(q.end(), a.begin(), a.end());
  std::vector<std::string> ids;
  for (const auto& r : q) ids.push_back(r.job_id);
  (void)sched::aggregate(q, ids);
  auto parts = sched::parse_sinfo(text);
  doc::Resources res;
  res.time_seconds = 3600;
  res.cpus = 4;
  (void)sched::choose_partition(parts, res);
  (void)parse::parse_walltime(text);
  (void)sched::parse_slurm_time(text);
  return 0;
}
