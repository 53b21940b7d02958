#include "observe/outcome.h"

#include <cstdio>

#include "base/base.h"

namespace observe {

using base::ErrorKind;

std::string WhatToDo(const base::Error& error) {
  if (!error.hint().empty()) return error.hint();
  switch (error.kind()) {
    case ErrorKind::kInternal:
      return "this is a bug in bootrino or a failure of this system: run it again with --json-events FILE and "
             "report the output with that file";
    case ErrorKind::kUsage: return "see bootrino --help, and bootrino COMMAND --help";
    case ErrorKind::kVerification:
      return "do not use these files: check the reference's #sha256= pin or the trusted key against what the "
             "publisher gives; nothing was changed";
    case ErrorKind::kNetwork:
      return "check that this machine reaches the URL (DNS, proxy, firewall), then run again; nothing was changed";
    case ErrorKind::kNotEnoughRam: return "use an instance with more memory, or a smaller OS";
    case ErrorKind::kPreflight: return "run bootrino preflight to see every check and what it needs";
    case ErrorKind::kManifest:
      return "the manifest must be fixed by whoever publishes it (docs/manifest.md describes the format)";
    case ErrorKind::kHook: return "read the hook's output above; the manifest's publisher must fix the hook";
    case ErrorKind::kDisk:
      return "name the disk to replace with --disk /dev/NAME, or pass --keep-disk to boot with kexec only";
  }
  return "see bootrino --help";
}

int Report(const base::Error& error, Events& events, Phase phase) {
  // A signal makes the step under way fail (a transfer aborts, a hook is
  // killed): what is reported is the signal, not that failure.
  if (int sig = base::InterruptSignal()) return ReportInterrupted(sig, events, phase);
  const std::string what_to_do = WhatToDo(error);
  std::fprintf(stderr, "bootrino: error: %s\n", Shown(error.message()).c_str());
  std::fprintf(stderr, "bootrino: what to do: %s\n", Shown(what_to_do).c_str());
  int code = ExitCodeFor(error.kind());
  events.Emit(phase, "error", {{"message", error.message()}, {"hint", what_to_do}, {"exitCode", code}});
  return code;
}

int ReportInterrupted(int sig, Events& events, Phase phase) {
  const std::string name = base::SignalName(sig);
  const std::string message =
      "stopped by " + name + " during " + std::string(PhaseName(phase)) + ", before anything was changed";
  const std::string what_to_do = "the staged files are removed; run bootrino again when you are ready";
  std::fprintf(stderr, "bootrino: %s\n", message.c_str());
  std::fprintf(stderr, "bootrino: what to do: %s\n", what_to_do.c_str());
  const int code = kExitInterrupted + sig;
  events.Emit(phase, "interrupted", {{"signal", name}, {"message", message}, {"exitCode", code}});
  return code;
}

}  // namespace observe
