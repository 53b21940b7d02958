#!/usr/bin/env bash
# packaging/install.sh, piped to dash and to busybox sh as `curl … | sh -s --` does, against a loopback
# server holding the real static binary and its .sha256: it installs and runs `bootrino run REF --dry-run`,
# and refuses a wrong hash, a missing binary, an unsupported machine, a bad signature, a missing tool
# or a missing root, each with what to do next. It never runs bootrino without --dry-run.
# Debian's busybox-static runs its own applets before anything on PATH (uname, id, wget, sha256sum), so
# the cases that fake those through PATH run under dash only; busybox gets the real equivalents
# (setarch for the machine, setpriv for the user) and its own wget.
source "$(dirname "$0")/lib.sh"
INSTALL_SH="$BOOTRINO_SOURCE/packaging/install.sh"
command -v dash >/dev/null || fail "dash is not installed (tests/run.sh installs it)"
command -v busybox >/dev/null || fail "busybox is not installed (tests/run.sh installs busybox-static)"
command -v wget >/dev/null || fail "wget is not installed (tests/run.sh installs it)"

start_fault_server
make_payload vmlinuz 100000
make_manifest "$WWW/bootrino.sh" kernel:vmlinuz
ref=$(pinned bootrino.sh)
cp "$INSTALL_SH" "$WWW/install.sh"
# A release directory as packaging/release.sh writes it; the aarch64 name holds the same binary so that
# the architecture mapping can be checked on this machine (it is only installed, never run).
mkdir -p "$WWW/rel"
for arch in x86_64 aarch64; do
  cp "$BOOTRINO" "$WWW/rel/bootrino-$arch"
  (cd "$WWW/rel" && sha256sum "bootrino-$arch" >"bootrino-$arch.sha256")
done
BASE="$FS_URL/rel"

