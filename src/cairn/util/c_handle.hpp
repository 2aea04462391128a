#pragma once

// C library handles owned the moment they are obtained: std::unique_ptr with the
// library's own free function as a stateless deleter. One template for libgit2, cmark-gfm
// and libcurl alike:
//
//   util::CHandle<cmark_parser, cmark_parser_free> parser(cmark_parser_new(opts));

#include <memory>

namespace cairn::util {

// Calls `FreeFn` on a non-null pointer.
template <auto FreeFn>
struct CFree {
  template <class T>
  void operator()(T* p) const {
    if (p != nullptr) FreeFn(p);
  }
};

template <class T, auto FreeFn>
using CHandle = std::unique_ptr<T, CFree<FreeFn>>;

}  // namespace cairn::util
