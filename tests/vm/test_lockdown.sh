#!/usr/bin/env bash
# A host kernel in lockdown (booted with lockdown=integrity: what Secure Boot does to a cloud VM)
# refuses every kexec load. bootrino must see that in preflight: exit 6, a console line that names
# lockdown, and not one request to the server. Needs bootrino's kexec preflight.
source "$(dirname "$0")/lib.sh"
HOST_PARAMS=lockdown=integrity boot_sample "$FIX/www" alpine-like/bootrino.sh
expect_seen '^host: .*lockdown: none \[integrity\]'
ok "host kernel is locked down (integrity)"
expect_host_exit 6
seen '^bootrino.*[Ll]ock(ed )?down' || fail "no bootrino line mentions lockdown"
ok "bootrino refused in preflight (exit 6) and said why: $(tr -d '\r' <"$SERIAL" | grep -Eim1 '^bootrino.*lock(ed )?down')"
wait_for '^BOOTRINO-HOST-ALIVE' 30
[[ ! -s $SERVER_LOG ]] || fail "bootrino fetched something although preflight refused: $(head -3 "$SERVER_LOG")"
ok "nothing was fetched; the host is still alive"
stop_vm
