// bootrino's exit codes. They are a contract (scripts, cloud-init and tests
// rely on them) and are documented in README.md; never renumber one.
#pragma once

#include "base/result.h"

namespace agent {

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

}  // namespace agent
