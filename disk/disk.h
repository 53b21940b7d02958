// disk: replacing the root disk: which disk holds /, the layout plan, the disk opened once (a handle every
// writer writes through), GPT (libfdisk), FAT32 and ext4 (libext2fs), syslinux and systemd-boot installed byte by
// byte, and quiescing the old system before the writes.
// Depends on base/ only among bootrino's libraries (and libfdisk, libblkid, libext2fs, nlohmann_json).
// Code outside disk/ includes this header, not disk's others.
#pragma once

#include "disk/handle.h"
#include "disk/layout.h"
#include "disk/quiesce.h"
#include "disk/root_disk.h"
#include "disk/write.h"
