// An owning pointer to a C library's object, freed by that library's own function:
// base::CHandle<CURL, curl_easy_cleanup> in place of a deleter struct per handle type.
#pragma once

#include <memory>

namespace base {

/// unique_ptr's deleter that calls `Free` (a function, not a functor: its address is the type).
template <auto Free>
struct FreeWith {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};

/// Owns a `T*` and frees it with `Free(p)`.
template <typename T, auto Free>
using CHandle = std::unique_ptr<T, FreeWith<Free>>;

}  // namespace base
