#!/usr/bin/env bash
# packaging/install.sh, piped to dash and to busybox sh as `curl … | sh -s --` does, against a loopback
# server holding the real static binary and its .sha256, published as packaging/release.sh does (with
# packaging/stamp_install.sh: the base URL and the binaries' SHA-256 pinned in install.sh): it installs and
# runs `bootrino run REF --dry-run`, and refuses a binary that does not match the pin, an unpinned install.sh
# without --sha256/--key/--trust-server, an unpinned plain-http download without --allow-http, an https
# download redirected to http, busybox's wget for https, an oversized download, a missing binary, an
# unsupported machine, a bad signature, a missing tool or a missing root, each with what to do next. HTTPS
# runs against nginx with the test CA (nginx.sh). It never runs bootrino without --dry-run.
# Debian's busybox-static runs its own applets before anything on PATH (uname, id, wget, sha256sum), so
# the cases that fake those through PATH run under dash only; busybox gets the real equivalents
# (setarch for the machine, setpriv for the user) and its own wget.
source "$(dirname "$0")/lib.sh"
REPO_SH="$BOOTRINO_SOURCE/packaging/install.sh"  # as in the repository: no base URL, nothing pinned
command -v dash >/dev/null || fail "dash is not installed (tests/run.sh installs it)"
command -v busybox >/dev/null || fail "busybox is not installed (tests/run.sh installs busybox-static)"
command -v wget >/dev/null || fail "wget is not installed (tests/run.sh installs it)"

start_fault_server
make_payload vmlinuz 100000
make_manifest "$WWW/bootrino.sh" kernel:vmlinuz
ref=$(pinned bootrino.sh)
# A release directory as packaging/release.sh writes it, with the binary under test stripped as a release's
# is (the test build carries debug information, and would not fit the installer's 32 MiB cap in every build
# type); the aarch64 name holds the same binary so that the architecture mapping can be checked on this
# machine (it is only installed, never run).
mkdir -p "$WWW/rel"
RELBIN="$WWW/rel/bootrino-x86_64"
strip -o "$RELBIN" "$BOOTRINO"
cp "$RELBIN" "$WWW/rel/bootrino-aarch64"
for arch in x86_64 aarch64; do (cd "$WWW/rel" && sha256sum "bootrino-$arch" >"bootrino-$arch.sha256"); done
BASE="$FS_URL/rel"
BIN_SHA=$(sha256sum <"$RELBIN" | cut -d' ' -f1)
"$BOOTRINO_SOURCE/packaging/stamp_install.sh" --base-url "$BASE/" "$WWW/rel"
INSTALL_SH="$WWW/rel/install.sh"  # the published one
grep -qx "DEFAULT_BASE_URL=\"$BASE\"" "$INSTALL_SH" || fail "stamp_install.sh did not write the base URL"
for var in PINNED_SHA256_X86_64 PINNED_SHA256_AARCH64; do
  grep -qx "$var=\"$BIN_SHA\"" "$INSTALL_SH" || fail "stamp_install.sh did not pin $var"
done
ok "stamp_install.sh writes the base URL and each binary's SHA-256 into the published install.sh"

# tools DIR CMD...: DIR holds only these commands (links to the real ones), for a PATH without the rest.
tools() {
  local dir=$WORK/$1 cmd
  shift
  mkdir -p "$dir"
  for cmd in uname id mkdir chmod mv rm tr sed grep sleep sha256sum awk mount dirname head wc cat "$@"; do
    ln -sf "$(command -v "$cmd")" "$dir/$cmd"
  done
  echo "$dir"
}
PATH_CURL=$(tools bin-curl curl openssl)
PATH_WGET=$(tools bin-wget wget openssl)
PATH_NONE=$(tools bin-none openssl)
PATH_NOSSL=$(tools bin-nossl curl)

# settled_count PATTERN N: how many logged requests match, once N of them have been logged (or after 2 s):
# the server logs a request when it ends, which may be just after the client has exited.
settled_count() {
  local _
  for _ in $(seq 20); do [[ $(requests_for "$1" | wc -l) -ge $2 ]] && break; sleep 0.1; done
  sleep 0.1
  requests_for "$1" | wc -l
}

