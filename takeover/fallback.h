// How `run` boots the new OS: by kexec, or (--fallback=reboot) through the
// firmware from the disk it writes; and when it must stop instead. Both
// decisions are taken before anything is written: after the preflight, and at
// the kernel's load.
#pragma once

#include "base/base.h"
#include "kexec/kexec.h"
#include "observe/observe.h"

namespace takeover {

enum class BootPath { kKexec, kFirmware };

/// 1: kKexec when the preflight refuses nothing. kFirmware with
/// --fallback=reboot when only kexec is refused and the firmware can boot the
/// disk bootrino writes (not under UEFI Secure Boot, kexec::FirmwareFallback).
/// Otherwise the refusal: the preflight's, or the fallback's.
[[nodiscard]] base::Result<BootPath> PathAfterPreflight(const kexec::PreflightReport& host, bool fallback_reboot);

/// 5: loads `plan` into `sys` (kKexec). A refused load, with --fallback=reboot,
/// turns to the firmware (kFirmware, said as a warning) under the same
/// condition; otherwise its error, or the fallback's refusal.
[[nodiscard]] base::Result<BootPath> LoadOrFallBack(base::Sys& sys, const kexec::PreflightReport& host,
                                                    const kexec::BootPlan& plan, bool fallback_reboot,
                                                    observe::Events& events);

/// 4a, with the preflight: whether `run` may rewrite the disk. The disk
/// bootrino writes boots through syslinux or systemd-boot into the manifest's
/// kernel, none of them signed: under UEFI Secure Boot (or on a UEFI host where
/// bootrino cannot tell, efivarfs not mounted) the firmware would refuse them
/// and the instance would never boot again after its next reboot, even when
/// kexec itself works. So then the takeover is refused (kDisk) unless
/// `keep_disk` (kexec only, the disk untouched). Pure: asked before anything is
/// fetched, loaded or written.
[[nodiscard]] base::Result<void> DiskTakeoverAllowed(const kexec::PreflightReport& host, bool keep_disk);

/// 5 to 7: the kernel loaded by kexec_file_load is kernel-global and outlives
/// bootrino; an ordinary reboot could run it later (systemd-shutdown kexecs a
/// loaded image, and tools read /sys/kernel/kexec_loaded). So every way out
/// between the load and the point of no return unloads it (and says so),
/// unless Keep() (the disk is being written, or the boot goes ahead) or
/// HandOver() (a detached child boots it: the parent leaves it) was called.
class LoadedKernelGuard {
 public:
  LoadedKernelGuard(base::Sys& sys, observe::Events& events) : sys_(sys), events_(events) {}
  LoadedKernelGuard(const LoadedKernelGuard&) = delete;
  LoadedKernelGuard& operator=(const LoadedKernelGuard&) = delete;
  ~LoadedKernelGuard();

  /// kexec_file_load succeeded: from now on the guard unloads it.
  void Loaded() { loaded_ = true; }
  /// The commit has started writing the disk, or the reboot into the kernel
  /// goes ahead: the kernel stays loaded.
  void Keep() { loaded_ = false; }
  /// This process is the detached parent: the child boots what was loaded.
  void HandOver() { loaded_ = false; }

 private:
  base::Sys& sys_;
  observe::Events& events_;
  bool loaded_ = false;
};

}  // namespace takeover
