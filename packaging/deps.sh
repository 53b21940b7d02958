#!/usr/bin/env bash
# Builds bootrino's third-party libraries as static libraries from Debian source packages (with Debian's patches)
# into a cache outside the repo. The LAST line on stdout is the absolute install prefix (include/ + lib/);
# progress goes to stderr. A rerun with everything built prints only the prefix and takes well under a second.
#   packaging/deps.sh                 build what is missing, print the prefix
#   packaging/deps.sh --print-prefix  print the prefix without building (exit 1 if not built)
# Environment: BOOTRINO_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/bootrino); BOOTRINO_TARGET (default
# x86_64-linux-gnu): aarch64-linux-gnu cross-compiles with Debian's g++-aarch64-linux-gnu and
# packaging/aarch64-linux-gnu.cmake into a prefix of its own (packaging/release.sh uses it).
# Adding a library: one line in LIBS plus one build_<name> function (cwd = unpacked source, install into $STAGE).
# Static link against the prefix: -DCURL_STATICLIB -DCARES_STATICLIB -I$PREFIX/include ... -L$PREFIX/lib
#   -lcurl -lcares -lmbedtls -lmbedx509 -lmbedcrypto -lnettle -larchive -lzstd -llzma -lz -lfdisk -lblkid -luuid
#   -lext2fs -le2p -lcom_err -lyaml   (libarchive and libyaml need no define on Linux; keep -L$PREFIX/lib ahead
#   of system paths: uuid-dev ships its own libuuid.a)
set -euo pipefail

# Pinned Debian source versions, in build (= dependency) order: "name source-package version".
# zlib/nettle/mbedtls/curl/zstd/xz/libarchive/util-linux/e2fsprogs/libyaml come from trixie; c-ares from bookworm because the local mirror has no trixie
# c-ares files (switch to 1.34.x when it does: build_cares works with both). zstd is trixie's 1.5.7+dfsg-1 because
# the mirror's debian-security pool has no files for 1.5.7+dfsg-1+deb13u1 (switch when they download).
# Debian drops superseded versions from its pool, so a pin may stop downloading after a point release: the script
# then fails and lists what apt can see. util-linux gives libuuid, libblkid and libfdisk; e2fsprogs (built against
# those) gives libext2fs, libe2p and libcom_err. Nettle gives mbedTLS its AES-GCM (build_mbedtls), so it comes first.
LIBS=(
  "zlib       zlib       1:1.3.dfsg+really1.3.1-1"
  "nettle     nettle     3.10.1-1"
  "mbedtls    mbedtls    3.6.6-0.1~deb13u1"
  "cares      c-ares     1.18.1-3"
  "curl       curl       8.14.1-2+deb13u5"
  "zstd       libzstd    1.5.7+dfsg-1"
  "xz         xz-utils   5.8.1-1+deb13u1"
  "libarchive libarchive 3.7.4-4+deb13u1"
  "utillinux  util-linux 2.41.5-0+deb13u1"
  "e2fsprogs  e2fsprogs  1.47.2-3"
  "yaml       libyaml    0.2.5-2"
)

# Target toolchain in one place so a cross build (e.g. aarch64-linux-gnu) only changes TARGET.
TARGET=${BOOTRINO_TARGET:-x86_64-linux-gnu}
CC="${TARGET}-gcc"
CXX="${TARGET}-g++"
export CC CXX CFLAGS="-O2 -fPIC -ffunction-sections -fdata-sections" CXXFLAGS="-O2 -fPIC -ffunction-sections -fdata-sections"
JOBS="$(nproc)"
TOOLS=(build-essential cmake dpkg-dev autoconf automake libtool pkg-config file bzip2 xz-utils m4)

HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
CACHE="${BOOTRINO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrino}"
SRCDIR="$CACHE/sources"
exec 3>&1 1>&2  # everything but the final prefix line goes to stderr
SUDO=""; [[ $EUID -eq 0 ]] || SUDO=sudo

say() { echo "deps: $*"; }
die() { echo "deps: ERROR: $*"; exit 1; }

