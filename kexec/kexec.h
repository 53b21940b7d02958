// kexec: booting a new kernel without the firmware: the preflight (can this host kexec at all, and why not),
// the new kernel's command line, the initrd and overlay archives (libarchive), decompressing the kernel image,
// kexec_file_load and the reboot.
// Depends on base/ only among bootrino's libraries (and libarchive, liblzma, zstd, zlib).
// Code outside kexec/ includes this header, not kexec's others.
#pragma once

#include "kexec/archive_writer.h"
#include "kexec/cmdline.h"
#include "kexec/initrd.h"
#include "kexec/kernel_image.h"
#include "kexec/load.h"
#include "kexec/preflight.h"
