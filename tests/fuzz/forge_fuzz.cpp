// The forges' REST answers: every call of GitHub, GitLab and Gitea gets the input as
// its response body (status 200, then 201, 422), so each JSON reader sees it.

#include "fuzz.hpp"

#include <cairn/forge/forge.hpp>
#include <cairn/forge/http.hpp>

using namespace cairn;

namespace {

class Answering : public forge::HttpClient {
 public:
  std::string body;
  long status = 200;
  Expected<forge::HttpResponse> send(const forge::HttpRequest&) override {
    return forge::HttpResponse{status, {{"content-type", "application/json"}}, body};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Answering http;
  http.body = std::string(fuzz::as_text(data, size));
  for (const char* kind : {"github", "gitlab", "gitea"}) {
    forge::ForgeSettings s{kind, "o/r", "https://forge.invalid/api", "CAIRN_FORGE_TOKEN", "t"};
    auto f = forge::make_forge(s, http);
    if (!f) continue;
    for (long status : {200L, 201L, 422L}) {
      http.status = status;
      (void)(*f)->list_issues({"cairn", "escalation"});
      (void)(*f)->create_issue("t", "b", {"cairn"});
      (void)(*f)->comment(1, "b");
      (void)(*f)->list_comments(1);
      (void)(*f)->close_issue(1);
      (void)(*f)->list_pulls("cairn/clear/c/1");
      (void)(*f)->create_pull("cairn/clear/c/1", "main", "t", "b");
      (void)(*f)->get_pull(1);
      (void)(*f)->access();
    }
  }
  return 0;
}
