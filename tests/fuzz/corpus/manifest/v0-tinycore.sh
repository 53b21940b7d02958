#!/usr/bin/env sh
read BOOTRINOJSON <<"BOOTRINOJSONMARKER"
{
  "name": "Install Tiny Core 64",
  "version": "0.0.1",
  "versionDate": "2018-01-01T09:00:00Z",
  "description": "Installs Tiny Core 64.",
  "options": "",
  "logoURL": "",
  "readmeURL": "https://example.org/install_os_tinycore/README.md",
  "launchTargetsURL": "https://example.org/launchtargets/defaultLaunchTargetsLatest.json",
  "websiteURL": "",
  "author": {
    "url": "https://example.org/bootrino",
    "email": "bootrino@example.org"
  },
  "tags": [
    "linux",
    "runfromram",
    "tinycore"
  ]
}
BOOTRINOJSONMARKER

setup()
{
    export PATH=$PATH:/usr/local/bin:/usr/bin:/usr/local/sbin:/bin
    OS=tinycore
}
