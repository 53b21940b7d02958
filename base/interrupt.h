// SIGTERM, SIGINT and SIGHUP ask bootrino to stop. Before the commit point
// they are recorded, and the long waits (transfers, hooks) and the pipeline
// between its phases look at the record and stop cleanly: transfers abort,
// the RAM stage directory goes, the event log says so and the exit code is
// 128 + the signal. From the commit point on, while the disk is written, they
// are blocked: stopping then would leave a disk that boots nothing.
#pragma once

#include <string>

namespace base {

/// Installs the handlers (SA_RESTART) that record the first of these signals.
void InstallInterruptHandlers();

/// The signal that asked bootrino to stop before the commit point, or 0.
int InterruptSignal();

/// The commit point: from now on the signals are blocked in this thread (and
/// the threads it starts) and ignored anywhere else. Returns false, and
/// changes nothing, when a signal has already asked bootrino to stop.
[[nodiscard]] bool EnterCommit();

/// "SIGTERM", "SIGINT", "SIGHUP", else "signal N".
std::string SignalName(int sig);

}  // namespace base
