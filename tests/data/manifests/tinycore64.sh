#!/bin/sh
read BOOTRINOJSON <<"BOOTRINOJSONMARKER"
{
  "name": "Tiny Core Linux 64",
  "version": "15.0",
  "description": "Tiny Core Pure 64 running from RAM; extensions and backups persist on the tce partition.",
  "websiteURL": "http://tinycorelinux.net/",
  "author": {"name": "Example Ops"},
  "tags": ["linux", "runfromram", "tinycore"],
  "boot": {
    "schema": 1,
    "minRamMiB": 256,
    "personalisation": "tinycore-mydata",
    "disk": {"dataLabel": "tce"},
    "architectures": {
      "x86_64": {
        "kernel":  {"url": "http://tinycorelinux.net/15.x/x86_64/release/distribution_files/vmlinuz64",
                    "size": 6393696,
                    "sha256": "6a3b8b0bd3be2d0dfd1c7dbeef6f9b8a7c0dcee6a8bac2deef6f8a0b2c4d6e8f"},
        "initrds": [{"url": "http://tinycorelinux.net/15.x/x86_64/release/distribution_files/corepure64.gz",
                    "size": 17813712,
                    "sha256": "7b4c9c1ce4cf3e1efe2d8ecff0a0c9b8d1edff7b9cbd3eff0a0b1c3d5e7f9a1b"}],
        "files":   [{"url": "tcz/openssh.tcz", "name": "tce/optional/openssh.tcz", "size": 1032192,
                    "sha256": "8c5dad2df5da4f2faf3e9fdaa1b1dac9e2feaa8cadce4fa0b1c2d4e6f8a0b2c4"}],
        "cmdline": "tce=LABEL=tce waitusb=5 host=bootrino noswap"
      }
    }
  }
}
BOOTRINOJSONMARKER
