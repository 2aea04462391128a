#pragma once

// The forge's transport: one small interface (so forges are tested against a recording
// fake) and its libcurl implementation (TLS verification always on, timeouts, one
// reused handle with HTTP/1.1 keep-alive, retries with backoff).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <cairn/util/expected.hpp>

namespace cairn::forge {

struct HttpRequest {
  std::string method;  // GET, POST, PUT, PATCH
  std::string url;     // absolute
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent when non-empty (JSON)
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  // The header `name` (lower case), or "" when absent.
  std::string header(const std::string& name) const;
};

// Whether repeating `method` cannot create a second object: everything but POST.
bool is_idempotent(const std::string& method);

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends `request` and returns the final response, whatever its status. Fails (exit 3)
  // when no response could be obtained (connection refused, timeout, TLS); the message
  // names the method and URL, never a header value.
  virtual Expected<HttpResponse> send(const HttpRequest& request) = 0;
};

struct RetryPolicy {
  int max_attempts = 4;                               // per request, the first included
  std::chrono::milliseconds base_backoff{500};        // doubled per attempt, plus jitter
  std::chrono::milliseconds max_backoff{30000};       // cap for backoff and Retry-After
  std::chrono::milliseconds mutation_interval{1000};  // at least this between mutating requests
  std::chrono::milliseconds timeout{30000};           // whole request
  std::chrono::seconds connect_timeout{10};
};

// libcurl over one reused easy handle. Retries 429 (honouring `Retry-After`,
// `X-RateLimit-Reset`, GitLab's `RateLimit-Reset`), 502/503/504 and connection
// failures with jittered exponential backoff — but a POST only when the server cannot
// have acted on it (connection refused, 429, 503); any other POST failure is returned
// so the caller looks before it creates again. `secret` (the token) is scrubbed from
// every error message.
class CurlHttpClient : public HttpClient {
 public:
  using Sleep = std::function<void(std::chrono::milliseconds)>;
  explicit CurlHttpClient(RetryPolicy policy = {}, std::string secret = {}, Sleep sleep = {});
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  Expected<HttpResponse> send(const HttpRequest& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

// How long to wait before retrying after `response` (429/503): Retry-After seconds,
// else the rate-limit reset time minus `now_epoch`, else `fallback`; capped at `cap`.
std::chrono::milliseconds retry_delay(const HttpResponse& response, std::int64_t now_epoch,
                                      std::chrono::milliseconds fallback, std::chrono::milliseconds cap);

}  // namespace cairn::forge
