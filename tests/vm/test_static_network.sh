#!/usr/bin/env bash
# Networks that are not plain DHCP, proven after the kexec. The host stand-in has three NICs on tap links
# in a network namespace of this test's own (lib.sh netns_start), none with a DHCP server, and configures
# them statically from its kernel command line. bootrino carries that configuration over; the RAM OS (the
# alpine-like sample) brings it up from bootrino's /etc/network/interfaces and fetches a token URL of this
# run through each NIC (named as the host stand-in's kernel names them):
#   eth0  IPv6 only: 2001:db8:6::10/64, default route via fe80::1 (Hetzner's gateway), to 2001:db8:ff::80
#   eth1  192.0.2.10/32 whose gateway 192.0.2.1 lies outside it (GCP's and Hetzner's IPv4): a host route to
#         the gateway first, then the default route; to 198.51.100.80, which serves the manifest too
#   eth2  a second subnet, 203.0.113.10/24, to 203.0.113.1 on its link
# eth1 is replugged on the host before its network is set (host.replug=), as a NIC attached after boot:
# bootrino numbers the NICs by ifindex, so what it calls eth1 in the RAM OS is the NIC the RAM OS's kernel
# finds third, and the other way round: each address reaches the right NIC only by its MAC.
# The server must have seen each request come from the address of the NIC it was meant for (the namespace
# drops what comes in on a link its answer would not leave by), and the RAM OS must show each token.
source "$(dirname "$0")/lib.sh"
netns_start
netns_addr 198.51.100.80/32 2001:db8:ff::80/128
MAC=(52:54:00:00:b0:00 52:54:00:00:b0:01 52:54:00:00:b0:02)
netns_nic tap0 "${MAC[0]}" 2001:db8:6::1/64 fe80::1/64
netns_nic tap1 "${MAC[1]}" 192.0.2.1/24
netns_nic tap2 "${MAC[2]}" 203.0.113.1/24
GUEST_URL=http://198.51.100.80
HOST_NET="host.replug=eth1 host.ip=-6,addr,add,2001:db8:6::10/64,dev,eth0 host.ip=-6,route,add,default,via,fe80::1,dev,eth0"
HOST_NET+=" host.ip=addr,add,192.0.2.10/32,dev,eth1 host.ip=route,add,192.0.2.1,dev,eth1"
HOST_NET+=" host.ip=route,add,default,via,192.0.2.1,dev,eth1 host.ip=addr,add,203.0.113.10/24,dev,eth2"

# One token per NIC, this run's own: a file of that name holding it.
TOKEN=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
URL_V6="http://[2001:db8:ff::80]/v6-only-$TOKEN"
URL_GW="http://198.51.100.80/off-subnet-gateway-$TOKEN"
URL_NIC="http://203.0.113.1/other-nic-$TOKEN"
cmdline="quiet ramos.fetch=$URL_V6 ramos.fetch=$URL_GW ramos.fetch=$URL_NIC"
sample_variant alpine-like "$cmdline"
for url in "$URL_V6" "$URL_GW" "$URL_NIC"; do echo "${url##*/}" >"$WORK/www/${url##*/}"; done

kexec_sample alpine-like "$cmdline" "$WORK/www"
# The replug took: bootrino's eth1 is the host's eth2, and the RAM OS's kernel found the NICs in PCI order.
expect_seen "^bootrino: the RAM OS.s network: static: eth0 \\(${MAC[0]}, eth0 here\\).* eth1 \\(${MAC[2]}, eth2 here\\).* eth2 \\(${MAC[1]}, eth1 here\\)"
expect_seen "^RAMOS-NIC: eth1 ${MAC[1]}\$"
expect_seen "^RAMOS-NIC: eth2 ${MAC[2]}\$"
expect_nic "${MAC[0]}" 2001:db8:6::10/64
expect_fetched "$URL_V6" "v6-only-$TOKEN" 2001:db8:6::10
ok "IPv6 only: the RAM OS reached 2001:db8:ff::80 from 2001:db8:6::10 on the NIC ${MAC[0]}, through fe80::1"
expect_nic "${MAC[1]}" 192.0.2.10/32
expect_fetched "$URL_GW" "off-subnet-gateway-$TOKEN" 192.0.2.10
ok "IPv4 /32: the RAM OS reached 198.51.100.80 from 192.0.2.10 on the NIC ${MAC[1]}, through 192.0.2.1 outside its subnet"
expect_nic "${MAC[2]}" 203.0.113.10/24
expect_fetched "$URL_NIC" "other-nic-$TOKEN" 203.0.113.10
ok "another subnet: the RAM OS has 203.0.113.10/24 on the NIC with MAC ${MAC[2]} and reached 203.0.113.1 from it"
expect_seen "^RAMOS-NET: eth1 ${MAC[2]} "
expect_seen "^RAMOS-NET: eth2 ${MAC[1]} "
ok "NICs by MAC: the RAM OS's eth1 and eth2 (found as eth2 and eth1) are named as bootrino numbered them"
