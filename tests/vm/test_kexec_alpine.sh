#!/usr/bin/env bash
# `bootrino run REF --yes` on the host stand-in kexecs into the alpine-like sample: its cmdline is
# the manifest's plus the host's serial console and bootrino.id=, and bootrino's overlay cpio
# (/etc/bootrino/manifest.json, boot-id), appended to an initrd whose length is not a multiple of 4,
# reached it. Needs kexec support in bootrino.
source "$(dirname "$0")/lib.sh"
kexec_sample alpine-like "modules=loop,squashfs modloop=/boot/modloop-virt quiet"
