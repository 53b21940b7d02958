#!/bin/sh
# bootrino's installer: downloads the static bootrino binary for this machine's architecture, verifies it,
# keeps it in RAM (/run/bootrino/) and runs `bootrino run` with the arguments it does not know itself.
#   curl -fsSL BASE/install.sh | sh -s -- REF --yes          (cloud-init user-data, as root)
#   curl -fsSL BASE/install.sh | sudo sh -s -- REF --dry-run (an existing machine)
# POSIX sh: runs under dash, bash and busybox sh. Everything is in functions and main runs on the last line,
# so a download cut short runs nothing.
#
# Options (before, after or between bootrino's own; `--` ends them and passes the rest as they are):
#   --base-url URL   where bootrino-<arch>, bootrino-<arch>.sha256 (and .sig) are; env BOOTRINO_BASE_URL
#   --key FILE       also require bootrino-<arch>.sig, an ECDSA P-256 / SHA-256 signature of the binary by this
#                    PEM public key, checked with openssl; env BOOTRINO_KEY (a file, or the PEM text itself)
#   --dir DIR        install there instead of /run/bootrino (RAM on every systemd host); env BOOTRINO_DIR
#   --install-only   install and print the binary's path; do not run it (e.g. to bake it into an image)
#   --help           this text
# Environment for tests and slow networks: BOOTRINO_TRIES (default 4), BOOTRINO_RETRY_DELAY (seconds before
# the first retry, doubling; default 2).
#
# DEFAULT_BASE_URL is rewritten by packaging/release.sh to where that release's files are published. When it
# still holds the placeholder below, a base URL must be given.

DEFAULT_BASE_URL="https://bootrino.invalid/unreleased"

say() { printf 'bootrino-install: %s\n' "$*" >&2; }
# die MESSAGE WHAT-TO-DO [EXIT]: the problem, then what the user can do about it.
die() {
  printf 'bootrino-install: error: %s\n' "$1" >&2
  [ -n "${2:-}" ] && printf 'bootrino-install: what to do: %s\n' "$2" >&2
  exit "${3:-1}"
}

usage() {
  printf '%s\n' \
    "usage: install.sh [--base-url URL] [--key FILE] [--dir DIR] [--install-only] [--] [BOOTRINO-RUN-ARGS...]" \
    "  curl -fsSL BASE/install.sh | sh -s -- REF --yes       download, verify, run \`bootrino run REF --yes\`" \
    "  curl -fsSL BASE/install.sh | sh -s -- REF --dry-run   the same, changing nothing" \
    "  --base-url URL   where bootrino-<arch> and bootrino-<arch>.sha256 are (env BOOTRINO_BASE_URL)" \
    "  --key FILE       require bootrino-<arch>.sig signed by this PEM public key (env BOOTRINO_KEY: file or PEM)" \
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

# Picks curl or wget (GNU or busybox), whichever exists, into DOWNLOADER.
pick_downloader() {
  if command -v curl >/dev/null 2>&1; then
    DOWNLOADER=curl
  elif command -v wget >/dev/null 2>&1; then
    DOWNLOADER=wget
    # GNU wget retries 20 times by itself; busybox wget has no --tries (and no --version).
    if wget --version 2>/dev/null | grep -q 'GNU Wget'; then DOWNLOADER=gnu-wget; fi
  else
    die "neither curl nor wget is installed" \
      "install one (apt-get install curl, dnf install curl, apk add curl) and run this again" 2
  fi
}

# download_once URL OUT: one try. Exit 0 done, 1 worth retrying, 2 not (the server said 4xx: it is not there).
# The server's or the tool's words are left in $WORK_ERR.
download_once() {
  case $DOWNLOADER in
    curl)
      code=$(curl -sS -L --proto '=http,https' --connect-timeout 20 --speed-limit 1024 --speed-time 30 \
               -w '%{http_code}' -o "$2" "$1" 2>"$WORK_ERR") || return 1
      case $code in
        2??) return 0 ;;
        408 | 429) echo "HTTP $code" >"$WORK_ERR"; return 1 ;;
        4??) echo "HTTP $code" >"$WORK_ERR"; return 2 ;;
        *) echo "HTTP $code" >"$WORK_ERR"; return 1 ;;
      esac ;;
    gnu-wget) wget -q -S --tries=1 -T 30 -O "$2" "$1" 2>"$WORK_ERR" && return 0 ;;
    # No -T for busybox wget: Debian 12's busybox-static 1.35 crashes with it (its default is 900 s).
    wget) wget -q -S -O "$2" "$1" 2>"$WORK_ERR" && return 0 ;;
  esac
  # wget: the last status line it printed (-S) tells a missing file from a passing failure.
  status=$(sed -n 's|.*HTTP/[0-9.]* \([0-9][0-9][0-9]\).*|\1|p' "$WORK_ERR" | sed -n '$p')
  case $status in
    "" | 2??) last=$(sed -n '$p' "$WORK_ERR"); echo "$last" >"$WORK_ERR"; return 1 ;;
    408 | 429) echo "HTTP $status" >"$WORK_ERR"; return 1 ;;
    4??) echo "HTTP $status" >"$WORK_ERR"; return 2 ;;
    *) echo "HTTP $status" >"$WORK_ERR"; return 1 ;;
  esac
}

