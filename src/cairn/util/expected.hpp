#pragma once

// Foreseeable failures are values: `Expected<T>` holds either a T or an `Error`.
// Exceptions are reserved for the unrecoverable and caught once in cli::run.

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace cairn {

// Exit codes of docs/cli.md "Exit codes"; an Error carries the one it should end the process with.
enum class ExitCode : int { ok = 0, findings = 1, usage = 2, unreachable = 3 };

struct Error {
  std::string message;
  ExitCode exit = ExitCode::findings;
};

// Makes an Error; `return fail("...")` converts to any Expected<T>.
inline Error fail(std::string message, ExitCode exit = ExitCode::findings) {
  return Error{std::move(message), exit};
}

template <class T, class E = Error>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : m_v(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Expected(E error) : m_v(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return m_v.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(m_v); }
  const T& value() const& { return std::get<0>(m_v); }
  T&& value() && { return std::get<0>(std::move(m_v)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  E& error() & { return std::get<1>(m_v); }
  const E& error() const& { return std::get<1>(m_v); }
  E&& error() && { return std::get<1>(std::move(m_v)); }

 private:
  std::variant<T, E> m_v;
};

template <class E>
class [[nodiscard]] Expected<void, E> {
 public:
  Expected() = default;
  Expected(E error) : m_error(std::move(error)), m_failed(true) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return !m_failed; }
  explicit operator bool() const { return has_value(); }
  void value() const {}
  E& error() & { return m_error; }
  const E& error() const& { return m_error; }
  E&& error() && { return std::move(m_error); }

 private:
  E m_error{};
  bool m_failed = false;
};

}  // namespace cairn

// Evaluates an Expected expression; on failure returns its error from the enclosing
// function, otherwise yields the value (GNU statement expression, as ccache does).
#define CAIRN_TRY(expr)                            \
  ({                                               \
    auto&& cairn_try_result_ = (expr);             \
    if (!cairn_try_result_) {                      \
      return std::move(cairn_try_result_).error(); \
    }                                              \
    std::move(cairn_try_result_).value();          \
  })
