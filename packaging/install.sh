#!/bin/sh
# bootrino's installer: downloads the static bootrino binary for this machine's architecture, verifies it,
# keeps it in RAM (/run/bootrino/) and runs `bootrino run` with the arguments it does not know itself.
#   curl -fsSL BASE/install.sh | sh -s -- REF --yes          (cloud-init user-data, as root)
#   curl -fsSL BASE/install.sh | sudo sh -s -- REF --dry-run (an existing machine)
# POSIX sh: runs under dash, bash and busybox sh. Everything is in functions and main runs on the last line,
# so a download cut short runs nothing.
#
# Options (before, after or between bootrino's own; `--` ends them and passes the rest as they are):
#   --base-url URL   where bootrino-<arch> (and its .sha256, .sig) are; env BOOTRINO_BASE_URL
#   --sha256 HEX     the SHA-256 the binary must have, instead of the one this install.sh pins (e.g. another
#                    release's binary); env BOOTRINO_SHA256
#   --key FILE       also require bootrino-<arch>.sig, an ECDSA P-256 / SHA-256 signature of the binary by this
#                    PEM public key, checked with openssl; env BOOTRINO_KEY (a file, or the PEM text itself)
#   --trust-server   when nothing pins the binary (the repository's install.sh, no --sha256 or --key): accept
#                    the bootrino-<arch>.sha256 the server publishes. It catches a damaged download, not an
#                    altered one. env BOOTRINO_TRUST_SERVER=1
#   --allow-http     a plain http base URL although nothing pins the binary; env BOOTRINO_ALLOW_HTTP=1
#   --dir DIR        install there instead of /run/bootrino (RAM on every systemd host); env BOOTRINO_DIR
#   --install-only   install and print the binary's path; do not run it (e.g. to bake it into an image)
#   --help           this text
# Environment for tests and slow networks: BOOTRINO_TRIES (default 4), BOOTRINO_RETRY_DELAY (seconds before
# the first retry, doubling; default 2).
#
# What authenticates the binary: packaging/release.sh (packaging/stamp_install.sh) writes the SHA-256 of the
# release's binaries into PINNED_SHA256_* below, so that this script, fetched over https, pins the binary it
# installs wherever that binary comes from; --sha256 replaces the pin, --key adds a signature. The
# repository's copy pins nothing and refuses to run unless given --sha256, --key or --trust-server.
# The transport: an https base is fetched over https only, redirects included (curl --proto =https
# --proto-redir =https; GNU wget with certificate checks, and any redirect off https refused); busybox's wget,
# which does not check TLS certificates, is never used for https; a plain http base needs a pinned binary,
# --key or --allow-http. Every download is capped (32 MiB for the binary, which is about 5 MB).
#
# DEFAULT_BASE_URL and PINNED_SHA256_* are rewritten by packaging/stamp_install.sh (from packaging/release.sh)
# to where that release's files are published and what they hash to. While DEFAULT_BASE_URL holds the
# placeholder below, a base URL must be given.

DEFAULT_BASE_URL="https://bootrino.invalid/unreleased"
PINNED_SHA256_X86_64=""
PINNED_SHA256_AARCH64=""
MAX_BINARY_BYTES=33554432  # 32 MiB: far above the ~5 MB binary, far below what would fill /run
MAX_SMALL_BYTES=4096       # a .sha256 or .sig

say() { printf 'bootrino-install: %s\n' "$*" >&2; }
# die MESSAGE WHAT-TO-DO [EXIT]: the problem, then what the user can do about it.
die() {
  printf 'bootrino-install: error: %s\n' "$1" >&2
  [ -n "${2:-}" ] && printf 'bootrino-install: what to do: %s\n' "$2" >&2
  exit "${3:-1}"
}

usage() {
  printf '%s\n' \
    "usage: install.sh [--base-url URL] [--sha256 HEX] [--key FILE] [--trust-server] [--allow-http] [--dir DIR]" \
    "                  [--install-only] [--] [BOOTRINO-RUN-ARGS...]" \
    "  curl -fsSL BASE/install.sh | sh -s -- REF --yes       download, verify, run \`bootrino run REF --yes\`" \
    "  curl -fsSL BASE/install.sh | sh -s -- REF --dry-run   the same, changing nothing" \
    "  --base-url URL   where bootrino-<arch> (.sha256, .sig) are (env BOOTRINO_BASE_URL)" \
    "  --sha256 HEX     the binary's SHA-256, instead of the one this install.sh pins (env BOOTRINO_SHA256)" \
    "  --key FILE       require bootrino-<arch>.sig signed by this PEM public key (env BOOTRINO_KEY: file or PEM)" \
    "  --trust-server   nothing pins the binary: accept the server's bootrino-<arch>.sha256 (catches damage," \
    "                   not tampering; env BOOTRINO_TRUST_SERVER=1)" \
    "  --allow-http     a plain http base URL although nothing pins the binary (env BOOTRINO_ALLOW_HTTP=1)" \
    "  --dir DIR        install into DIR instead of /run/bootrino (env BOOTRINO_DIR)" \
    "  --install-only   install, print the binary's path, and stop" >&2
}

