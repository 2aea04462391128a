#pragma once

// Recording fakes for the forge tests: an HttpClient that answers from a script, a
// Forge kept in memory, and a BranchPublisher that remembers what it pushed.

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <cairn/forge/forge.hpp>
#include <cairn/forge/http.hpp>
#include <cairn/forge/sync.hpp>

namespace cairn::forge::testing {

class FakeHttp : public HttpClient {
 public:
  // Queues the answer to the next request.
  void answer(long status, std::string body, std::map<std::string, std::string> headers = {}) {
    m_answers.push_back({status, std::move(headers), std::move(body)});
  }
  Expected<HttpResponse> send(const HttpRequest& r) override {
    requests.push_back(r);
    if (m_answers.empty()) return HttpResponse{200, {}, "[]"};
    HttpResponse a = m_answers.front();
    m_answers.pop_front();
    return a;
  }
  std::string header(std::size_t i, const std::string& name) const {
    for (const auto& [k, v] : requests.at(i).headers) {
      if (k == name) return v;
    }
    return "";
  }
  std::vector<HttpRequest> requests;

 private:
  std::deque<HttpResponse> m_answers;
};

class MemoryForge : public Forge {
 public:
  std::string kind() const override { return "github"; }
  std::string pull_ref(std::int64_t n) const override { return "#" + std::to_string(n); }
  // Like the forges: only the issues carrying every one of `want`.
  Expected<std::vector<Issue>> list_issues(const std::vector<std::string>& want) override {
    ++gets;
    std::vector<Issue> out;
    for (auto it = issues.rbegin(); it != issues.rend(); ++it) {
      const auto& have = labels[it->number];
      if (std::all_of(want.begin(), want.end(), [&](const std::string& l) {
            return std::find(have.begin(), have.end(), l) != have.end();
          })) {
        out.push_back(*it);
      }
    }
    return out;
  }
  Expected<Issue> create_issue(const std::string& title, const std::string& body,
                               const std::vector<std::string>& with) override {
    ++mutations;
    labels[next] = with;
    issues.push_back(Issue{next++, true, title, body, ""});
    if (lost("create_issue")) return fail("timeout", ExitCode::unreachable);
    return issues.back();
  }
  Expected<void> comment(std::int64_t n, const std::string& body) override {
    ++mutations;
    comments[n].push_back(body);
    if (lost("comment")) return fail("timeout", ExitCode::unreachable);
    return {};
  }
  Expected<std::vector<std::string>> list_comments(std::int64_t n) override {
    ++gets;
    return comments[n];
  }
  Expected<void> close_issue(std::int64_t n) override {
    ++mutations;
    for (auto& i : issues) {
      if (i.number == n) i.open = false;
    }
    if (lost("close_issue")) return fail("timeout", ExitCode::unreachable);
    return {};
  }
  Expected<void> update_issue(std::int64_t n, const std::string& body) override {
    ++mutations;
    for (auto& i : issues) {
      if (i.number == n) i.body = body;
    }
    if (lost("update_issue")) return fail("timeout", ExitCode::unreachable);
    return {};
  }
  Expected<std::vector<PullRequest>> list_pulls(const std::string& head) override {
    ++gets;
    std::vector<PullRequest> out;
    for (auto it = pulls.rbegin(); it != pulls.rend(); ++it) {
      if (it->head == head) out.push_back(*it);
    }
    return out;
  }
  Expected<PullRequest> create_pull(const std::string& head, const std::string& base, const std::string&,
                                    const std::string& body) override {
    ++mutations;
    PullRequest p;
    p.number = next++;
    p.head = head;
    p.base = base;
    p.body = body;
    pulls.push_back(p);
    if (lost("create_pull")) return fail("timeout", ExitCode::unreachable);
    return p;
  }
  Expected<PullRequest> get_pull(std::int64_t n) override {
    ++gets;
    for (auto& p : pulls) {
      if (p.number == n) return p;
    }
    return fail("no such pull");
  }
  Expected<Access> access() override { return Access{200, "", "", std::nullopt, true, true}; }

  // The next call of each named mutation acts, then fails as if its answer was lost.
  std::set<std::string> lose_answer;
  bool lost(const std::string& call) { return lose_answer.erase(call) != 0; }

  std::vector<Issue> issues;
  std::map<std::int64_t, std::vector<std::string>> labels;  // per issue number
  std::vector<PullRequest> pulls;
  std::map<std::int64_t, std::vector<std::string>> comments;
  std::int64_t next = 1;
  int mutations = 0;
  int gets = 0;
};

class FakePublisher : public BranchPublisher {
 public:
  Expected<std::vector<std::string>> list_branches(const std::string& prefix) override {
    std::vector<std::string> out;
    for (const auto& [b, _] : pushed) {
      if (b.rfind(prefix, 0) == 0) out.push_back(b);
    }
    return out;
  }
  Expected<void> publish(const std::string& branch,
                         const std::vector<engine::BranchCommit>& commits) override {
    if (pushed.count(branch) != 0) return fail("exists", ExitCode::unreachable);
    const auto& first = commits.front();
    pushed[branch] = {first.writes.front().path, first.writes.front().content, first.message, commits};
    return {};
  }
  struct Push {
    std::string path, content, message;  // the clear commit's
    std::vector<engine::BranchCommit> commits;
  };
  std::map<std::string, Push> pushed;
};

}  // namespace cairn::forge::testing
