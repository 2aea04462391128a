#include <cairn/doc/workflow.hpp>

#include <array>

namespace cairn::doc {

namespace {
constexpr std::array<std::string_view, 6> kStatusNames = {"pending", "ready",  "running",
                                                          "done",    "failed", "escalated"};
constexpr std::array<std::string_view, 9> kColumnTitles = {
    "#", "Name", "Entry condition", "Exit condition", "Status", "JobID", "Started", "Completed", "Retries"};
}  // namespace

std::optional<Status> parse_status(std::string_view text) {
  for (std::size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == text) return static_cast<Status>(i);
  }
  return std::nullopt;
}

std::string_view to_string(Status s) {
  return kStatusNames[static_cast<std::size_t>(s)];
}

std::string_view column_title(Column c) {
  return kColumnTitles[static_cast<std::size_t>(c)];
}

const Stage* Workflow::stage(std::string_view name) const {
  for (const auto& s : stages) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const StageSpec* Workflow::spec(std::string_view name) const {
  for (const auto& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const Stage* Workflow::first_open_stage() const {
  for (const auto& s : stages) {
    if (s.status != Status::done) return &s;
  }
  return nullptr;
}

}  // namespace cairn::doc