# bootrino's name for this machine's architecture, from uname.
detect_arch() {
  os=$(uname -s) || die "cannot run uname to learn this machine's system" "check that uname is installed" 2
  [ "$os" = Linux ] || die "bootrino takes over Linux machines; this one runs $os" \
    "run it on the Linux machine you want to boot into a RAM OS" 2
  machine=$(uname -m) || die "cannot run uname to learn this machine's architecture" "check that uname is installed" 2
  case $machine in
    x86_64 | amd64) ARCH=x86_64 ;;
    aarch64 | arm64 | armv8*) ARCH=aarch64 ;;
    *) die "bootrino is built for x86_64 and aarch64; this machine is $machine" \
         "use an x86_64 or aarch64 (arm64) machine; there is no bootrino for $machine" 2 ;;
  esac
}

# Picks curl, else GNU wget, else another wget (busybox's) into DOWNLOADER: one that checks TLS
# certificates for an https base.
pick_downloader() {
  if command -v curl >/dev/null 2>&1; then
    DOWNLOADER=curl
  elif command -v wget >/dev/null 2>&1; then
    DOWNLOADER=wget
    # GNU wget checks certificates (and retries 20 times by itself). busybox wget has no --tries and no
    # --version, and checks certificates only when it hands TLS to an openssl binary; its own TLS code says
    # "TLS certificate validation not implemented". Which one it would use cannot be told from here.
    if wget --version 2>/dev/null | grep -q 'GNU Wget'; then DOWNLOADER=gnu-wget; fi
    if [ "$DOWNLOADER" = wget ] && [ "$SCHEME" = https ]; then
      die "this machine's wget is not GNU Wget (busybox's wget may not check TLS certificates), so it cannot \
be trusted with $BASE_URL" "install curl (apt-get install curl, dnf install curl, apk add curl) or GNU wget and \
run this again" 2
    fi
  else
    die "neither curl nor wget is installed" \
      "install one (apt-get install curl, dnf install curl, apk add curl) and run this again" 2
  fi
}

# check_redirects URL: dies when the headers of the last try ($WORK_HDR) redirected an https URL anywhere but
# https (or an http one anywhere but http or https). curl refuses to follow such a redirect itself; GNU wget
# follows it, so what it fetched is thrown away here, unused.
check_redirects() {
  tr -d '\r' <"$WORK_HDR" | sed -n 's/^[[:space:]]*[Ll][Oo][Cc][Aa][Tt][Ii][Oo][Nn]:[[:space:]]*//p' >"$WORK_LOC"
  while read -r location; do
    case $location in *://*) ;; *) continue ;; esac  # relative: the same scheme
    scheme=$(printf '%s\n' "${location%%://*}" | tr 'A-Z' 'a-z')
    case $scheme in "" | *[!a-z0-9+.-]*) continue ;; esac  # a "://" in the path or query of a relative one
    case $SCHEME:$scheme in
      https:https | http:http | http:https) ;;
      https:*)
        die "$1 was redirected to $scheme ($location): refused, an https download is never followed to \
anything else" "the server at $BASE_URL should not send https downloads to plain http; ask its publisher, or \
give an https --base-url that serves the files directly" 3 ;;
      *) die "$1 was redirected to $scheme ($location): refused" \
           "give a --base-url that serves the files over https or http" 3 ;;
    esac
  done <"$WORK_LOC"
}

