// Result<T> and Error: how every fallible function in bootrino reports failure.
//
// An Error carries a kind (which becomes the process exit code at the top),
// an errno where a syscall failed, a message that grows context at each layer
// ("staging initramfs-virt: fetching https://…: HTTP 503 after 5 tries") and
// an optional hint that tells the user what to do next.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace base {

/// What class of failure an Error is; observe/outcome.h maps each to an exit code.
enum class ErrorKind {
  kInternal,      ///< a bug or an unexpected system failure
  kUsage,         ///< the command line or configuration is wrong
  kVerification,  ///< a hash, size, pin or signature did not match, or nothing could be verified
  kNetwork,       ///< a transfer failed after every retry and mirror
  kNotEnoughRam,  ///< the payload does not fit in available memory
  kPreflight,     ///< this host cannot do what was asked (kernel, lockdown, capabilities)
  kManifest,      ///< the manifest is malformed or lacks what the command needs
  kHook,          ///< a manifest hook failed or timed out
  kDisk,          ///< the disk cannot be taken over (not found, too small, LVM/RAID) or writing it failed
};

class Error {
 public:
  Error(ErrorKind kind, std::string message, int sys_errno = 0)
      : kind_(kind), message_(std::move(message)), errno_(sys_errno) {}

  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }
  /// The errno of the failed syscall, or 0 when the failure was not a syscall's.
  int sys_errno() const { return errno_; }

  /// Prefixes the message with what the caller was doing: "what: message".
  Error&& Context(std::string_view what) && {
    message_ = std::string(what) + ": " + message_;
    return std::move(*this);
  }
  /// Sets the advice shown under the message; the innermost, most specific hint wins.
  Error&& Hint(std::string hint) && {
    if (hint_.empty()) hint_ = std::move(hint);
    return std::move(*this);
  }

 private:
  ErrorKind kind_;
  std::string message_;
  std::string hint_;
  int errno_;
};

template <typename T>
using Result = std::expected<T, Error>;

/// Shorthand for returning a failure: `return Fail(ErrorKind::kUsage, "…");`
inline std::unexpected<Error> Fail(ErrorKind kind, std::string message, int sys_errno = 0) {
  return std::unexpected<Error>(Error(kind, std::move(message), sys_errno));
}
inline std::unexpected<Error> Fail(Error error) { return std::unexpected<Error>(std::move(error)); }

/// Adds context to a failed Result and passes it on; success passes through unchanged.
template <typename T>
Result<T> WithContext(Result<T> result, std::string_view what) {
  if (!result) return Fail(std::move(result).error().Context(what));
  return result;
}

}  // namespace base

#define BOOTRINO_CONCAT_INNER(a, b) a##b
#define BOOTRINO_CONCAT(a, b) BOOTRINO_CONCAT_INNER(a, b)

/// Returns the error of `expr` (a Result) from the enclosing function if it failed.
#define RETURN_IF_ERROR(expr)                                               \
  do {                                                                      \
    auto bootrino_result_ = (expr);                                         \
    if (!bootrino_result_) return ::base::Fail(std::move(bootrino_result_).error()); \
  } while (0)

/// `ASSIGN_OR_RETURN(auto x, F());` declares x from F()'s value or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(BOOTRINO_CONCAT(bootrino_result_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)                     \
  auto tmp = (expr);                                              \
  if (!tmp) return ::base::Fail(std::move(tmp).error());          \
  lhs = std::move(*tmp)