# tools DIR CMD...: DIR holds only these commands (links to the real ones), for a PATH without the rest.
tools() {
  local dir=$WORK/$1 cmd
  shift
  mkdir -p "$dir"
  for cmd in uname id mkdir chmod mv rm tr sed grep sleep sha256sum awk mount dirname "$@"; do
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
# environment may add BOOTRINO_* variables. Output in $WORK/out, $WORK/err.
install() {
  local expected=$1 shell=$2 path=$3 rc=0 sh
  shift 3
  read -ra sh <<<"$shell"
  env PATH="$path" BOOTRINO_RETRY_DELAY=0 BOOTRINO_TRIES=3 "${sh[@]}" -s -- "$@" <"$INSTALL_SH" \
    >"$WORK/out" 2>"$WORK/err" || rc=$?
  [[ $rc == "$expected" ]] || fail "$shell install.sh $* exited $rc, expected $expected"
}

SHELLS=("$(command -v dash)" "$(command -v busybox) sh")  # absolute: PATH is cut down below
for shell in "${SHELLS[@]}"; do
  read -ra SH <<<"$shell"
  tag=${SH[0]##*/}
  dir="$WORK/inst-$tag"

  # The README's one-liner, literally: curl | sh -s -- REF, with a dry run instead of --yes.
  rc=0
  curl -fsSL "$FS_URL/install.sh" |
    env PATH="$PATH_CURL" "${SH[@]}" -s -- "$ref" --dry-run --base-url "$BASE" --dir "$dir" >"$WORK/out" 2>"$WORK/err" ||
    rc=$?
  [[ $rc == "$DRY_RUN_RC" ]] || fail "$shell: curl | sh -s -- REF --dry-run exited $rc, expected $DRY_RUN_RC"
  cmp "$BOOTRINO" "$dir/bootrino" || fail "$shell: the installed binary differs from the served one"
  [[ -x $dir/bootrino ]] || fail "$shell: the installed binary is not executable"
  expect_err "installed $dir/bootrino \(verified: sha256\)"
  expect_out "kernel +vmlinuz .*verified"
  expect_out "nothing was changed"
  [[ -z $(find "$dir" -mindepth 1 -name '.install.*') ]] || fail "$shell: downloads left behind in $dir"
  ok "$tag: curl | sh -s -- REF --dry-run installs the verified binary and runs it (exit $DRY_RUN_RC)"

  # Options from the environment, each download answered 503 once: retried, then fine. (The server counts
  # per URL, so each shell gets its own.)
  rm -rf "$dir"
  ln -s rel "$WWW/rel-$tag"
  BOOTRINO_BASE_URL="$FS_URL/_f/status=503x1/rel-$tag/" BOOTRINO_DIR="$dir" \
    install "$DRY_RUN_RC" "$shell" "$PATH_CURL" "$ref" --dry-run
  expect_err "HTTP 503; trying again in 0s \(1 of 3\)"
  expect_out "nothing was changed"
  ok "$tag: BOOTRINO_BASE_URL / BOOTRINO_DIR, a 503 is retried"

  # No curl: wget (GNU wget under dash, busybox's own under busybox sh).
  rm -rf "$dir"
  install 0 "$shell" "$PATH_WGET" --install-only --base-url "$BASE" --dir "$dir"
  [[ $(cat "$WORK/out") == "$dir/bootrino" ]] || fail "$shell: --install-only did not print the path"
  cmp "$BOOTRINO" "$dir/bootrino" || fail "$shell: the binary fetched with wget differs"
  if [[ $tag == dash ]]; then expect_err "\(gnu-wget\)"; else expect_err "\(wget\)"; fi
  ok "$tag: without curl, wget downloads it; --install-only stops there"

  # A .sha256 that does not match: refused, nothing installed.
  rm -rf "$dir"
  mkdir -p "$WWW/bad"
  cp "$BOOTRINO" "$WWW/bad/bootrino-x86_64"
  echo "$(printf '%064d' 0)  bootrino-x86_64" >"$WWW/bad/bootrino-x86_64.sha256"
  install 3 "$shell" "$PATH_CURL" "$ref" --dry-run --base-url "$FS_URL/bad" --dir "$dir"
  expect_err "bootrino-x86_64 from $FS_URL/bad does not match its .sha256 \(expected 0{64}, got [0-9a-f]{64}\)"
  expect_err "what to do: do not use this download"
  [[ ! -e $dir/bootrino ]] || fail "$shell: a binary with the wrong hash was installed"
  [[ -z $(find "$dir" -mindepth 1) ]] || fail "$shell: a refused download was left in $dir"
  ok "$tag: a SHA-256 mismatch is refused (exit 3), nothing installed"

  echo "not a hash" >"$WWW/bad/bootrino-x86_64.sha256"
  install 3 "$shell" "$PATH_CURL" "$ref" --dry-run --base-url "$FS_URL/bad" --dir "$dir"
  expect_err "bootrino-x86_64.sha256 does not hold a SHA-256"
  ok "$tag: a .sha256 without a hash is refused"

  # No binary at the base URL: a 404 is not retried.
  before=$(requests_for '"/nothing/bootrino-x86_64.sha256"' | wc -l)
  install 1 "$shell" "$PATH_CURL" "$ref" --dry-run --base-url "$FS_URL/nothing" --dir "$dir"
  expect_err "$FS_URL/nothing/bootrino-x86_64.sha256: HTTP 404"
  expect_err "what to do: check the base URL"
  [[ $(settled_count '"/nothing/bootrino-x86_64.sha256"' $((before + 1))) == $((before + 1)) ]] ||
    fail "$shell: a 404 was retried"
  install 1 "$shell" "$PATH_WGET" "$ref" --dry-run --base-url "$FS_URL/nothing" --dir "$dir"
  expect_err "$FS_URL/nothing/bootrino-x86_64.sha256: HTTP 404"
  ok "$tag: a missing binary (404, curl and wget) fails at once with what to check"

  # Nothing answers at all: every try fails, then it gives up naming the tries.
  install 1 "$shell" "$PATH_CURL" "$ref" --dry-run --base-url "http://127.0.0.1:9/rel" --dir "$dir"
  expect_err "\(after 3 tries\)"
  expect_err "what to do: check this machine's network"
  ok "$tag: an unreachable server is tried 3 times, then refused"

  # A 32-bit personality: uname -m says i686 (real, not faked, so busybox's own uname sees it too).
  before=$(requests_for '"/rel/' | wc -l)
  rc=0
  setarch i686 env PATH="$PATH_CURL" "${SH[@]}" -s -- "$ref" --dry-run --base-url "$BASE" --dir "$dir" \
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
      --base-url "$BASE" <"$INSTALL_SH" >"$WORK/out" 2>"$WORK/err" || rc=$?
    [[ $rc == 2 ]] || fail "$shell: as nobody install.sh exited $rc, expected 2"
    expect_err "not running as root \(uid 65534\), so /run/bootrino cannot be written"
    expect_err "re-run it with sudo: curl -fsSL URL/install.sh \| sudo sh -s -- $ref --yes --dry-run"
    ok "$tag: not root: refused, and told to use sudo"
  fi

  # No base URL anywhere: the unreleased script says how to give one.
  install 2 "$shell" "$PATH_CURL" "$ref" --dry-run --dir "$dir"
  expect_err "does not know where bootrino's release files are"
  expect_err "pass --base-url URL"
  ok "$tag: an unreleased install.sh without --base-url is refused"
done

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
  expect_err "verified: sha256 and signature by key.pub.pem"
  expect_out "nothing was changed"
  ok "$tag: --key: the signature is checked with openssl"

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
expect_err "installed /run/bootrino/bootrino \(verified: sha256\)"
expect_out "^bootrino "
grep -E '^tmpfs .*size=65536k' "$WORK/out" | grep -v noexec >/dev/null ||
  fail "/run/bootrino is not a 64 MiB tmpfs that allows programs: $(tail -n1 "$WORK/out")"
ok "dash: under a noexec /run, the default directory gets its own tmpfs and the binary runs from it"

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