# download_once URL OUT MAX: one try, at most MAX bytes (MAX + 1 are read, to tell). Exit 0 done, 1 worth
# retrying, 2 not (the server said 4xx: it is not there). The server's or the tool's words are left in
# $WORK_ERR. The body goes through head -c, so that no server, even one that sends without end and without a
# Content-Length, can fill this machine's RAM.
download_once() {
  : >"$WORK_HDR"; : >"$WORK_ERR"; echo 1 >"$WORK_RC"
  case $DOWNLOADER in
    curl)
      { curl -sS -L --proto "$CURL_PROTO" --proto-redir "$CURL_PROTO" --max-filesize "$3" --connect-timeout 20 \
          --speed-limit 1024 --speed-time 30 -D "$WORK_HDR" -o - "$1" 2>"$WORK_ERR"
        echo $? >"$WORK_RC"; } | head -c $(($3 + 1)) >"$2" ;;
    gnu-wget)
      # --check-certificate: whatever a wgetrc says. -nv (not -q): its errors, certificate ones included.
      { wget -nv -S --tries=1 -T 30 --check-certificate -O - "$1" 2>"$WORK_HDR"; echo $? >"$WORK_RC"; } |
        head -c $(($3 + 1)) >"$2" ;;
    # No -T for busybox wget: Debian 12's busybox-static 1.35 crashes with it (its default is 900 s).
    wget) { wget -q -S -O - "$1" 2>"$WORK_HDR"; echo $? >"$WORK_RC"; } | head -c $(($3 + 1)) >"$2" ;;
  esac
  read -r rc <"$WORK_RC" || rc=1
  check_redirects "$1"
  size=$(wc -c <"$2" | tr -d ' ')
  # curl's 63: the Content-Length said more than --max-filesize.
  if [ "$size" -gt "$3" ] || { [ "$DOWNLOADER" = curl ] && [ "$rc" = 63 ]; }; then
    rm -f "$2"
    if [ "$3" -ge 1048576 ]; then cap="$(($3 / 1048576)) MiB"; else cap="$(($3 / 1024)) KiB"; fi
    die "$1 is larger than $cap, more than a bootrino release file can be: refused" \
      "check the base URL ($BASE_URL): it should serve the files packaging/release.sh writes" 3
  fi
  # The last status line (the answer after any redirects) tells a missing file from a passing failure.
  status=$(tr -d '\r' <"$WORK_HDR" | sed -n 's|^[[:space:]]*HTTP/[0-9.]* \([0-9][0-9][0-9]\).*|\1|p' | sed -n '$p')
  if [ "$rc" = 0 ]; then
    case $status in "" | 2??) return 0 ;; esac
  elif [ "$DOWNLOADER" != curl ]; then
    # wget's own words are the last line of what it printed.
    last=$(grep -v '^[[:space:]]' "$WORK_HDR" | sed -n '$p'); echo "$last" >"$WORK_ERR"
  fi
  case $status in
    "" | 2??) return 1 ;;
    408 | 429) echo "HTTP $status" >"$WORK_ERR"; return 1 ;;
    4??) echo "HTTP $status" >"$WORK_ERR"; return 2 ;;
    *) echo "HTTP $status" >"$WORK_ERR"; return 1 ;;
  esac
}

# download URL OUT MAX: with retries and a doubling delay; dies with what the last try saw.
download() {
  try=1 delay=$RETRY_DELAY
  while :; do
    rm -f "$2"
    rc=0; download_once "$1" "$2" "$3" || rc=$?
    [ "$rc" = 0 ] && return 0
    why=$(tr '\n' ' ' <"$WORK_ERR" | sed 's/  */ /g; s/ $//')
    if [ "$rc" = 2 ]; then
      rm -f "$2"
      die "$1: ${why:-not found}" \
        "check the base URL ($BASE_URL) and that this release has a bootrino-$ARCH; set it with --base-url URL"
    fi
    if [ "$try" -ge "$TRIES" ]; then
      rm -f "$2"
      die "$1: ${why:-download failed} (after $TRIES tries)" \
        "check this machine's network and that $BASE_URL answers, then run this again"
    fi
    say "$1: ${why:-download failed}; trying again in ${delay}s ($try of $TRIES)"
    sleep "$delay"
    try=$((try + 1)) delay=$((delay * 2))
  done
}

# sha256_of FILE: the hex SHA-256 of FILE, with whatever this machine has.
sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1"
  elif command -v busybox >/dev/null 2>&1 && busybox sha256sum </dev/null >/dev/null 2>&1; then busybox sha256sum "$1"
  elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1"
  elif command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r "$1"
  else
    die "no SHA-256 tool (sha256sum, busybox, shasum or openssl) to verify the download with" \
      "install coreutils or openssl and run this again" 2
  fi | { read -r sum _ && echo "$sum"; }
}

