#!/usr/bin/env bash
# test_cloud_init.sh once more on a link without DHCP: the NoCloud seed's network-config gives the Debian
# instance a static address and gateway, and the RAM OS must reach a server behind that gateway with the
# network bootrino carried over (test_cloud_init.sh says how).
CLOUD_NET=static
source "$(dirname "$0")/test_cloud_init.sh"
