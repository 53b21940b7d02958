#!/usr/bin/env bash
# The network failing before the commit point leaves the host disk byte-identical and the host
# running (exit 4 each, the message naming the file, the URL and what went wrong): a manifest
# host name that does not resolve, and the initrd answered with 404, with 503 on every try, reset
# half way through or stalled on every try (fault_server.py's /_f/ URLs, fixtures.sh www/faults/).
# bootrino runs without --keep-disk on a host booted from that disk (untouched.sh); after the last
# case the disk boots once more. The other pre-commit failures are test_disk_untouched.sh's.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/untouched.sh"
untouched_setup

# A manifest host name that does not resolve (.invalid, RFC 2606). QEMU's restricted network
# answers and forwards no DNS query: the lookup fails inside the guest.
CASE_ARGS=(--connect-timeout 3)
REF=$(pinned_ref http://bootrino-fault.invalid "$FIX/www" faults/hook-fails.sh)
untouched dns 4 'fetching the manifest: bootrino\.sh: http://bootrino-fault\.invalid/faults/hook-fails\.sh: Could not resolve host: bootrino-fault\.invalid after 2 tries$'
[[ ! -s $SERVER_LOG ]] || fail "dns: the file server saw requests: $(head -n 3 "$SERVER_LOG")"
CASE_ARGS=()

url=http://10.0.2.100/_f/status=404/faults/initramfs-virt
REF=$(pinned faults/http-404.sh)
untouched http-404 4 "initramfs-virt: $url: HTTP 404\$"
[[ $(requests_for /_f/status=404/ | wc -l) == 1 ]] || fail "http-404: a 404 must not be retried: $(requests_for /_f/status=404/)"

url=http://10.0.2.100/_f/status=503/faults/initramfs-virt
REF=$(pinned faults/http-503.sh)
untouched http-503 4 "initramfs-virt: $url: HTTP 503 after 2 tries\$"
[[ $(requests_for /_f/status=503/ | wc -l) == 2 ]] || fail "http-503: want 2 tries: $(requests_for /_f/status=503/)"

# A TCP reset half way through each try (drop=50%,rst). QEMU's guestfwd relays through nc, which
# ends the guest's connection with a close when the reset reaches it, after some or none of the
# bytes sent before it: what curl reports varies, the outcome must not.
url=http://10.0.2.100/_f/drop=50%25,rst/faults/initramfs-virt
REF=$(pinned faults/reset-mid-file.sh)
untouched reset-mid-file 4 "initramfs-virt: $url: .+ after 2 tries\$"
requests_for /_f/drop= | grep '"dropped_at": [1-9]' >/dev/null ||
  fail "reset-mid-file: the server never cut a transfer short: $(requests_for /_f/drop=)"

# The server goes silent after 400000 bytes of each try (stall=30@400000): cut off after
# --stall-timeout, the second try resumes with Range from byte 400000 and stalls 400000 bytes
# later; bootrino gives up after --retries 2. ("after 800000 bytes" is the proof of the resume: a
# try from zero would stall at 400000 again. The server logs a request only once it ends, 30 s on.)
CASE_ARGS=(--stall-timeout 3)
url=http://10.0.2.100/_f/stall=30@400000/faults/initramfs-virt
REF=$(pinned faults/stall-mid-file.sh)
untouched stall-mid-file 4 "initramfs-virt: $url: Operation too slow\\. .* the last 3 seconds after 800000 bytes after 2 tries\$"
CASE_ARGS=()

untouched_final_boot