# is_sha256 TEXT: 64 hex digits.
is_sha256() {
  case $1 in *[!0-9a-fA-F]* | "") return 1 ;; esac
  [ ${#1} = 64 ]
}

# sha256_from_server FILE: the hash in a downloaded bootrino-<arch>.sha256, into EXPECTED.
sha256_from_server() {
  read -r EXPECTED _ <"$1" || EXPECTED=""
  is_sha256 "$EXPECTED" || die "$BASE_URL/bootrino-$ARCH.sha256 does not hold a SHA-256" \
    "check the base URL: it should serve the files packaging/release.sh writes" 3
}

# verify_sha256 FILE: FILE's SHA-256 is EXPECTED (which came from $EXPECTED_ORIGIN).
verify_sha256() {
  actual=$(sha256_of "$1")
  [ -n "$actual" ] || die "could not compute the SHA-256 of $1" "check that $DIR is writable and not full"
  EXPECTED=$(echo "$EXPECTED" | tr 'A-F' 'a-f')
  [ "$actual" = "$EXPECTED" ] && return 0
  case $EXPECTED_ORIGIN in
    install.sh) hint="do not use this download: it was altered or damaged on the way, or $BASE_URL holds \
another release than the one this install.sh was published with. Use the install.sh published next to the \
binaries, or pass --sha256 with the hash their publisher gives" ;;
    --sha256) hint="check the hash given with --sha256 against what the publisher of $BASE_URL gives; if it is \
right, do not use this download: it was altered or damaged on the way" ;;
    *) hint="do not use this download: it was damaged or altered on the way. Try again; if it persists, tell the \
publisher of $BASE_URL" ;;
  esac
  die "bootrino-$ARCH from $BASE_URL does not match the SHA-256 $EXPECTED_WHAT (expected $EXPECTED, got \
$actual); it was not installed" "$hint" 3
}

# verify_signature BINARY SIG KEYFILE: openssl dgst, exactly as bootrino checks manifest signatures.
verify_signature() {
  out=$(openssl dgst -sha256 -verify "$3" -signature "$2" "$1" 2>&1) && return 0
  die "the signature bootrino-$ARCH.sig does not verify bootrino-$ARCH with the key $KEY_ORIGIN ($out); \
it was not installed" \
    "do not use this download. Check that --key is the publisher's key for $BASE_URL" 3
}

# choose_verification: what the binary is checked against (EXPECTED, EXPECTED_WHAT, EXPECTED_ORIGIN; an
# empty EXPECTED: the server's .sha256) and how it may travel (SCHEME, CURL_PROTO). Dies, before anything is
# downloaded, when nothing would authenticate it.
choose_verification() {
  EXPECTED="" EXPECTED_WHAT="" EXPECTED_ORIGIN=""
  case $ARCH in x86_64) pinned=$PINNED_SHA256_X86_64 ;; *) pinned=$PINNED_SHA256_AARCH64 ;; esac
  if [ -n "$SHA256" ]; then
    is_sha256 "$SHA256" || die "--sha256 (or BOOTRINO_SHA256) is not a SHA-256: $SHA256" \
      "give the 64 hex digits of the binary's SHA-256 (the first word of bootrino-$ARCH.sha256)" 2
    EXPECTED=$SHA256 EXPECTED_WHAT="given by --sha256" EXPECTED_ORIGIN=--sha256
  elif [ -n "$pinned" ]; then
    is_sha256 "$pinned" || die "this install.sh's PINNED_SHA256 for $ARCH is not a SHA-256: $pinned" \
      "get install.sh again from where its release is published" 1
    EXPECTED=$pinned EXPECTED_WHAT="pinned by install.sh" EXPECTED_ORIGIN=install.sh
  elif [ -n "$KEY" ] || [ "$TRUST_SERVER" = 1 ]; then
    EXPECTED_WHAT="in the server's bootrino-$ARCH.sha256"
  else
    why="it was not published by packaging/release.sh"
    [ -z "$PINNED_SHA256_X86_64$PINNED_SHA256_AARCH64" ] || why="its release has no bootrino-$ARCH"
    die "this install.sh pins no SHA-256 for bootrino-$ARCH ($why), so nothing would prove the download is \
the publisher's" "use the install.sh published with the release (over \
https), or pass --sha256 HEX (the hash from a source you trust) or --key PUB.pem (the publisher's signing key); \
--trust-server accepts the .sha256 next to the binary, which catches a damaged download but not an altered one" 2
  fi

  case $BASE_URL in
    https://*) SCHEME=https CURL_PROTO='=https' ;;
    http://*)
      SCHEME=http CURL_PROTO='=http,https'
      if [ -z "$EXPECTED" ] && [ -z "$KEY" ]; then
        [ "$ALLOW_HTTP" = 1 ] || die "the base URL $BASE_URL is plain http and nothing pins the binary: anyone \
on the way could replace it and its .sha256" "use an https base URL; or pin the binary with --sha256 HEX or \
--key PUB.pem; or, if you accept an unauthenticated download, pass --allow-http" 2
        say "warning: $BASE_URL is plain http and the binary is not pinned (--allow-http): it is checked against \
a .sha256 from the same server, which proves nothing against someone on the way"
      fi ;;
    *) die "the base URL must be an https:// (or http://) URL: $BASE_URL" \
         "give --base-url https://HOST/PATH, the directory holding bootrino-$ARCH" 2 ;;
  esac
}