# install EXPECTED SHELL PATH ARGS...: `SHELL -s -- ARGS < install.sh` with PATH and fast retries; the
# environment may add BOOTRINO_* variables, and SCRIPT another install.sh than the published one. Output in
# $WORK/out, $WORK/err.
install() {
  local expected=$1 shell=$2 path=$3 rc=0 sh
  shift 3
  read -ra sh <<<"$shell"
  env PATH="$path" BOOTRINO_RETRY_DELAY=0 BOOTRINO_TRIES=3 "${sh[@]}" -s -- "$@" <"${SCRIPT:-$INSTALL_SH}" \
    >"$WORK/out" 2>"$WORK/err" || rc=$?
  [[ $rc == "$expected" ]] || fail "$shell install.sh $* exited $rc, expected $expected"
}

SHELLS=("$(command -v dash)" "$(command -v busybox) sh")  # absolute: PATH is cut down below
# A tampered release: another binary (one byte more) with a .sha256 that matches it, as someone who can change
# what the server sends would publish. Only the pin in install.sh tells it from the real one.
mkdir -p "$WWW/tampered"
{ cat "$RELBIN"; printf x; } >"$WWW/tampered/bootrino-x86_64"
(cd "$WWW/tampered" && sha256sum bootrino-x86_64 >bootrino-x86_64.sha256)
TAMPERED_SHA=$(cut -d' ' -f1 "$WWW/tampered/bootrino-x86_64.sha256")
# An oversized one: 33 MiB (sparse) with its .sha256, and its Content-Length.
mkdir -p "$WWW/huge"
truncate -s 33M "$WWW/huge/bootrino-x86_64"
(cd "$WWW/huge" && sha256sum bootrino-x86_64 >bootrino-x86_64.sha256)

