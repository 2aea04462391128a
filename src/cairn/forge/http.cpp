#include <cairn/forge/http.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <random>
#include <thread>

#include <fmt/format.h>

#include <cairn/util/c_handle.hpp>
#include <cairn/util/redact.hpp>

namespace cairn::forge {

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

bool is_idempotent(const std::string& method) {
  return method != "POST";
}

std::chrono::milliseconds retry_delay(const HttpResponse& r, std::int64_t now_epoch,
                                      std::chrono::milliseconds fallback, std::chrono::milliseconds cap) {
  using std::chrono::milliseconds;
  auto number = [](const std::string& s) -> std::int64_t {
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; }))
      return -1;
    return std::strtoll(s.c_str(), nullptr, 10);
  };
  milliseconds d = fallback;
  if (std::int64_t s = number(r.header("retry-after")); s >= 0) {
    d = milliseconds(s * 1000);
  } else if (number(r.header("x-ratelimit-remaining")) == 0 || number(r.header("ratelimit-remaining")) == 0) {
    std::int64_t reset = number(r.header("x-ratelimit-reset"));
    if (reset < 0) reset = number(r.header("ratelimit-reset"));
    if (reset > now_epoch) d = milliseconds((reset - now_epoch) * 1000);
  }
  return std::min(d, cap);
}

namespace {

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* out) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(out);
  std::string line(data, size * n);
  // A new status line (a redirect or 100-continue) starts a new header block.
  if (line.rfind("HTTP/", 0) == 0) headers->clear();
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    const auto b = value.find_first_not_of(" \t");
    const auto e = value.find_last_not_of(" \t\r\n");
    (*headers)[name] = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  }
  return size * n;
}

bool transient_status(long s) {
  return s == 429 || s == 502 || s == 503 || s == 504;
}
// The server refused before acting: safe to repeat even a POST.
bool refused_status(long s) {
  return s == 429 || s == 503;
}
bool nothing_sent(CURLcode c) {
  return c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST || c == CURLE_COULDNT_RESOLVE_PROXY;
}
bool transient_code(CURLcode c) {
  return nothing_sent(c) || c == CURLE_OPERATION_TIMEDOUT || c == CURLE_RECV_ERROR || c == CURLE_SEND_ERROR ||
         c == CURLE_GOT_NOTHING || c == CURLE_PARTIAL_FILE;
}

}  // namespace

struct CurlHttpClient::Impl {
  RetryPolicy policy;
  std::string secret;
  Sleep sleep;
  util::CHandle<CURL, curl_easy_cleanup> handle;
  std::chrono::steady_clock::time_point last_mutation{};
  bool mutated = false;
  std::mt19937 rng{std::random_device{}()};

  std::string scrub(std::string text) const {
    if (!secret.empty()) {
      for (auto p = text.find(secret); p != std::string::npos; p = text.find(secret, p)) {
        text.replace(p, secret.size(), "[REDACTED]");
      }
    }
    return util::redact(text);
  }

  std::chrono::milliseconds backoff(int attempt) {
    const auto base = policy.base_backoff * (1 << std::min(attempt - 1, 10));
    std::uniform_int_distribution<long long> jitter(0, std::max<long long>(1, base.count() / 2));
    return std::min(std::chrono::milliseconds(base.count() + jitter(rng)), policy.max_backoff);
  }

  // One attempt: the response, or the curl code when none came.
  std::pair<CURLcode, HttpResponse> perform(const HttpRequest& r) {
    CURL* c = handle.get();
    curl_easy_reset(c);
    HttpResponse out;
    util::CHandle<curl_slist, curl_slist_free_all> list;
    auto add = [&](const std::string& h) { list.reset(curl_slist_append(list.release(), h.c_str())); };
    for (const auto& [k, v] : r.headers) add(k + ": " + v);
    if (!r.body.empty()) add("Content-Type: application/json");
    add("Expect:");  // no 100-continue round trip
    curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    if (r.method != "GET") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    } else {
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, nullptr);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(policy.timeout.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(policy.connect_timeout.count() * 1000));
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect would resend the token elsewhere
    // On a reused connection that dies before an answer, libcurl silently sends the
    // request again on a new one; a POST the server already acted on would then create
    // a second issue. A POST gets a fresh connection, so a lost answer is ours to handle.
    curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, is_idempotent(r.method) ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &out.headers);
    const CURLcode code = curl_easy_perform(c);
    if (code == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
    return {code, std::move(out)};
  }
};

CurlHttpClient::CurlHttpClient(RetryPolicy policy, std::string secret, Sleep sleep)
    : m(std::make_unique<Impl>()) {
  m->policy = policy;
  m->secret = std::move(secret);
  m->sleep = sleep ? std::move(sleep) : [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  m->handle.reset(curl_easy_init());
}

CurlHttpClient::~CurlHttpClient() = default;

Expected<HttpResponse> CurlHttpClient::send(const HttpRequest& request) {
  if (!m->handle) return fail("libcurl could not be initialised", ExitCode::unreachable);
  const bool mutating = request.method != "GET";
  const bool idempotent = is_idempotent(request.method);
  for (int attempt = 1;; ++attempt) {
    if (mutating && m->mutated) {
      const auto since = std::chrono::steady_clock::now() - m->last_mutation;
      if (since < m->policy.mutation_interval) {
        m->sleep(std::chrono::duration_cast<std::chrono::milliseconds>(m->policy.mutation_interval - since));
      }
    }
    auto [code, response] = m->perform(request);
    if (mutating) {
      m->last_mutation = std::chrono::steady_clock::now();
      m->mutated = true;
    }
    const bool last = attempt >= m->policy.max_attempts;
    if (code != CURLE_OK) {
      const bool retry = transient_code(code) && (idempotent || nothing_sent(code));
      if (!retry || last) {
        return fail(m->scrub(fmt::format("{} {}: {} (after {} attempt{})", request.method, request.url,
                                         curl_easy_strerror(code), attempt, attempt == 1 ? "" : "s")),
                    ExitCode::unreachable);
      }
      m->sleep(m->backoff(attempt));
      continue;
    }
    if (!transient_status(response.status) || last || !(idempotent || refused_status(response.status))) {
      return std::move(response);
    }
    m->sleep(retry_delay(response, static_cast<std::int64_t>(std::time(nullptr)), m->backoff(attempt),
                         m->policy.max_backoff));
  }
}

}  // namespace cairn::forge