cleanup() { [ -n "${PARTS:-}" ] && rm -rf "$PARTS"; }

# noexec DIR: whether DIR is on a file system mounted noexec, where nothing can run (Debian's and
# Ubuntu's initramfs mounts /run so). /proc/mounts: the options of the last, longest mount point
# DIR is under.
noexec() {
  [ -r /proc/mounts ] || return 1
  awk -v dir="$1/" '
    { mp = $2; gsub(/\\040/, " ", mp); if (mp != "/") mp = mp "/" }
    index(dir, mp) == 1 && length(mp) >= best { best = length(mp); opts = $4 }
    END { exit !(("," opts ",") ~ /,noexec,/) }' /proc/mounts
}

main() {
  BASE_URL=${BOOTRINO_BASE_URL:-} KEY=${BOOTRINO_KEY:-} DIR=${BOOTRINO_DIR:-} INSTALL_ONLY=0
  SHA256=${BOOTRINO_SHA256:-} TRUST_SERVER=${BOOTRINO_TRUST_SERVER:-0} ALLOW_HTTP=${BOOTRINO_ALLOW_HTTP:-0}
  TRIES=${BOOTRINO_TRIES:-4} RETRY_DELAY=${BOOTRINO_RETRY_DELAY:-2}
  # Take out our own options wherever they are; keep the rest, in order, for `bootrino run`.
  n=$# passthru=0
  while [ "$n" -gt 0 ]; do
    arg=$1; shift; n=$((n - 1))
    if [ "$passthru" = 1 ]; then set -- "$@" "$arg"; continue; fi
    case $arg in
      --base-url | --key | --dir | --sha256)
        [ "$n" -gt 0 ] || die "$arg needs a value" "see install.sh --help" 2
        val=$1; shift; n=$((n - 1))
        case $arg in
          --base-url) BASE_URL=$val ;; --key) KEY=$val ;; --dir) DIR=$val ;; --sha256) SHA256=$val ;;
        esac ;;
      --base-url=*) BASE_URL=${arg#*=} ;;
      --key=*) KEY=${arg#*=} ;;
      --dir=*) DIR=${arg#*=} ;;
      --sha256=*) SHA256=${arg#*=} ;;
      --trust-server) TRUST_SERVER=1 ;;
      --allow-http) ALLOW_HTTP=1 ;;
      --install-only) INSTALL_ONLY=1 ;;
      --help | -h) usage; exit 0 ;;
      --) passthru=1 ;;
      *) set -- "$@" "$arg" ;;
    esac
  done
  case $TRIES$RETRY_DELAY in *[!0-9]*) die "BOOTRINO_TRIES and BOOTRINO_RETRY_DELAY must be whole numbers" \
                                             "unset them or set them to numbers" 2 ;; esac
  [ "$TRIES" -ge 1 ] || TRIES=1
  if [ "$INSTALL_ONLY" = 0 ] && [ $# = 0 ]; then
    usage
    die "no arguments for bootrino run" "give a manifest reference, e.g. ... | sh -s -- REF --dry-run" 2
  fi

  detect_arch
  if [ -z "$BASE_URL" ]; then
    BASE_URL=$DEFAULT_BASE_URL
    case $BASE_URL in *bootrino.invalid*)
      die "this install.sh does not know where bootrino's release files are (it was not made by \
packaging/release.sh)" "pass --base-url URL (or set BOOTRINO_BASE_URL) to the directory holding bootrino-$ARCH" 2 ;;
    esac
  fi
  BASE_URL=${BASE_URL%/}
  choose_verification

  OWN_DIR=0
  if [ -z "$DIR" ]; then
    DIR=/run/bootrino OWN_DIR=1
    if [ "$(id -u)" != 0 ]; then
      if [ "$INSTALL_ONLY" = 1 ]; then
        hint="re-run it as root: curl -fsSL URL/install.sh | sudo sh -s -- --install-only, or pick a directory you \
can write with --dir DIR"
      else
        hint="bootrino replaces this machine's operating system, which only root may do; re-run it with sudo: \
curl -fsSL URL/install.sh | sudo sh -s -- $*"
      fi
      command -v sudo >/dev/null 2>&1 || hint="$hint (this machine has no sudo: log in as root, or use su -c)"
      die "not running as root (uid $(id -u)), so $DIR cannot be written" "$hint" 2
    fi
  fi

  if [ -n "$KEY" ]; then
    command -v openssl >/dev/null 2>&1 || die "a signing key is configured but openssl is not installed to check \
the signature with" "install openssl (apt-get install openssl, apk add openssl) and run this again; the binary \
is never installed unverified" 2
  fi
  pick_downloader

  mkdir -p "$DIR" || die "cannot create $DIR" "choose another directory with --dir DIR" 2
  DIR=$(cd "$DIR" && pwd) || die "cannot enter $DIR" "choose another directory with --dir DIR" 2
  if noexec "$DIR"; then
    [ "$OWN_DIR" = 1 ] || die "$DIR is on a file system mounted noexec: a program installed there cannot run" \
      "choose a directory that allows programs with --dir DIR (in RAM: mount -t tmpfs tmpfs DIR first)" 2
    # Still RAM, and nothing else is mounted there: a small tmpfs of its own that allows programs.
    mount -t tmpfs -o mode=0755,nosuid,nodev,size=64m bootrino "$DIR" ||
      die "$(dirname "$DIR") is mounted noexec and a tmpfs could not be mounted on $DIR" \
        "choose a directory that allows programs with --dir DIR" 2
    say "$(dirname "$DIR") does not allow programs to run (noexec): mounted a 64 MiB tmpfs on $DIR"
  fi
  PARTS=$DIR/.install.$$  # the downloads, until verified: never run from here
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  rm -rf "$PARTS"
  mkdir -m 700 "$PARTS" || die "cannot write in $DIR" "choose another directory with --dir DIR" 2
  WORK_ERR=$PARTS/err WORK_HDR=$PARTS/headers WORK_LOC=$PARTS/locations WORK_RC=$PARTS/rc

  if [ -n "$KEY" ]; then
    case $KEY in
      -----BEGIN*) printf '%s\n' "$KEY" >"$PARTS/key.pem"; KEY_FILE=$PARTS/key.pem KEY_ORIGIN=BOOTRINO_KEY ;;
      *) [ -r "$KEY" ] || die "cannot read the key file $KEY" \
           "give --key (or BOOTRINO_KEY) a readable PEM public key file, or the PEM text itself" 2
         KEY_FILE=$KEY KEY_ORIGIN=$KEY ;;
    esac
  fi

  say "downloading bootrino-$ARCH from $BASE_URL ($DOWNLOADER)"
  if [ -z "$EXPECTED" ]; then
    download "$BASE_URL/bootrino-$ARCH.sha256" "$PARTS/sha256" "$MAX_SMALL_BYTES"
    sha256_from_server "$PARTS/sha256"
  fi
  download "$BASE_URL/bootrino-$ARCH" "$PARTS/bootrino" "$MAX_BINARY_BYTES"
  verify_sha256 "$PARTS/bootrino"
  verified="sha256 $EXPECTED_WHAT"
  if [ -n "$KEY" ]; then
    download "$BASE_URL/bootrino-$ARCH.sig" "$PARTS/sig" "$MAX_SMALL_BYTES"
    verify_signature "$PARTS/bootrino" "$PARTS/sig" "$KEY_FILE"
    verified="$verified and signature by $KEY_ORIGIN"
  fi
  { chmod 755 "$PARTS/bootrino" && mv -f "$PARTS/bootrino" "$DIR/bootrino"; } ||
    die "cannot install into $DIR/bootrino" "choose another directory with --dir DIR" 2
  say "installed $DIR/bootrino (verified: $verified)"

  if [ "$INSTALL_ONLY" = 1 ]; then
    echo "$DIR/bootrino"
    exit 0
  fi
  cleanup; trap - EXIT INT TERM
  # Standard input is this script when piped to sh: bootrino gets nothing from it.
  exec "$DIR/bootrino" run "$@" </dev/null
}

main "$@"
