#!/usr/bin/env bash
# `bootrino run REF --yes` on the host stand-in kexecs into the tinycore-like sample (vmlinuz64 +
# core.gz, personalisation tinycore-mydata): cmdline and overlay as for alpine-like. Needs kexec
# support in bootrino.
source "$(dirname "$0")/lib.sh"
kexec_sample tinycore-like "tce=LABEL=tce quiet"