# download URL OUT: with retries and a doubling delay; dies with what the last try saw.
download() {
  try=1 delay=$RETRY_DELAY
  while :; do
    rm -f "$2"
    rc=0; download_once "$1" "$2" || rc=$?
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

verify_sha256() {
  read -r expected _ <"$2" || expected=""
  case $expected in
    *[!0-9a-fA-F]* | "") die "$BASE_URL/bootrino-$ARCH.sha256 does not hold a SHA-256" \
                           "check the base URL: it should serve the files packaging/release.sh writes" 3 ;;
  esac
  [ ${#expected} = 64 ] || die "$BASE_URL/bootrino-$ARCH.sha256 does not hold a SHA-256 (${#expected} digits)" \
                           "check the base URL: it should serve the files packaging/release.sh writes" 3
  actual=$(sha256_of "$1")
  [ -n "$actual" ] || die "could not compute the SHA-256 of $1" "check that $DIR is writable and not full"
  expected=$(echo "$expected" | tr 'A-F' 'a-f')
  [ "$actual" = "$expected" ] || die "bootrino-$ARCH from $BASE_URL does not match its .sha256 \
(expected $expected, got $actual); it was not installed" \
    "do not use this download: it was damaged or altered on the way. Try again; if it persists, tell the \
publisher of $BASE_URL" 3
}

# verify_signature BINARY SIG KEYFILE: openssl dgst, exactly as bootrino checks manifest signatures.
verify_signature() {
  out=$(openssl dgst -sha256 -verify "$3" -signature "$2" "$1" 2>&1) && return 0
  die "the signature bootrino-$ARCH.sig does not verify bootrino-$ARCH with the key $KEY_ORIGIN ($out); \
it was not installed" \
    "do not use this download. Check that --key is the publisher's key for $BASE_URL" 3
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
  TRIES=${BOOTRINO_TRIES:-4} RETRY_DELAY=${BOOTRINO_RETRY_DELAY:-2}
  # Take out our own options wherever they are; keep the rest, in order, for `bootrino run`.
  n=$# passthru=0
  while [ "$n" -gt 0 ]; do
    arg=$1; shift; n=$((n - 1))
    if [ "$passthru" = 1 ]; then set -- "$@" "$arg"; continue; fi
    case $arg in
      --base-url | --key | --dir)
        [ "$n" -gt 0 ] || die "$arg needs a value" "see install.sh --help" 2
        val=$1; shift; n=$((n - 1))
        case $arg in --base-url) BASE_URL=$val ;; --key) KEY=$val ;; --dir) DIR=$val ;; esac ;;
      --base-url=*) BASE_URL=${arg#*=} ;;
      --key=*) KEY=${arg#*=} ;;
      --dir=*) DIR=${arg#*=} ;;
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
  WORK_ERR=$PARTS/err

  if [ -n "$KEY" ]; then
    case $KEY in
      -----BEGIN*) printf '%s\n' "$KEY" >"$PARTS/key.pem"; KEY_FILE=$PARTS/key.pem KEY_ORIGIN=BOOTRINO_KEY ;;
      *) [ -r "$KEY" ] || die "cannot read the key file $KEY" \
           "give --key (or BOOTRINO_KEY) a readable PEM public key file, or the PEM text itself" 2
         KEY_FILE=$KEY KEY_ORIGIN=$KEY ;;
    esac
  fi

  say "downloading bootrino-$ARCH from $BASE_URL ($DOWNLOADER)"
  download "$BASE_URL/bootrino-$ARCH.sha256" "$PARTS/sha256"
  download "$BASE_URL/bootrino-$ARCH" "$PARTS/bootrino"
  verify_sha256 "$PARTS/bootrino" "$PARTS/sha256"
  verified="sha256"
  if [ -n "$KEY" ]; then
    download "$BASE_URL/bootrino-$ARCH.sig" "$PARTS/sig"
    verify_signature "$PARTS/bootrino" "$PARTS/sig" "$KEY_FILE"
    verified="sha256 and signature by $KEY_ORIGIN"
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
