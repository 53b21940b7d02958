// Loading the new kernel with kexec_file_load, and booting it. Loading is
// separate from booting so a refusal is known while the host is untouched
// (docs/architecture.md, rule 2).
#pragma once

#include <string>

#include "base/base.h"

namespace kexec {

/// What the kernel is handed: files on a RAM filesystem, and the command line.
struct BootPlan {
  std::string kernel_path;
  std::string initrd_path;  ///< empty: no initrd (KEXEC_FILE_NO_INITRAMFS)
  std::string cmdline;
};

/// `kexec_file_load(3, 4, "console=ttyS0 …", 0x0) = EKEYREJECTED`: the failed
/// call as a reader of strace would write it.
std::string DescribeCall(int kernel_fd, int initrd_fd, const std::string& cmdline, unsigned long flags, int err);

/// Turns a kexec_file_load errno into an Error with what it means on this host
/// and what to do, classified as kexec-tools does (signature rejected / not a
/// loadable kernel / no syscall / not permitted).
base::Error ClassifyLoadError(int err, const std::string& call);

/// Opens the plan's files read-only (a file open for writing makes the kernel
/// answer ETXTBSY) and loads them.
[[nodiscard]] base::Result<void> Load(base::Sys& sys, const BootPlan& plan);

/// Unloads what Load loaded: kexec_file_load(-1, -1, "", 0, KEXEC_FILE_UNLOAD)
/// (the kernel ignores the descriptors with that flag). Unloading when
/// nothing is loaded succeeds.
[[nodiscard]] base::Result<void> Unload(base::Sys& sys);

/// Reboots into the loaded kernel; returns only on failure. Syncs first
/// unless the disk was committed (its old filesystems are frozen by then).
[[nodiscard]] base::Result<void> Boot(base::Sys& sys, bool disk_committed = false);

}  // namespace kexec