# A target other than this machine: CMake builds get the target's toolchain file, and the self-check
# program runs under user-mode QEMU.
TOOLCHAIN="" CMAKE_CROSS=() RUN=()
if [[ $TARGET != "$(uname -m)"-* ]]; then
  TOOLCHAIN="$HERE/$TARGET.cmake"
  [[ -f $TOOLCHAIN ]] || die "BOOTRINO_TARGET=$TARGET: there is no CMake toolchain file $TOOLCHAIN"
  TOOLS+=("gcc-$TARGET" "g++-$TARGET" "binutils-$TARGET" qemu-user-static)
  CMAKE_CROSS=(-DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN")
  RUN=("qemu-${TARGET%%-*}-static")
fi

# Cache key: the script and its helpers (so pins, flags and the GCM code built into mbedTLS are included),
# compiler, C library and target.
compute_prefix() {
  local key
  key=$( { cat "$HERE/deps.sh" "$HERE"/deps/* ${TOOLCHAIN:+"$TOOLCHAIN"}; "$CC" --version; getconf GNU_LIBC_VERSION; echo "$TARGET"; } \
         | sha256sum | cut -c1-16)
  PREFIX="$CACHE/deps/$key"
}

APT_UPDATED=0
apt_update() {
  ((APT_UPDATED)) && return 1  # already tried once this run: retrying cannot help
  say "apt-get update"
  $SUDO apt-get update -q -o DPkg::Lock::Timeout=600 >>"$LOG" 2>&1 || die "apt-get update failed (see $LOG)"
  APT_UPDATED=1
}

ensure_tools() {
  local pkg missing=() installed
  installed=" $(dpkg-query -W -f='${db:Status-Abbrev}${Package} ' "${TOOLS[@]}" 2>/dev/null || true) "
  for pkg in "${TOOLS[@]}"; do [[ $installed == *" ii $pkg "* ]] || missing+=("$pkg"); done
  ((${#missing[@]})) || return 0
  say "installing ${missing[*]}"
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}")
  $SUDO "${apt[@]}" >>"$LOG" 2>&1 || { apt_update && $SUDO "${apt[@]}" >>"$LOG" 2>&1; } \
    || die "could not install ${missing[*]} (see $LOG)"
}

# deb-src entries only (never binary trixie entries: those would upgrade the system), derived from the
# machine's own debian.sources so its mirror and keyring settings are kept.
add_src_entries() {
  local f=/etc/apt/sources.list.d/bootrino-src.sources base=/etc/apt/sources.list.d/debian.sources tmpl new
  tmpl=$(cat "$base" 2>/dev/null || printf '%s\n' "Types: deb" "URIs: http://deb.debian.org/debian" \
    "Suites: bookworm bookworm-updates" "Components: main" "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" \
    "" "Types: deb" "URIs: http://deb.debian.org/debian-security" "Suites: bookworm-security" "Components: main" \
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg")
  new=$(for suite in bookworm trixie; do
          sed -e 's/^Types:.*/Types: deb-src/' -e "/^Suites:/s/bookworm/$suite/g" <<<"$tmpl"; echo; done)
  [[ -f $f && "$(cat "$f")" == "$new" ]] && return 0
  say "adding deb-src entries (bookworm, trixie) in $f"
  printf '%s\n' "$new" | $SUDO tee "$f" >/dev/null
  APT_UPDATED=0; apt_update
}

# Checks every file a .dsc names against its SHA-256, as dpkg-source would, except that an absent upstream
# signature (*.asc) is allowed: the mirror lacks some (e2fsprogs_1.47.2.orig.tar.gz.asc) and nothing here checks
# them (apt already verified the .dsc itself through the signed Release file).
check_sources() {
  local dsc=$1 sum size name n=0
  [[ -f $dsc ]] || return 1
  while read -r sum size name; do
    n=$((n + 1))
    if [[ ! -f $SRCDIR/$name ]]; then
      [[ $name == *.asc ]] || { echo "check_sources: $name is missing"; return 1; }
    elif [[ $(sha256sum <"$SRCDIR/$name" | cut -d' ' -f1) != "$sum" ]]; then
      echo "check_sources: $name does not match the SHA-256 in $dsc"; return 1
    fi
  done < <(awk '/^Checksums-Sha256:/ {f = 1; next} /^[^ ]/ {f = 0} f && NF == 3' "$dsc")
  ((n > 0)) || { echo "check_sources: $dsc lists no files"; return 1; }
}

download() {  # apt-get source fails when any file 404s, an upstream signature included: check_sources decides
  local get=(flock "$SRCDIR/.lock" apt-get source -q --download-only "$1=$2")  # SRCDIR is shared by all keys
  (cd "$SRCDIR" && "${get[@]}") >>"$LOG" 2>&1 || check_sources "$SRCDIR/${1}_${2#*:}.dsc" >>"$LOG" 2>&1
}

# Downloads PKG=VERSION's .dsc, orig and debian tarballs into $SRCDIR once; later builds reuse them.
fetch() {
  local pkg=$1 ver=$2 ok="$SRCDIR/.ok_${1}_${2#*:}"
  [[ -f $ok ]] && return 0
  add_src_entries
  download "$pkg" "$ver" || { apt_update && download "$pkg" "$ver"; } \
    || die "pinned source $pkg=$ver cannot be downloaded (see $LOG). Versions apt knows: \
$(apt-cache showsrc "$pkg" 2>/dev/null | awk '/^Version:/{printf "%s ", $2}')- update the pin in LIBS in $HERE/deps.sh"
  touch "$ok"
}

cmake_install() {  # common CMake invocation: static, PIC, our CFLAGS (-O2), lib/ not lib/<triple>/
  cmake -S . -B _build -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE=-DNDEBUG -DCMAKE_C_COMPILER="$CC" \
    -DCMAKE_INSTALL_PREFIX="$STAGE" -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DBUILD_SHARED_LIBS=OFF "${CMAKE_CROSS[@]}" "$@"
  cmake --build _build -j"$JOBS"
  cmake --install _build
}

# ---- one function per library ----
build_zlib() {
  CHOST="$TARGET" ./configure --static --prefix="$STAGE"
  make -j"$JOBS" libz.a
  make install
}

build_nettle() {
  # libnettle only, for AES-GCM (build_mbedtls): no public-key half (libhogweed needs GMP), no documentation, no
  # OpenSSL glue (only its benchmark uses it). "Fat": AES-NI + PCLMULQDQ (x86_64) or ARMv8 AES + PMULL
  # (aarch64) chosen at run time, portable C on CPUs without them. Its assembly goes through m4.
  ./configure --prefix="$STAGE" --libdir="$STAGE/lib" --host="$TARGET" --build="$(gcc -dumpmachine)" \
    --disable-shared --enable-static --enable-fat --disable-public-key --disable-documentation --disable-openssl \
    --disable-gcov --disable-dependency-tracking
  grep -q '^OPT_NETTLE_SOURCES = fat-' Makefile \
    || die "nettle: configure did not make the fat build (run-time CPU dispatch) for $TARGET"
  make -j"$JOBS" libnettle.a
  make install-static install-headers
}

build_mbedtls() {
  # Default config plus thread safety, as Debian's own package does: PSA's global state (used by TLS and by
  # bootrino's signature checks) is only safe across threads with MBEDTLS_THREADING_C. And SHA-256 on
  # ARMv8 crypto extensions when the CPU has them (TLS hashes every record); mbedTLS ignores the option
  # when building for other architectures. Edited in the header itself so the installed
  # mbedtls_config.h matches the library.
  # MBEDTLS_GCM_ALT: AES-GCM on Nettle, or on AES-NI + PCLMULQDQ where the CPU has them (deps/gcm_alt.h and
  # gcm_x86.h say why), compiled into libmbedcrypto so TLS and PSA use it; link -lmbedcrypto before -lnettle.
  sed -i -e 's|^//#define MBEDTLS_THREADING_C$|#define MBEDTLS_THREADING_C|' \
         -e 's|^//#define MBEDTLS_THREADING_PTHREAD$|#define MBEDTLS_THREADING_PTHREAD|' \
         -e 's|^//#define MBEDTLS_SHA256_USE_ARMV8_A_CRYPTO_IF_PRESENT$|#define MBEDTLS_SHA256_USE_ARMV8_A_CRYPTO_IF_PRESENT|' \
         -e 's|^//#define MBEDTLS_GCM_ALT$|#define MBEDTLS_GCM_ALT|' \
         include/mbedtls/mbedtls_config.h
  [[ $(grep -c '^#define MBEDTLS_\(THREADING_C\|THREADING_PTHREAD\|SHA256_USE_ARMV8_A_CRYPTO_IF_PRESENT\|GCM_ALT\)$' \
       include/mbedtls/mbedtls_config.h) == 4 ]] \
    || die "could not enable threading, ARMv8 SHA-256 and GCM_ALT in mbedtls_config.h"
  cp "$HERE/deps/gcm_alt.h" "$HERE/deps/gcm_x86.h" include/mbedtls/  # installed with the headers (a glob)
  cp "$HERE/deps/gcm_alt.c" "$HERE/deps/gcm_x86.c" library/
  sed -i 's|^    gcm\.c$|    gcm.c\n    gcm_alt.c\n    gcm_x86.c|' library/CMakeLists.txt
  grep -q '^    gcm_x86\.c$' library/CMakeLists.txt || die "could not add gcm_alt.c and gcm_x86.c to mbedTLS's sources"
  CFLAGS="$CFLAGS -I$STAGE/include" cmake_install -DENABLE_PROGRAMS=OFF -DENABLE_TESTING=OFF -DGEN_FILES=OFF \
    -DMBEDTLS_FATAL_WARNINGS=OFF -DUSE_STATIC_MBEDTLS_LIBRARY=ON -DUSE_SHARED_MBEDTLS_LIBRARY=OFF
}

build_cares() {  # CMake: configures in seconds; its autotools configure takes ~3 min here
  cmake_install -DCARES_STATIC=ON -DCARES_SHARED=OFF -DCARES_STATIC_PIC=ON -DCARES_BUILD_TOOLS=OFF \
    -DCARES_BUILD_TESTS=OFF
}

build_curl() {
  autoreconf -fi  # Debian's patches touch configure.ac and Makefile.am (debian/rules does the same)
  # LIBS: libmbedcrypto's AES-GCM needs libnettle in configure's link tests.
  PKG_CONFIG_LIBDIR="$STAGE/lib/pkgconfig" PKG_CONFIG_PATH="" ./configure --prefix="$STAGE" \
    --host="$TARGET" --build="$(gcc -dumpmachine)" CPPFLAGS="-DCARES_STATICLIB" \
    LDFLAGS="-L$STAGE/lib" LIBS="-lnettle" \
    --disable-shared --enable-static --with-pic --disable-dependency-tracking --enable-unity \
    --with-mbedtls="$STAGE" --enable-ares="$STAGE" --with-zlib="$STAGE" \
    --enable-http --disable-ftp --disable-file --disable-ipfs --disable-ldap --disable-ldaps --disable-rtsp \
    --disable-dict --disable-telnet --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp \
    --disable-gopher --disable-mqtt --disable-websockets --disable-netrc --disable-manual --disable-docs \
    --disable-kerberos-auth --disable-negotiate-auth --without-libpsl --without-brotli --without-zstd \
    --without-nghttp2 --without-nghttp3 --without-ngtcp2 --without-libidn2 --without-libssh2 --without-libssh \
    --without-librtmp --without-libgsasl --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --without-ca-path \
    --without-ca-fallback
  make -C lib -j"$JOBS"  # the library only: bootrino does not need the curl tool
  make -C lib install
  make -C include install
  make install-pkgconfigDATA install-binSCRIPTS  # libcurl.pc, curl-config
}

build_zstd() {  # the library only, with upstream's Makefile; single-threaded static lib (its default)
  make -C lib -j"$JOBS" libzstd.a AR="${TARGET}-ar"
  make -C lib install-static install-includes install-pc PREFIX="$STAGE"
}

build_xz() {  # liblzma only, for xz and lzma kernels (arm64 Images, kexec/kernel_image.cc): no tools, scripts or docs
  ./configure --prefix="$STAGE" --libdir="$STAGE/lib" --host="$TARGET" --build="$(gcc -dumpmachine)" \
    --disable-shared --enable-static --with-pic --disable-dependency-tracking --disable-xz --disable-xzdec \
    --disable-lzmadec --disable-lzmainfo --disable-lzma-links --disable-scripts --disable-doc --disable-nls \
    --disable-microlzma --disable-lzip-decoder
  make -C src/liblzma -j"$JOBS"
  make -C src/liblzma install
}

build_libarchive() {
  # CMake (3.7 honours BUILD_SHARED_LIBS=OFF). zlib, zstd and liblzma from the prefix, named explicitly so the system's
  # -dev packages are never picked up; every other optional dependency off. No iconv: in a static binary glibc's
  # iconv dlopens its gconv modules. No ACL/xattr support, no bsdtar/bsdcpio/bsdcat/bsdunzip, no tests.
  # LIBMD_FOUND=OFF skips the libmd probe; POSIX_REGEX_LIB=NONE skips the regex probe (only the tools use regex).
  PKG_CONFIG_LIBDIR="$STAGE/lib/pkgconfig" PKG_CONFIG_PATH="" cmake_install \
    -DENABLE_ZLIB=ON -DZLIB_INCLUDE_DIR="$STAGE/include" -DZLIB_LIBRARY="$STAGE/lib/libz.a" \
    -DENABLE_ZSTD=ON -DZSTD_INCLUDE_DIR="$STAGE/include" -DZSTD_LIBRARY="$STAGE/lib/libzstd.a" \
    -DENABLE_OPENSSL=OFF -DENABLE_MBEDTLS=OFF -DENABLE_NETTLE=OFF -DENABLE_CNG=OFF -DENABLE_LIBB2=OFF \
    -DENABLE_LZMA=ON -DLIBLZMA_INCLUDE_DIR="$STAGE/include" -DLIBLZMA_LIBRARY="$STAGE/lib/liblzma.a" \
    -DENABLE_LZ4=OFF -DENABLE_LZO=OFF -DENABLE_BZip2=OFF -DENABLE_LIBXML2=OFF -DENABLE_EXPAT=OFF \
    -DENABLE_PCREPOSIX=OFF -DENABLE_PCRE2POSIX=OFF -DENABLE_LIBGCC=OFF -DENABLE_ACL=OFF -DENABLE_XATTR=OFF \
    -DENABLE_ICONV=OFF -DENABLE_TAR=OFF -DENABLE_CPIO=OFF -DENABLE_CAT=OFF -DENABLE_UNZIP=OFF -DENABLE_TEST=OFF \
    -DBUILD_TESTING=OFF -DLIBMD_FOUND=OFF -DPOSIX_REGEX_LIB=NONE
  # What the configure step decided, checked: zlib, zstd and liblzma in, everything else out.
  local m unwanted="HAVE_ICONV|HAVE_LIBCRYPTO|HAVE_LIBMBEDCRYPTO|HAVE_LIBNETTLE|HAVE_BZLIB_H|HAVE_LZ4_H"
  unwanted+="|HAVE_LZO_LZOCONF_H|HAVE_BLAKE2_H|HAVE_LIBXML_XMLREADER_H|HAVE_EXPAT_H|ARCHIVE_(ACL|XATTR|CRYPTO)_[A-Z0-9_]+"
  for m in HAVE_LIBZ HAVE_ZLIB_H HAVE_LIBZSTD HAVE_ZSTD_H HAVE_ZSTD_compressStream HAVE_LIBLZMA HAVE_LZMA_H; do
    grep -q "^#define $m 1" _build/config.h || die "libarchive: $m is not set in its config.h"
  done
  ! grep -E "^#define ($unwanted) " _build/config.h || die "libarchive: the optional dependencies above are enabled"
}

build_utillinux() {
  # libuuid, libblkid and libfdisk only, static; every optional dependency off. Debian's patches touch only
  # lsfd's and the tests' Makemodule.am (programs not built here): give them the tarball's Makefile.in time so
  # make does not want to rerun automake, and fail if a future patch touches anything else the build reads.
  touch -r Makefile.in lsfd-cmd/Makemodule.am tests/Makemodule.am
  [[ -z $(find . \( -name '*.am' -o -name configure.ac -o -name '*.m4' \) -newer Makefile.in) ]] \
    || die "util-linux: a patch touches build files other than lsfd's and the tests' Makemodule.am"
  ./configure --prefix="$STAGE" --host="$TARGET" --build="$(gcc -dumpmachine)" \
    --disable-shared --enable-static --with-pic --disable-dependency-tracking \
    --disable-all-programs --enable-libuuid --enable-libblkid --enable-libfdisk --disable-libmount \
    --disable-libsmartcols --disable-liblastlog2 --disable-pam-lastlog2 --disable-pylibmount --disable-nls \
    --disable-asciidoc --disable-poman --disable-bash-completion --without-systemd --without-udev --without-python \
    --without-readline --without-ncursesw --without-ncurses --without-tinfo --without-libz --without-libmagic \
    --without-cap-ng --without-btrfs --without-econf --without-selinux --without-audit --without-smack \
    --without-user --without-utempter --without-cryptsetup --without-util
  make -j"$JOBS" libuuid.la libblkid.la libfdisk.la
  make install-usrlib_execLTLIBRARIES install-uuidincHEADERS install-nodist_blkidincHEADERS \
    install-nodist_fdiskincHEADERS install-pkgconfigDATA
}

build_e2fsprogs() {
  # libcom_err, libe2p and libext2fs only, using util-linux's libuuid and libblkid from the prefix (the configure
  # checks find them there; the system's are never looked at). No tdb: only e2undo's undo_io uses it.
  PKG_CONFIG_LIBDIR="$STAGE/lib/pkgconfig" PKG_CONFIG_PATH="" ./configure --prefix="$STAGE" \
    --host="$TARGET" --build="$(gcc -dumpmachine)" CPPFLAGS="-I$STAGE/include" LDFLAGS="-L$STAGE/lib" \
    --disable-elf-shlibs --disable-bsd-shlibs --disable-libuuid --disable-libblkid --disable-nls --disable-fuse2fs \
    --disable-uuidd --disable-debugfs --disable-imager --disable-resizer --disable-defrag --disable-tdb \
    --disable-backtrace --disable-testio-debug --without-libarchive --with-udev-rules-dir=no --with-crond-dir=no \
    --with-systemd-unit-dir=no
  make -j"$JOBS" subs  # generated headers and build tools the libraries need
  local d
  for d in lib/et lib/e2p lib/ext2fs; do make -C "$d" -j"$JOBS"; done
  for d in lib/et lib/e2p lib/ext2fs; do make -C "$d" install; done
  rm -rf "$STAGE/bin/compile_et" "$STAGE/share/et"  # com_err's error-table compiler: a build tool
}

build_yaml() {  # upstream's CMake: the static library only (its default), no tests
  cmake_install -DBUILD_TESTING=OFF -DINSTALL_CMAKE_DIR=lib/cmake/yaml
}

# Links packaging/deps/selfcheck.c with -static, first without the NSS stubs to report what glibc warns about.
selfcheck() {
  local out="$BUILD/selfcheck" warn
  # shellcheck disable=SC2054  # -Wl,--gc-sections is one argument
  local cc=("$CC" -static -O2 -DCURL_STATICLIB -DCARES_STATICLIB -I"$STAGE/include" "$HERE/deps/selfcheck.c"
            -o "$out" -L"$STAGE/lib" -lcurl -lcares -lmbedtls -lmbedx509 -lmbedcrypto -lnettle -larchive -lzstd
            -llzma -lz -lfdisk -lblkid -luuid -lext2fs -le2p -lcom_err -lyaml -Wl,--gc-sections)
  warn=$("${cc[@]}" 2>&1) || die "self-check link failed: $warn"
  [[ -z $warn ]] || say "note: static link without NSS stubs warns (bootrino must define the stubs):"$'\n'"$warn"
  warn=$("${cc[@]}" -DNSS_STUBS 2>&1) || die "self-check link (with stubs) failed: $warn"
  [[ -z $warn ]] || die "self-check link with NSS stubs still warns: $warn"
  file "$out" | grep -q 'statically linked' || die "self-check binary is not static: $(file "$out")"
  "${RUN[@]}" "$out" | sed 's/^/deps: self-check: /' || die "self-check program failed"
}

main() {
  case "${1:-}" in
    --print-prefix)
      if command -v "$CC" >/dev/null && compute_prefix && [[ -d $PREFIX ]]; then echo "$PREFIX" >&3; exit 0; fi
      say "not built yet: run $HERE/deps.sh"; exit 1 ;;
    "") ;;
    *) die "usage: $0 [--print-prefix]" ;;
  esac
  # Fast path: an existing prefix is complete (it only appears by rename after a successful build).
  if command -v "$CC" >/dev/null; then compute_prefix; [[ -d $PREFIX ]] && { echo "$PREFIX" >&3; exit 0; }; fi

  mkdir -p "$CACHE/deps" "$SRCDIR"
  LOG="$CACHE/deps/apt.log"
  ensure_tools
  command -v "$CC" >/dev/null || die "compiler $CC not found"
  compute_prefix
  exec 9>"$PREFIX.lock"; flock 9  # one builder per key; a second one waits and then takes the fast path
  [[ -d $PREFIX ]] && { echo "$PREFIX" >&3; exit 0; }
  # $STAGE survives an interrupted run; the per-library stamps in it let the next run resume.
  STAGE="$PREFIX.tmp" BUILD="$PREFIX.build"
  mkdir -p "$STAGE/.stamps" "$BUILD"

  local i=0 line name pkg ver t0 dsc rc
  for line in "${LIBS[@]}"; do  # download every missing source first, so a stale pin fails before any build
    read -r name pkg ver <<<"$line"
    [[ -f $STAGE/.stamps/$name ]] || fetch "$pkg" "$ver"
  done
  for line in "${LIBS[@]}"; do
    read -r name pkg ver <<<"$line"; i=$((i + 1))
    [[ -f $STAGE/.stamps/$name ]] && continue
    say "building $name $ver ($i/${#LIBS[@]})…"; t0=$SECONDS
    LOG="$BUILD/$name.log"; : >"$LOG"
    dsc="$SRCDIR/${pkg}_${ver#*:}.dsc"
    rm -rf "${BUILD:?}/$name"
    # check_sources stands in for dpkg-source's own check, which fails on an absent upstream signature.
    check_sources "$dsc" >>"$LOG" 2>&1 || die "the sources of $pkg=$ver fail their checksums (see $LOG)"
    dpkg-source --no-check -x "$dsc" "$BUILD/$name" >>"$LOG" 2>&1 || die "dpkg-source -x $dsc failed (see $LOG)"
    # Not in an if/|| context, so that set -e stays in force inside the build function.
    set +e; (set -ex; cd "$BUILD/$name"; "build_$name") >>"$LOG" 2>&1; rc=$?; set -e
    ((rc == 0)) || { tail -n 30 "$LOG"; die "building $name failed; full log: $LOG"; }
    rm -rf "${BUILD:?}/$name"
    echo "$name $pkg=$ver $((SECONDS - t0))s" >"$STAGE/.stamps/$name"
    say "built $name in $((SECONDS - t0)) s"
  done

  # Static only: drop anything shared or libtool-related a build may have installed anyway, and the man pages.
  find "$STAGE" \( -name '*.so' -o -name '*.so.*' -o -name '*.la' \) -delete
  rm -rf "$STAGE/share/man"
  say "self-check (static link + run)…"
  selfcheck
  # .pc files, curl-config etc. name the staging prefix: point them at the final one, then publish atomically.
  { grep -rlI --exclude-dir=.stamps -F "$STAGE" "$STAGE" || true; } | xargs -r sed -i "s|$STAGE|$PREFIX|g"
  mv -T "$STAGE" "$PREFIX"
  rm -rf "$BUILD"
  say "done in $SECONDS s: $PREFIX"
  echo "$PREFIX" >&3
}

main "$@"
