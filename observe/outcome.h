// How bootrino ends: the error (or interruption) said to a person with what to do next, the event that
// records it, and the exit code. The exit codes are a contract (scripts, cloud-init and tests rely on them)
// and are documented in README.md; never renumber one.
#pragma once

#include <string>

#include "base/base.h"
#include "observe/events.h"

namespace observe {

enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,      ///< a bug or unexpected system failure
  kExitUsage = 2,         ///< bad command line or configuration
  kExitVerification = 3,  ///< hash, size, pin or signature mismatch; or nothing to verify with
  kExitNetwork = 4,       ///< a transfer failed on every try and mirror
  kExitNotEnoughRam = 5,  ///< the payload does not fit in memory
  kExitPreflight = 6,     ///< this host cannot do it (kernel, lockdown, privileges)
  kExitManifest = 7,      ///< the manifest is malformed or lacks what is needed
  kExitHook = 8,          ///< a manifest hook failed or timed out
  kExitDisk = 9,          ///< the disk cannot be taken over, or writing it failed
  kExitInterrupted = 128, ///< plus the signal: SIGTERM, SIGINT or SIGHUP stopped it before the commit point
};

inline ExitCode ExitCodeFor(base::ErrorKind kind) {
  switch (kind) {
    case base::ErrorKind::kInternal: return kExitInternal;
    case base::ErrorKind::kUsage: return kExitUsage;
    case base::ErrorKind::kVerification: return kExitVerification;
    case base::ErrorKind::kNetwork: return kExitNetwork;
    case base::ErrorKind::kNotEnoughRam: return kExitNotEnoughRam;
    case base::ErrorKind::kPreflight: return kExitPreflight;
    case base::ErrorKind::kManifest: return kExitManifest;
    case base::ErrorKind::kHook: return kExitHook;
    case base::ErrorKind::kDisk: return kExitDisk;
  }
  return kExitInternal;
}

/// The "what to do" line for `error`: its hint, or advice for its kind when it
/// has none, so that every error says what to do next.
std::string WhatToDo(const base::Error& error);

/// Prints an error with its advice, records it as an event, and returns the exit code.
int Report(const base::Error& error, Events& events, Phase phase);

/// Reports that signal `sig` stopped bootrino in `phase` and returns 128 + `sig`.
int ReportInterrupted(int sig, Events& events, Phase phase);

}  // namespace observe