for shell in "${SHELLS[@]}"; do
  read -ra SH <<<"$shell"
  tag=${SH[0]##*/}
  dir="$WORK/inst-$tag"

  # The README's one-liner, literally: curl | sh -s -- REF, with a dry run instead of --yes; install.sh
  # knows its base URL and the binary's hash.
  rc=0
  curl -fsSL "$BASE/install.sh" |
    env PATH="$PATH_CURL" "${SH[@]}" -s -- "$ref" --dry-run --dir "$dir" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [[ $rc == "$DRY_RUN_RC" ]] || fail "$shell: curl | sh -s -- REF --dry-run exited $rc, expected $DRY_RUN_RC"
  cmp "$RELBIN" "$dir/bootrino" || fail "$shell: the installed binary differs from the served one"
  [[ -x $dir/bootrino ]] || fail "$shell: the installed binary is not executable"
  expect_err "installed $dir/bootrino \(verified: sha256 pinned by install.sh\)"
  expect_out "kernel +vmlinuz .*verified"
  expect_out "nothing was changed"
  [[ -z $(find "$dir" -mindepth 1 -name '.install.*') ]] || fail "$shell: downloads left behind in $dir"
  ok "$tag: curl | sh -s -- REF --dry-run installs the binary pinned by install.sh and runs it (exit $DRY_RUN_RC)"

  # Options from the environment, each download answered 503 once: retried, then fine. (The server counts
  # per URL, so each shell gets its own.)
  rm -rf "$dir"
  ln -s rel "$WWW/rel-$tag"
  BOOTRINO_BASE_URL="$FS_URL/_f/status=503x1/rel-$tag/" BOOTRINO_DIR="$dir" \
    install "$DRY_RUN_RC" "$shell" "$PATH_CURL" "$ref" --dry-run
  expect_err "HTTP 503; trying again in 0s \(1 of 3\)"
  expect_out "nothing was changed"
  ok "$tag: BOOTRINO_BASE_URL / BOOTRINO_DIR, a 503 is retried"

  # No curl: wget (GNU wget under dash, busybox's own under busybox sh), over http: the pin authenticates.
  rm -rf "$dir"
  install 0 "$shell" "$PATH_WGET" --install-only --dir "$dir"
  [[ $(cat "$WORK/out") == "$dir/bootrino" ]] || fail "$shell: --install-only did not print the path"
  cmp "$RELBIN" "$dir/bootrino" || fail "$shell: the binary fetched with wget differs"
  if [[ $tag == dash ]]; then expect_err "\(gnu-wget\)"; else expect_err "\(wget\)"; fi
  ok "$tag: without curl, wget downloads it; --install-only stops there"

  # A binary that is not the one install.sh pins, although its .sha256 matches it: refused, nothing
  # installed, with curl and with wget.
  for path in "$PATH_CURL" "$PATH_WGET"; do
    rm -rf "$dir"
    install 3 "$shell" "$path" "$ref" --dry-run --base-url "$FS_URL/tampered" --dir "$dir"
    expect_err "bootrino-x86_64 from $FS_URL/tampered does not match the SHA-256 pinned by install.sh \(expected \
$BIN_SHA, got $TAMPERED_SHA\)"
    expect_err "what to do: do not use this download"
    [[ ! -e $dir/bootrino ]] || fail "$shell: a binary that does not match the pin was installed"
    [[ -z $(find "$dir" -mindepth 1) ]] || fail "$shell: a refused download was left in $dir"
  done
  ok "$tag: a binary other than the pinned one is refused (exit 3) though its .sha256 matches, nothing installed"

  # --sha256 replaces the pin: the hash it gives is the one checked.
  rm -rf "$dir"
  install 0 "$shell" "$PATH_CURL" --install-only --base-url "$FS_URL/tampered" --dir "$dir" --sha256 "$TAMPERED_SHA"
  cmp "$WWW/tampered/bootrino-x86_64" "$dir/bootrino" || fail "$shell: --sha256 did not install that binary"
  expect_err "verified: sha256 given by --sha256"
  rm -rf "$dir"
  BOOTRINO_SHA256=$TAMPERED_SHA install 3 "$shell" "$PATH_CURL" --install-only --dir "$dir"
  expect_err "does not match the SHA-256 given by --sha256 \(expected $TAMPERED_SHA, got $BIN_SHA\)"
  [[ ! -e $dir/bootrino ]] || fail "$shell: a binary that does not match --sha256 was installed"
  install 2 "$shell" "$PATH_CURL" --install-only --dir "$dir" --sha256 "${BIN_SHA:1}"
  expect_err "--sha256 \(or BOOTRINO_SHA256\) is not a SHA-256"
  ok "$tag: --sha256 / BOOTRINO_SHA256 replace the pin: a match installs, a mismatch and a malformed hash are refused"

  # The repository's install.sh pins nothing: it refuses, before any download, unless told what to trust.
  before=$(requests_for '"/rel/' | wc -l)
  SCRIPT=$REPO_SH install 2 "$shell" "$PATH_CURL" "$ref" --dry-run --base-url "$BASE" --dir "$dir"
  expect_err "this install.sh pins no SHA-256 for bootrino-x86_64"
  expect_err "what to do: use the install.sh published with the release .*--sha256 HEX.*--key PUB.pem.*--trust-server"
  # …and a plain http base with only the server's .sha256 needs --allow-http.
  SCRIPT=$REPO_SH install 2 "$shell" "$PATH_CURL" "$ref" --dry-run --base-url "$BASE" --dir "$dir" --trust-server
  expect_err "the base URL $BASE is plain http and nothing pins the binary"
  expect_err "what to do: use an https base URL; or pin the binary .*; or, .* pass --allow-http"
  sleep 0.2  # (the server logs a request when it ends)
  [[ $(requests_for '"/rel/' | wc -l) == "$before" ]] || fail "$shell: an unpinned install.sh downloaded"
  [[ ! -e $dir/bootrino ]] || fail "$shell: an unpinned install.sh installed a binary"
  ok "$tag: the unpinned install.sh: refused without --sha256/--key/--trust-server, and over http without --allow-http"

  rm -rf "$dir"
  SCRIPT=$REPO_SH BOOTRINO_TRUST_SERVER=1 install "$DRY_RUN_RC" "$shell" "$PATH_CURL" "$ref" --dry-run \
    --base-url "$BASE" --dir "$dir" --allow-http
  expect_err "warning: $BASE is plain http and the binary is not pinned \(--allow-http\)"
  expect_err "verified: sha256 in the server's bootrino-x86_64.sha256"
  expect_out "nothing was changed"
  rm -rf "$dir"
  SCRIPT=$REPO_SH install 0 "$shell" "$PATH_CURL" --install-only --base-url "$BASE" --dir "$dir" --sha256 "$BIN_SHA"
  expect_err "verified: sha256 given by --sha256"
  ok "$tag: the unpinned install.sh installs with --trust-server --allow-http, or over http with --sha256"

  # A .sha256 that does not match (with --trust-server): refused, nothing installed.
  rm -rf "$dir"
  mkdir -p "$WWW/bad"
  cp "$RELBIN" "$WWW/bad/bootrino-x86_64"
  echo "$(printf '%064d' 0)  bootrino-x86_64" >"$WWW/bad/bootrino-x86_64.sha256"
  SCRIPT=$REPO_SH install 3 "$shell" "$PATH_CURL" "$ref" --dry-run --base-url "$FS_URL/bad" --dir "$dir" \
    --trust-server --allow-http
  expect_err "bootrino-x86_64 from $FS_URL/bad does not match the SHA-256 in the server's bootrino-x86_64.sha256 \
\(expected 0{64}, got [0-9a-f]{64}\)"
  expect_err "what to do: do not use this download"
  [[ ! -e $dir/bootrino ]] || fail "$shell: a binary with the wrong hash was installed"
  [[ -z $(find "$dir" -mindepth 1) ]] || fail "$shell: a refused download was left in $dir"
  ok "$tag: --trust-server: a SHA-256 mismatch is refused (exit 3), nothing installed"

  echo "not a hash" >"$WWW/bad/bootrino-x86_64.sha256"
  SCRIPT=$REPO_SH install 3 "$shell" "$PATH_CURL" "$ref" --dry-run --base-url "$FS_URL/bad" --dir "$dir" \
    --trust-server --allow-http
  expect_err "bootrino-x86_64.sha256 does not hold a SHA-256"
  ok "$tag: --trust-server: a .sha256 without a hash is refused"

  # An oversized binary: with a Content-Length (curl stops at once), and sent without one, for ever as far as
  # the client knows (32 MiB + 1 byte are read, then the download is cut). Refused, nothing installed.
  for path in "$PATH_CURL" "$PATH_WGET"; do
    rm -rf "$dir"
    install 3 "$shell" "$path" "$ref" --dry-run --base-url "$FS_URL/huge" --dir "$dir"
    expect_err "$FS_URL/huge/bootrino-x86_64 is larger than 32 MiB, more than a bootrino release file can be: refused"
    [[ ! -e $dir/bootrino && -z $(find "$dir" -mindepth 1) ]] || fail "$shell: an oversized download was kept"
    stream="$FS_URL/_f/big=67108864/rel-$tag"
    install 3 "$shell" "$path" "$ref" --dry-run --base-url "$stream" --dir "$dir"
    expect_err "$stream/bootrino-x86_64 is larger than 32 MiB"
    [[ ! -e $dir/bootrino && -z $(find "$dir" -mindepth 1) ]] || fail "$shell: an oversized download was kept"
  done
  big="\"/_f/big=67108864/rel-$tag/bootrino-x86_64\""
  [[ $(settled_count "$big" 2) == 2 ]] || fail "$shell: the server did not log the two oversized downloads"
  sent=$(requests_for "$big" | sed -n 's/.*"bytes": *\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
  if [[ -z $sent ]] || ((sent >= 60000000)); then
    fail "$shell: the endless download was not cut (${sent:-?} bytes sent)"
  fi
  ok "$tag: a binary over 32 MiB is refused (exit 3), with or without a Content-Length, curl and wget"

  # No binary at the base URL: a 404 is not retried.
  before=$(requests_for '"/nothing/bootrino-x86_64"' | wc -l)
  install 1 "$shell" "$PATH_CURL" "$ref" --dry-run --base-url "$FS_URL/nothing" --dir "$dir"
  expect_err "$FS_URL/nothing/bootrino-x86_64: HTTP 404"
  expect_err "what to do: check the base URL"
  [[ $(settled_count '"/nothing/bootrino-x86_64"' $((before + 1))) == $((before + 1)) ]] ||
    fail "$shell: a 404 was retried"
  install 1 "$shell" "$PATH_WGET" "$ref" --dry-run --base-url "$FS_URL/nothing" --dir "$dir"
  expect_err "$FS_URL/nothing/bootrino-x86_64: HTTP 404"
  ok "$tag: a missing binary (404, curl and wget) fails at once with what to check"

  # Nothing answers at all: every try fails, then it gives up naming the tries.
  install 1 "$shell" "$PATH_CURL" "$ref" --dry-run --base-url "http://127.0.0.1:9/rel" --dir "$dir"
  expect_err "\(after 3 tries\)"
  expect_err "what to do: check this machine's network"
  ok "$tag: an unreachable server is tried 3 times, then refused"

  # A 32-bit personality: uname -m says i686 (real, not faked, so busybox's own uname sees it too).
  before=$(requests_for '"/rel/' | wc -l)
  rc=0
  setarch i686 env PATH="$PATH_CURL" "${SH[@]}" -s -- "$ref" --dry-run --dir "$dir" \
    <"$INSTALL_SH" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [[ $rc == 2 ]] || fail "$shell: on i686 install.sh exited $rc, expected 2"
  expect_err "bootrino is built for x86_64 and aarch64; this machine is i686"
  sleep 0.2  # (the server logs a request when it ends)
  [[ $(requests_for '"/rel/' | wc -l) == "$before" ]] || fail "$shell: downloaded on an unsupported machine"
  ok "$tag: an unsupported machine (i686) is refused before any download"

  # Not root, no --dir: refused with the sudo one-liner.
  if [[ $EUID == 0 ]]; then
    rc=0
    # (the system's PATH: nobody cannot enter $WORK)
    # --dry-run as well: even if the root check broke, nothing here could change this machine.
    setpriv --reuid=65534 --regid=65534 --clear-groups env PATH=/usr/bin:/bin "${SH[@]}" -s -- "$ref" --yes --dry-run \
      <"$INSTALL_SH" >"$WORK/out" 2>"$WORK/err" || rc=$?
    [[ $rc == 2 ]] || fail "$shell: as nobody install.sh exited $rc, expected 2"
    expect_err "not running as root \(uid 65534\), so /run/bootrino cannot be written"
    expect_err "re-run it with sudo: curl -fsSL URL/install.sh \| sudo sh -s -- $ref --yes --dry-run"
    ok "$tag: not root: refused, and told to use sudo"
  fi

  # No base URL anywhere: the unreleased script says how to give one.
  SCRIPT=$REPO_SH install 2 "$shell" "$PATH_CURL" "$ref" --dry-run --dir "$dir"
  expect_err "does not know where bootrino's release files are"
  expect_err "pass --base-url URL"
  ok "$tag: an unreleased install.sh without --base-url is refused"
done

# --- HTTPS (nginx with the test CA; curl reads it from CURL_CA_BUNDLE, GNU wget from a wgetrc) ---
bash "$IT_DIR/nginx.sh" start "$WORK/nginx" "$WWW" >/dev/null
trap 'bash "$IT_DIR/nginx.sh" stop "$WORK/nginx" >/dev/null 2>&1 || true; cleanup' EXIT
source "$WORK/nginx/ports.env"
HTTPS_BASE="https://localhost:$HTTPS_PORT/rel"
export CURL_CA_BUNDLE=$CA_FILE WGETRC=$WORK/wgetrc
echo "ca_certificate = $CA_FILE" >"$WGETRC"
dir="$WORK/inst-https"
for path in "$PATH_CURL" "$PATH_WGET"; do
  rm -rf "$dir"
  install 0 "${SHELLS[0]}" "$path" --install-only --base-url "$HTTPS_BASE" --dir "$dir"
  cmp "$RELBIN" "$dir/bootrino" || fail "the binary fetched over https differs"
  expect_err "verified: sha256 pinned by install.sh"
  # The unpinned install.sh needs no --allow-http for an https base.
  rm -rf "$dir"
  SCRIPT=$REPO_SH install 0 "${SHELLS[0]}" "$path" --install-only --base-url "$HTTPS_BASE" --dir "$dir" --trust-server
  expect_err "verified: sha256 in the server's bootrino-x86_64.sha256"

  # nginx sends /to-http/PATH to http://127.0.0.1:HTTP_PORT/PATH: never followed (curl) or thrown away (wget).
  rm -rf "$dir"
  install 3 "${SHELLS[0]}" "$path" --install-only --base-url "https://localhost:$HTTPS_PORT/to-http/rel" --dir "$dir"
  expect_err "/to-http/rel/bootrino-x86_64 was redirected to http \(http://127.0.0.1:$HTTP_PORT/rel/bootrino-x86_64\): \
refused, an https download is never followed to anything else"
  [[ ! -e $dir/bootrino && -z $(find "$dir" -mindepth 1) ]] || fail "a download redirected to http was kept"
done
expect_err "\(gnu-wget\)"
ok "dash: https with curl and GNU wget installs (pinned, or --trust-server); an https -> http redirect is refused"

# busybox's wget checks certificates only through an openssl binary (Debian's build runs `openssl s_client
# -verify_return_error`); without one it uses its own TLS code, which checks nothing. Shown here against
# openssl s_server with the self-signed certificate (TLS 1.2 and old signature algorithms, which that TLS code
# needs), from a PATH without openssl: busybox wget fetches from it. install.sh never uses it for https, under
# dash (wget on PATH) or busybox sh (its own applet), so it neither downloads nor installs.
S_PORT=$(free_port)
(cd "$WWW" && exec openssl s_server -tls1_2 -cipher 'ALL:@SECLEVEL=0' -WWW -accept "127.0.0.1:$S_PORT" \
  -cert "$CERT_DIR/selfsigned.crt" -key "$CERT_DIR/selfsigned.key" >"$WORK/s_server.log" 2>&1) &
PIDS+=($!)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$S_PORT") 2>/dev/null && break; sleep 0.1; done
UNCHECKED_BASE="https://localhost:$S_PORT/rel"
PATH_BBWGET=$(tools bin-bbwget)  # no openssl
ln -sf "$(command -v busybox)" "$PATH_BBWGET/wget"
env PATH="$PATH_BBWGET" wget -q -O "$WORK/unchecked" "$UNCHECKED_BASE/bootrino-x86_64.sha256" 2>"$WORK/err" ||
  fail "busybox wget without openssl did not fetch from a self-signed https server: the premise has changed"
cmp -s "$WORK/unchecked" "$WWW/rel/bootrino-x86_64.sha256" || fail "busybox wget fetched something else"
ok "busybox wget without openssl fetches from an https server it cannot have verified"
dir="$WORK/inst-bbwget"
for shell in "${SHELLS[@]}"; do
  rm -rf "$dir"
  before=$(grep -c 'FILE:' "$WORK/s_server.log" || true)
  install 2 "$shell" "$PATH_BBWGET" --install-only --base-url "$UNCHECKED_BASE" --dir "$dir"
  expect_err "this machine's wget is not GNU Wget \(busybox's wget may not check TLS certificates\)"
  expect_err "what to do: install curl .* or GNU wget"
  [[ ! -e $dir/bootrino ]] || fail "$shell: busybox wget installed over https"
  sleep 0.2
  [[ $(grep -c 'FILE:' "$WORK/s_server.log" || true) == "$before" ]] || fail "$shell: busybox wget was used for https"
done
ok "busybox wget is never used for an https base (dash and busybox sh), with what to install instead"

# --- Signatures (openssl dgst, ECDSA P-256 as for manifests) ---
cd "$WORK" || fail "no $WORK"
openssl ecparam -name prime256v1 -genkey -noout -out key.pem 2>/dev/null
openssl ec -in key.pem -pubout -out key.pub.pem 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out other.pem 2>/dev/null
openssl ec -in other.pem -pubout -out other.pub.pem 2>/dev/null
openssl dgst -sha256 -sign key.pem -out "$WWW/rel/bootrino-x86_64.sig" "$WWW/rel/bootrino-x86_64"
dir="$WORK/inst-sig"
for shell in "${SHELLS[@]}"; do
  tag=${shell%% *}; tag=${tag##*/}
  rm -rf "$dir"
  install "$DRY_RUN_RC" "$shell" "$PATH_CURL" "$ref" --dry-run --base-url "$BASE" --dir "$dir" --key key.pub.pem
  expect_err "verified: sha256 pinned by install.sh and signature by key.pub.pem"
  expect_out "nothing was changed"
  # The unpinned install.sh with a key: the server's .sha256 and the signature, http allowed.
  rm -rf "$dir"
  SCRIPT=$REPO_SH install 0 "$shell" "$PATH_CURL" --install-only --base-url "$BASE" --dir "$dir" --key key.pub.pem
  expect_err "verified: sha256 in the server's bootrino-x86_64.sha256 and signature by key.pub.pem"
  ok "$tag: --key: the signature is checked with openssl (pinned, and unpinned over http)"

  rm -rf "$dir"
  BOOTRINO_KEY=$(cat other.pub.pem) install 3 "$shell" "$PATH_CURL" "$ref" --dry-run --base-url "$BASE" --dir "$dir"
  expect_err "bootrino-x86_64.sig does not verify bootrino-x86_64 with the key BOOTRINO_KEY"
  [[ ! -e $dir/bootrino ]] || fail "$shell: a binary with a bad signature was installed"
  ok "$tag: BOOTRINO_KEY (PEM text) of another key: refused, nothing installed"

  install 2 "$shell" "$PATH_NOSSL" "$ref" --dry-run --base-url "$BASE" --dir "$dir" --key key.pub.pem
  expect_err "a signing key is configured but openssl is not installed"
  ok "$tag: a key but no openssl: refused"
done
rm "$WWW/rel/bootrino-x86_64.sig"
install 1 "${SHELLS[0]}" "$PATH_CURL" --install-only --base-url "$BASE" --dir "$dir" --key key.pub.pem
expect_err "bootrino-x86_64.sig: HTTP 404"
ok "dash: a key but no .sig published: refused"

# --- What only dash can be shown through PATH (busybox runs its own applets first) ---
fake_uname() {  # fake_uname DIR MACHINE: a uname that reports Linux on MACHINE
  mkdir -p "$WORK/$1"
  cp -r "$PATH_CURL"/. "$WORK/$1/"
  rm "$WORK/$1/uname"
  # shellcheck disable=SC2016  # $1 belongs to the fake uname
  printf '#!/bin/sh\ncase $1 in -m) echo %s ;; *) echo Linux ;; esac\n' "$2" >"$WORK/$1/uname"
  chmod +x "$WORK/$1/uname"
  echo "$WORK/$1"
}
install 2 "${SHELLS[0]}" "$(fake_uname uname-armv7 armv7l)" "$ref" --dry-run --base-url "$BASE" --dir "$dir"
expect_err "bootrino is built for x86_64 and aarch64; this machine is armv7l"
expect_err "what to do: use an x86_64 or aarch64"
ok "dash: uname -m armv7l is refused"

rm -rf "$dir"
before=$(requests_for '"/rel/bootrino-aarch64"' | wc -l)
install 0 "${SHELLS[0]}" "$(fake_uname uname-arm64 arm64)" --install-only --base-url "$BASE" --dir "$dir"
[[ $(settled_count '"/rel/bootrino-aarch64"' $((before + 1))) == $((before + 1)) ]] ||
  fail "arm64 did not fetch bootrino-aarch64"
ok "dash: uname -m arm64 fetches bootrino-aarch64"

install 2 "${SHELLS[0]}" "$PATH_NONE" "$ref" --dry-run --base-url "$BASE" --dir "$dir"
expect_err "neither curl nor wget is installed"
expect_err "what to do: install one"
ok "dash: neither curl nor wget: refused with what to install"

install 2 "${SHELLS[0]}" "$PATH_CURL" --base-url "$BASE" --dir "$dir"
expect_err "no arguments for bootrino run"
install 0 "${SHELLS[0]}" "$PATH_CURL" --help
expect_err "usage: install.sh"
ok "dash: no arguments: usage"

# A --dir on a file system mounted noexec (as Debian's and Ubuntu's /run is) is refused before any
# download: nothing installed there could run. The default /run/bootrino gets a tmpfs of its own
# instead, which tests/vm/test_cloud_init.sh shows on a real Debian instance.
[[ $(id -u) == 0 ]] || fail "this case mounts a noexec tmpfs under $WORK: run the tests as root"
mkdir -p "$WORK/noexec"
mount -t tmpfs -o noexec,size=1m bootrino-test "$WORK/noexec"
MOUNTS+=("$WORK/noexec")
before=$(requests_for '"/rel/bootrino-x86_64"' | wc -l)
install 2 "${SHELLS[0]}" "$PATH_CURL" --install-only --base-url "$BASE" --dir "$WORK/noexec/bin"
expect_err "is on a file system mounted noexec"
expect_err "what to do: choose a directory that allows programs"
[[ $(settled_count '"/rel/bootrino-x86_64"' "$before") == "$before" ]] || fail "noexec --dir still downloaded"
ok "dash: a --dir mounted noexec is refused with what to do, before any download"


# The default /run/bootrino under a /run mounted noexec: install.sh mounts a 64 MiB tmpfs of its own
# there, and the binary runs from it; when that mount fails it says so, with what to do, and
# downloads nothing. Each case runs in a private mount namespace whose /run is a fresh noexec
# tmpfs: this machine's /run is never touched, and the mounts go with the namespace.
# under_noexec_run EXPECTED PATH ARGS...: like install, as root with the default directory; after a
# successful install, also runs the installed binary and reports the mount options it runs from.
under_noexec_run() {
  local expected=$1 path=$2 rc=0
  shift 2
  unshare --mount --propagation private bash -c '
    mount -t tmpfs -o noexec,size=1m bootrino-test-run /run || exit 90
    path=$1; shift
    env PATH="$path" BOOTRINO_RETRY_DELAY=0 BOOTRINO_TRIES=3 "$@" || exit
    /run/bootrino/bootrino --version && findmnt -no FSTYPE,OPTIONS /run/bootrino' \
    _ "$path" "${SHELLS[0]}" -s -- "$@" <"$INSTALL_SH" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [[ $rc == "$expected" ]] || { cat "$WORK/err"; fail "install.sh $* under a noexec /run exited $rc, expected $expected"; }
}
under_noexec_run 0 "$PATH_CURL" --install-only --base-url "$BASE"
expect_err "does not allow programs to run \(noexec\): mounted a 64 MiB tmpfs on /run/bootrino"
expect_err "installed /run/bootrino/bootrino \(verified: sha256 pinned by install.sh\)"
expect_out "^bootrino "
grep -E '^tmpfs .*nosuid,nodev.*size=65536k.*mode=755' "$WORK/out" | grep -v noexec >/dev/null ||
  fail "/run/bootrino is not a 64 MiB tmpfs, mode 0755, nosuid, nodev, that allows programs: $(tail -n1 "$WORK/out")"
ok "dash: under a noexec /run, the default directory gets its own tmpfs (0755, nosuid, nodev) and the binary runs from it"

PATH_NOMOUNT=$(tools bin-nomount curl openssl)
rm "$PATH_NOMOUNT/mount"
printf '#!/bin/sh\necho "mount: $4: permission denied." >&2\nexit 32\n' >"$PATH_NOMOUNT/mount"
chmod +x "$PATH_NOMOUNT/mount"
before=$(requests_for '"/rel/bootrino-x86_64"' | wc -l)
under_noexec_run 2 "$PATH_NOMOUNT" --install-only --base-url "$BASE"
expect_err "error: /run is mounted noexec and a tmpfs could not be mounted on /run/bootrino"
expect_err "what to do: choose a directory that allows programs with --dir DIR"
[[ $(settled_count '"/rel/bootrino-x86_64"' "$before") == "$before" ]] || fail "a failed tmpfs mount still downloaded"
ok "dash: when that tmpfs cannot be mounted, it stops before any download and says what to do"
