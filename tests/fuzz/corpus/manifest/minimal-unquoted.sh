#!/bin/sh
read BOOTRINOJSON <<BOOTRINOJSONMARKER
{
 "name": "m",
 "boot": {
  "schema": 1,
  "architectures": {
   "x86_64": {
    "kernel": {
     "url": "k",
     "size": 1,
     "sha256": "0a7b2a5eb7b8e7a8f5c1d5e8f0f3b2a1c4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f4"
    }
   }
  }
 }
}
BOOTRINOJSONMARKER
echo done
