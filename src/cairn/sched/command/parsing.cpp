#include <cairn/sched/command/parsing.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

#include <re2/re2.h>

#include <cairn/util/number.hpp>

namespace cairn::sched::command {

bool icontains(std::string_view hay, std::string_view needle) {
  return lower(hay).find(lower(needle)) != std::string::npos;
}

std::string clip(std::string_view s, std::size_t n) {
  return s.size() <= n ? std::string(s) : std::string(s.substr(0, n)) + "...";
}

std::vector<std::pair<int, std::string_view>> numbered_lines(std::string_view text) {
  std::vector<std::pair<int, std::string_view>> out;
  int n = 0;
  while (!text.empty()) {
    ++n;
    auto p = text.find('\n');
    auto line = trim(text.substr(0, p));
    if (!line.empty()) out.emplace_back(n, line);
    if (p == std::string_view::npos) break;
    text.remove_prefix(p + 1);
  }
  return out;
}

std::optional<std::int64_t> json_int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_number()) return util::to_int64(it->get<double>());
  if (it->is_string()) return to_int(it->get<std::string>());
  return std::nullopt;
}

std::optional<double> json_double(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (it->is_number()) return it->get<double>();
  if (it->is_string()) {
    try {
      return std::stod(it->get<std::string>());
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::string json_str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  if (it->is_number() || it->is_boolean()) return it->dump();
  return "";
}

Expected<json> parse_document(std::string_view what, std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    auto ls = numbered_lines(text);
    return fail(std::string(what) + " printed no JSON" + (ls.empty() ? "" : ": " + clip(ls.front().second)));
  }
  return j;
}

std::string first_group(const std::string& pattern, std::string_view text) {
  const RE2 re(pattern, RE2::Quiet);
  re2::StringPiece group;
  if (re.ok() && re.NumberOfCapturingGroups() >= 1 &&
      RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), re, &group)) {
    return std::string(group.data(), group.size());
  }
  return "";
}

void JobRows::add(CommandJob job, const std::string& task) {
  const std::string id = job.status.job_id;
  if (!task.empty()) {
    engine::TaskStatus t;
    t.index = task;
    t.state = job.status.state;
    t.exit_code = job.status.exit_code;
    t.reason = job.status.reason;
    job.status.tasks = {t};
  }
  if (!m_by_id.count(id)) m_order.push_back(id);
  m_by_id[id].push_back(std::move(job));
}

std::vector<CommandJob> JobRows::fold() && {
  std::vector<CommandJob> jobs;
  for (const auto& id : m_order) {
    auto& rows = m_by_id[id];
    const bool tasks =
        std::any_of(rows.begin(), rows.end(), [](const CommandJob& j) { return !j.status.tasks.empty(); });
    if (!tasks) {
      jobs.push_back(rows.back());
      continue;
    }
    CommandJob merged = rows.front();
    merged.status.tasks.clear();
    double cost = 0, cpu = 0;
    bool have_cost = false, have_cpu = false;
    for (const auto& r : rows) {
      if (r.status.tasks.empty()) continue;  // the array's own row: its tasks say it all
      merged.status.tasks.insert(merged.status.tasks.end(), r.status.tasks.begin(), r.status.tasks.end());
      if (r.status.cost_usd) cost += *r.status.cost_usd, have_cost = true;
      if (r.status.cpu_hours) cpu += *r.status.cpu_hours, have_cpu = true;
    }
    if (have_cost) merged.status.cost_usd = cost;
    if (have_cpu) merged.status.cpu_hours = cpu;
    engine::summarize_tasks(merged.status);
    jobs.push_back(std::move(merged));
  }
  return jobs;
}

}  // namespace cairn::sched::command
