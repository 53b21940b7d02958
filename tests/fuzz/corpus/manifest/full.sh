#!/bin/sh
read BOOTRINOJSON <<"BOOTRINOJSONMARKER"
{
 "name": "full",
 "version": "2",
 "author": {
  "name": "a",
  "email": "e",
  "url": "u"
 },
 "tags": [
  "x",
  "y"
 ],
 "boot": {
  "schema": 1,
  "minRamMiB": 256,
  "personalisation": "apkovl",
  "disk": {
   "bootPartitionMiB": 512,
   "dataLabel": "data",
   "dataFilesystem": "ext4"
  },
  "hooks": {
   "afterStage": {
    "function": "bootrino_after_stage",
    "timeoutSeconds": 30
   }
  },
  "architectures": {
   "x86_64": {
    "kernel": {
     "url": "x86_64/vmlinuz",
     "size": 1234,
     "sha256": "0a7b2a5eb7b8e7a8f5c1d5e8f0f3b2a1c4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f4",
     "mirrors": [
      "https://m2.example/vmlinuz",
      "//m3.example/k"
     ]
    },
    "initrds": [
     {
      "url": "x86_64/initrd.gz",
      "size": 1234,
      "sha256": "0a7b2a5eb7b8e7a8f5c1d5e8f0f3b2a1c4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f4"
     },
     {
      "url": "https://cdn.example/modloop?x=1#f",
      "size": 1234,
      "sha256": "0a7b2a5eb7b8e7a8f5c1d5e8f0f3b2a1c4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f4",
      "name": "modloop-virt"
     }
    ],
    "files": [
     {
      "url": "../apk/apkovl.tar.gz",
      "size": 1234,
      "sha256": "0a7b2a5eb7b8e7a8f5c1d5e8f0f3b2a1c4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f4",
      "name": "sub/dir/ovl.tar.gz"
     }
    ],
    "cmdline": "modules=loop,squashfs quiet console=tty0 -- init_arg"
   },
   "aarch64": {
    "kernel": {
     "url": "aarch64/vmlinuz",
     "size": 1234,
     "sha256": "0a7b2a5eb7b8e7a8f5c1d5e8f0f3b2a1c4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f4"
    },
    "cmdline": "console=ttyAMA0"
   }
  }
 }
}
BOOTRINOJSONMARKER
echo done
