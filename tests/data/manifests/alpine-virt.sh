#!/bin/sh
# Alpine Linux "virt" flavour, booted from its netboot files.
read BOOTRINOJSON <<"BOOTRINOJSONMARKER"
{
  "name": "Alpine Linux virt",
  "version": "3.20.3",
  "versionDate": "2024-09-06",
  "description": "Alpine Linux running from RAM; packages cached and lbu commits saved on the data partition.",
  "websiteURL": "https://alpinelinux.org/",
  "author": {"name": "Example Ops", "email": "ops@example.org"},
  "tags": ["linux", "runfromram", "alpine"],
  "boot": {
    "schema": 1,
    "minRamMiB": 512,
    "personalisation": "apkovl",
    "disk": {"bootPartitionMiB": 512, "dataLabel": "alpine-data", "dataFilesystem": "ext4"},
    "hooks": {"afterStage": {"function": "bootrino_after_stage", "timeoutSeconds": 30}},
    "architectures": {
      "x86_64": {
        "kernel":  {"url": "x86_64/vmlinuz-virt", "size": 12337664,
                    "sha256": "0a7b2a5eb7b8e7a8f5c1d5e8f0f3b2a1c4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f4"},
        "initrds": [{"url": "x86_64/intel-ucode.img", "size": 8285184,
                     "sha256": "9d6ebe3fa6ebf3a0b1f4d0ebb2c2ebda3f0bbd9ea6dbef5b1c2d3e5f7a9b1c3d"},
                    {"url": "x86_64/initramfs-virt", "size": 9764864,
                     "sha256": "1b8c3b6fc8c9f8b9a6d2e6f9a1a4c3b2d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5"}],
        "files":   [{"url": "x86_64/modloop-virt", "name": "boot/modloop-virt", "size": 21118976,
                    "mirrors": ["https://mirror.example.net/alpine/v3.20/releases/x86_64/netboot/modloop-virt"],
                    "sha256": "2c9d4c7ad9dae9cab7e3f7aab2b5d4c3e6f8aab2c4d6e8faa2b4c6d8e0f2a4b6"}],
        "cmdline": "modules=loop,squashfs,sd-mod,usb-storage modloop=/boot/modloop-virt alpine_repo=https://dl-cdn.alpinelinux.org/alpine/v3.20/main quiet"
      },
      "aarch64": {
        "kernel":  {"url": "aarch64/vmlinuz-virt", "size": 21020160,
                    "sha256": "3d0e5d8bea0ebfadbc8f4a8bbc3c6e5d4f7a9bbc3d5e7f9abb3c5d7e9f1a3b5c"},
        "initrds": [{"url": "aarch64/initramfs-virt", "size": 9187328,
                    "sha256": "4e1f6e9cfb1fc0bebd9a5b9ccd4d7f6e5a8bacc4e6f8a0bcc4d6e8f0a2b4c6d8"}],
        "files":   [{"url": "aarch64/modloop-virt", "name": "boot/modloop-virt", "size": 20250624,
                    "sha256": "5f2a7fadac2ad1cfce0b6cadde5e8a7f6b9cbdd5f7a9b1cdd5e7f9a1b3c5d7e9"}],
        "cmdline": "modules=loop,squashfs modloop=/boot/modloop-virt alpine_repo=https://dl-cdn.alpinelinux.org/alpine/v3.20/main quiet"
      }
    }
  }
}
BOOTRINOJSONMARKER

# Runs on the host after every file is staged and verified, before anything
# is changed; BOOTRINO_STAGE_DIR names the staged files. A failure aborts.
bootrino_after_stage() {
    test -s "$BOOTRINO_STAGE_DIR/boot/modloop-virt"
}
