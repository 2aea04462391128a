// WORKFLOW.md: parse; an unchanged file writes back byte for byte; peek_schedule agrees
// with the full parse; an edit touches only its own line and re-parses.

#include "fuzz.hpp"

#include <cairn/parse/workflow_file.hpp>

using namespace cairn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(fuzz::as_text(data, size));
  const auto peek = parse::peek_schedule(text);
  auto f = parse::WorkflowFile::parse("demo/WORKFLOW.md", text);
  if (!f) return 0;
  CAIRN_FUZZ_CHECK(f->text() == text, "parse then write changed bytes");
  const doc::Workflow& wf = f->workflow();
  if (peek) {
    CAIRN_FUZZ_CHECK(peek->campaign == wf.campaign, peek->campaign);
    CAIRN_FUZZ_CHECK(peek->status == wf.status, wf.campaign);
    CAIRN_FUZZ_CHECK(peek->current_stage == wf.current_stage, peek->current_stage);
  }
  // A failure row with text taken from the input: the file re-parses with one more row
  // holding exactly that text, and the bytes before the row are untouched.
  // Printable ASCII only: a cut UTF-8 sequence would make the file invalid on purpose.
  std::string msg;
  for (char c : text.substr(0, std::min<std::size_t>(text.size(), 64))) {
    if (c >= ' ' && c <= '~') msg += c;
  }
  const std::size_t rows = wf.failures.size();
  auto edited = *f;
  if (edited.append_failure({"2026-05-05", "s|x", "cls", msg, "a\\|b", "RETRYING"})) {
    auto again = parse::WorkflowFile::parse("demo/WORKFLOW.md", edited.text());
    CAIRN_FUZZ_CHECK(again.has_value(), edited.text());
    CAIRN_FUZZ_CHECK(again->workflow().failures.size() == rows + 1, edited.text());
    std::string want = msg;
    for (char& c : want) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    while (!want.empty() && (want.back() == ' ' || want.back() == '\t')) want.pop_back();
    std::size_t lead = 0;
    while (lead < want.size() && (want[lead] == ' ' || want[lead] == '\t')) ++lead;
    want = want.substr(lead);
    if (want == "—") want.clear();
    CAIRN_FUZZ_CHECK(again->workflow().failures.back().message == want,
                     again->workflow().failures.back().message);
  }
  if (!wf.stages.empty()) {
    auto cell = *f;
    if (cell.set_cell(wf.stages.front().name, doc::Column::job_id, "4242")) {
      CAIRN_FUZZ_CHECK(parse::WorkflowFile::parse("demo/WORKFLOW.md", cell.text()).has_value(), cell.text());
    }
  }
  return 0;
}
