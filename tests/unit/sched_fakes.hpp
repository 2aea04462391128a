#pragma once

// What the CLI-driven backends' tests share: their inputs from tests/fixtures/ and a
// CommandRunner that answers like the machine would, from canned outputs.

#include <chrono>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <cairn/sched/command_runner.hpp>

namespace cairn::sched::testing {

// A file's bytes; a missing file fails the test that asked for it.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// tests/fixtures/<area>/<name>: real outputs of the tools (sbatch, squeue, osmo, ...).
inline std::string fixture(std::string_view area, std::string_view name) {
  return read_file(std::string(CAIRN_SOURCE_DIR) + "/tests/fixtures/" + std::string(area) + "/" +
                   std::string(name));
}

inline CommandResult ok_out(std::string out) {
  return CommandResult{0, std::move(out), ""};
}
inline CommandResult err_out(int exit, std::string err) {
  return CommandResult{exit, "", std::move(err)};
}

// The program a call runs: argv[0], or the one after `env VAR=value...`.
inline std::string program_of(const std::vector<std::string>& argv) {
  std::size_t i = 0;
  if (argv.at(0) == "env") {
    for (i = 1; i < argv.size() && argv[i].find('=') != std::string::npos; ++i) {
    }
  }
  return argv.at(i);
}

// Canned answers per key (by default the program, see program_of), consumed in order;
// records every call and what it was fed on stdin. With nothing canned it answers as an
// idle machine: empty output, exit 0, and `id -un` names a user (`user`).
class FakeRunner : public CommandRunner {
 public:
  using Key = std::function<std::string(const std::vector<std::string>&)>;
  struct Shared {
    std::map<std::string, std::deque<Expected<CommandResult>>> answers;
    std::vector<std::vector<std::string>> calls;
    std::vector<std::string> inputs;
    std::vector<std::vector<std::string>> calls_to(const std::string& program) const {
      std::vector<std::vector<std::string>> out;
      for (const auto& c : calls) {
        if (program_of(c) == program) out.push_back(c);
      }
      return out;
    }
  };
  explicit FakeRunner(std::shared_ptr<Shared> s, std::string user = "tester", Key key = program_of)
      : m_s(std::move(s)), m_user(std::move(user)), m_key(std::move(key)) {}
  Expected<CommandResult> run(const std::vector<std::string>& argv, std::string_view input,
                              std::chrono::milliseconds) override {
    m_s->calls.push_back(argv);
    m_s->inputs.emplace_back(input);
    auto& q = m_s->answers[m_key(argv)];
    if (q.empty()) return ok_out(argv == std::vector<std::string>{"id", "-un"} ? m_user + "\n" : "");
    auto r = q.front();
    q.pop_front();
    return r;
  }

 private:
  std::shared_ptr<Shared> m_s;
  std::string m_user;
  Key m_key;
};

}  // namespace cairn::sched::testing
