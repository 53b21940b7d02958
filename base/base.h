// base: what every other library of bootrino builds on: Result and Error (an error that says what to do next),
// file descriptors and whole-file I/O, the Sys interface over the system calls that change the machine or reveal
// its state (so tests can record every side effect), the architectures, /proc/self/mountinfo, interrupts, owning
// handles for C libraries, and text for a terminal.
// Depends on no other library of bootrino's: only the C++ standard library and Linux's system calls.
// Code outside base/ includes this header, not base's others.
#pragma once

#include "base/arch.h"
#include "base/c_handle.h"
#include "base/disk_limits.h"
#include "base/fd.h"
#include "base/interrupt.h"
#include "base/mountinfo.h"
#include "base/result.h"
#include "base/sys.h"
#include "base/text.h"
