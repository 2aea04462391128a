#pragma once

// Recording fakes for the engine's ports: the engine is tested without processes,
// git or real time.

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <cairn/engine/ports.hpp>
#include <cairn/util/time.hpp>

namespace cairn::engine::testing {

class FakeClock : public Clock {
 public:
  explicit FakeClock(std::string_view iso = "2026-05-05T20:00:00Z") : m_now(*util::parse_time(iso)) {}
  TimePoint now() const override { return m_now; }
  void advance(std::chrono::seconds s) { m_now += s; }

 private:
  TimePoint m_now;
};

class FakeScheduler : public Scheduler {
 public:
  // Every job ever submitted under the key, ended ones included, as squeue --states=all,
  // sacct and the local state dir answer.
  Expected<std::optional<std::string>> find(const JobKey& key) override {
    ++m_find_calls;
    auto it = m_by_key.find(key.str());
    if (it == m_by_key.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  // One call for every key, as Slurm's `squeue --name=k1,k2,...` answers.
  Expected<std::map<std::string, std::string>> find_all(const std::vector<JobKey>& keys) override {
    ++m_find_all_calls;
    if (m_unreachable) return fail("connection refused", ExitCode::unreachable);
    std::map<std::string, std::string> out;
    for (const auto& key : keys) {
      if (auto it = m_by_key.find(key.str()); it != m_by_key.end()) out.emplace(key.str(), it->second);
    }
    return out;
  }
  // As the real schedulers do: a key already known (pending, running or ended) returns
  // its job instead of submitting a second copy. The job's working directory is the
  // request's (remote_dir on a cluster, else the campaign dir of the submitting clone).
  Expected<std::string> submit(const SubmitRequest& request) override {
    if (!m_submit_error.message.empty()) return m_submit_error;
    if (auto it = m_by_key.find(request.key.str()); it != m_by_key.end()) return it->second;
    const std::string id = std::to_string(m_next_id++);
    m_submitted.push_back(request);
    m_by_key[request.key.str()] = id;
    m_jobs[id].job_id = id;
    m_jobs[id].state = JobState::pending;
    m_jobs[id].work_dir = request.remote_dir.empty() ? request.campaign_dir : request.remote_dir;
    return id;
  }
  Expected<std::map<std::string, JobStatus>> status(const std::vector<std::string>& ids) override {
    ++m_status_calls;
    m_status_batches.push_back(ids);
    if (m_unreachable) return fail("connection refused", ExitCode::unreachable);
    std::map<std::string, JobStatus> out;
    for (const auto& id : ids) {
      auto it = m_jobs.find(id);
      if (it != m_jobs.end()) out[id] = it->second;
    }
    return out;
  }
  // The table of a submit refused for capacity (with m_submit_error), as OSMO reports it.
  std::optional<CapacityRefusal> capacity_refusal(const JobKey& /*key*/) const override {
    return m_submit_error.message.empty() ? std::nullopt : m_refusal;
  }
  // What the stage's job spec declares (OSMO: the workflow YAML's resources).
  std::optional<SpecInfo> inspect(const SubmitRequest& /*request*/) const override { return m_spec; }
  Expected<std::string> log_tail(const std::string& id, int) override { return m_logs[id]; }
  Expected<void> cancel(const std::string& id) override {
    m_cancelled.push_back(id);
    return {};
  }
  // The user's queued jobs by name, as squeue --me lists them (m_queued: every name,
  // whoever submitted it; nullopt: a backend that cannot say).
  Expected<std::optional<std::map<std::string, int>>> queued_by_name(const std::string& prefix) override {
    m_queued_prefixes.push_back(prefix);
    if (!m_queued) return std::optional<std::map<std::string, int>>{};
    std::map<std::string, int> out;
    for (const auto& [name, count] : *m_queued) {
      if (name.rfind(prefix, 0) == 0) out[name] = count;
    }
    return std::optional<std::map<std::string, int>>(out);
  }

  // Test controls.
  void finish(const std::string& id, JobState state, int exit_code, std::string log = {},
              std::string reason = {}) {
    auto& j = m_jobs[id];
    j.job_id = id;
    j.state = state;
    j.exit_code = exit_code;
    j.reason = std::move(reason);
    m_logs[id] = std::move(log);
  }
  void set_running(const std::string& id) { m_jobs[id].state = JobState::running; }
  void adopt_existing(const std::string& key, const std::string& id) {
    m_by_key[key] = id;
    m_jobs[id].job_id = id;
    m_jobs[id].state = JobState::running;
  }
  JobStatus& job(const std::string& id) { return m_jobs[id]; }

  const std::vector<SubmitRequest>& submitted() const { return m_submitted; }
  const std::vector<std::string>& cancelled() const { return m_cancelled; }
  int status_calls() const { return m_status_calls; }
  const std::vector<std::vector<std::string>>& status_batches() const { return m_status_batches; }
  bool m_unreachable = false;
  Error m_submit_error;
  std::optional<CapacityRefusal> m_refusal;
  std::optional<SpecInfo> m_spec;
  int m_find_calls = 0;
  int m_find_all_calls = 0;
  std::optional<std::map<std::string, int>> m_queued;
  std::vector<std::string> m_queued_prefixes;

 private:
  int m_next_id = 4242;
  std::vector<SubmitRequest> m_submitted;
  std::map<std::string, std::string> m_by_key;
  std::map<std::string, JobStatus> m_jobs;
  std::map<std::string, std::string> m_logs;
  std::vector<std::string> m_cancelled;
  int m_status_calls = 0;
  std::vector<std::vector<std::string>> m_status_batches;
};

class FakeBackends : public Backends {
 public:
  explicit FakeBackends(Scheduler& local) { m_map["local"] = &local; }
  Scheduler* get(const std::string& name) override {
    auto it = m_map.find(name);
    return it == m_map.end() ? nullptr : it->second;
  }
  std::string unusable(const std::string& name) override {
    auto it = m_unusable.find(name);
    return it == m_unusable.end() ? "" : it->second;
  }
  std::map<std::string, Scheduler*> m_map;
  std::map<std::string, std::string> m_unusable;  // configured, but its settings are refused
};

class FakeStore : public Store {
 public:
  struct Commit {
    CommitRequest request;
    Identity identity;
  };
  Expected<std::string> commit(const CommitRequest& request, const Identity& identity) override {
    m_commits.push_back({request, identity});
    m_files[request.path] = request.content;
    for (const auto& f : request.also) m_files[f.path] = f.content;
    return "c" + std::to_string(m_commits.size());
  }
  // Records how many jobs had been submitted when each publish happened; loses the
  // race while `m_lose_publishes` > 0.
  Expected<bool> publish() override {
    m_publishes.push_back(m_commits.size());
    if (m_lose_publishes > 0) {
      --m_lose_publishes;
      return false;
    }
    return true;
  }
  std::vector<std::size_t> m_publishes;  // commits made before each publish
  int m_lose_publishes = 0;
  std::vector<Commit> m_commits;
  std::map<std::string, std::string> m_files;
};

// Answers probes from canned tables keyed by glob or command, per directory when a
// directory is named in `m_dirs` (else for any directory), and records which
// directories were asked about. A directory listed in `m_gone` does not exist.
class FakeWorkspace : public Workspace {
 public:
  Expected<std::vector<ProbeAnswer>> probe(const std::string& dir,
                                           const std::vector<Probe>& probes) override {
    m_probed_dirs.push_back(dir);
    if (m_gone.count(dir) != 0) return fail("directory " + dir + " does not exist", ExitCode::findings);
    if (m_unreachable) return fail("ssh: connect to host login: Connection refused", ExitCode::unreachable);
    std::vector<ProbeAnswer> out;
    for (const auto& p : probes) {
      ProbeAnswer a;
      switch (p.kind) {
        case Probe::Kind::count: {
          const auto& files = files_of(dir);
          auto it = files.find(p.arg);
          a.count = it == files.end() ? 0 : it->second;
          break;
        }
        case Probe::Kind::newest: {
          auto it = m_mtimes.find(p.arg);
          if (it != m_mtimes.end()) a.newest = it->second;
          break;
        }
        case Probe::Kind::command: {
          m_commands.push_back(p.arg);
          auto it = m_exit.find(p.arg);
          a.exit = it == m_exit.end() ? 1 : it->second;
          break;
        }
      }
      out.push_back(a);
    }
    return out;
  }
  const std::map<std::string, int>& files_of(const std::string& dir) const {
    auto it = m_dirs.find(dir);
    return it == m_dirs.end() ? m_files : it->second;
  }
  std::map<std::string, int> m_files;                        // glob -> match count
  std::map<std::string, std::map<std::string, int>> m_dirs;  // dir -> glob -> match count
  std::set<std::string> m_gone;
  bool m_unreachable = false;
  std::map<std::string, TimePoint> m_mtimes;  // glob -> newest modification time
  std::map<std::string, int> m_exit;          // command -> exit code
  std::vector<std::string> m_commands;
  std::vector<std::string> m_probed_dirs;
};

// Classifies by substring of the log or the scheduler state.
class FakeCatalog : public Catalog {
 public:
  struct Rule {
    std::string needle;
    Classification cls;
  };
  std::optional<Classification> classify(const Evidence& ev) const override {
    for (const auto& r : m_rules) {
      if (ev.state == r.needle || ev.log_tail.find(r.needle) != std::string::npos ||
          ev.reason.find(r.needle) != std::string::npos) {
        Classification c = r.cls;
        c.matched = r.needle;
        return c;
      }
    }
    return std::nullopt;
  }
  Expected<FixPlan> plan_fix(std::string_view fix, const doc::StageSpec& spec,
                             const doc::ResourceCeilings& ceilings,
                             const SpecInfo* /*declared*/) const override {
    if (auto it = m_plans.find(std::string(fix)); it != m_plans.end()) return it->second;
    if (fix == "resubmit") return FixPlan{};
    if (fix == "exclude node") {
      FixPlan p;
      p.summary = "resubmit without the failed node";
      p.excludes_failed_nodes = true;
      return p;
    }
    if (fix == "resubmit-from-checkpoint") {
      FixPlan p;
      p.summary = "resubmit; " + spec.checkpoint + " advanced";
      p.needs_checkpoint = true;
      return p;
    }
    if (fix == "walltime x2") {
      if (!spec.resources.time_seconds) return fail("no resources.time to double");
      const auto t = *spec.resources.time_seconds * 2;
      char buf[32];
      std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(t / 3600),
                    static_cast<long long>(t % 3600 / 60), static_cast<long long>(t % 60));
      FixPlan p{{{"stages." + spec.name + ".resources.time", buf}},
                "resources.time " + spec.resources.time_text + " -> " + buf};
      if (ceilings.time_seconds && t > *ceilings.time_seconds) {
        p.beyond_ceiling =
            std::string("resources.time ") + buf + " is above the ceiling " + ceilings.time_text;
      }
      return p;
    }
    return fail("unknown fix");
  }
  std::vector<Rule> m_rules;
  std::map<std::string, FixPlan> m_plans;  // fix -> the plan the real catalog would make
};

}  // namespace cairn::engine::testing
