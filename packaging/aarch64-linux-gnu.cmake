# CMake toolchain for building bootrino (and its third-party libraries, packaging/deps.sh) for aarch64 on an
# x86_64 Debian host, with Debian's cross compiler (g++-aarch64-linux-gnu) and qemu-user-static to run what
# was built:
#   cmake -S . -B DIR -DCMAKE_TOOLCHAIN_FILE=packaging/aarch64-linux-gnu.cmake -DBOOTRINO_DEPS=PREFIX ...
# packaging/release.sh is the usual way in: it also builds GoogleTest for aarch64 (GTest_DIR).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_AR aarch64-linux-gnu-ar CACHE FILEPATH "archiver")
set(CMAKE_RANLIB aarch64-linux-gnu-ranlib CACHE FILEPATH "ranlib")
set(CMAKE_STRIP aarch64-linux-gnu-strip CACHE FILEPATH "strip")

# Libraries come only from the aarch64 tree (Debian's cross libc lives in /usr/aarch64-linux-gnu) or from
# paths given explicitly (BOOTRINO_DEPS, GTest_DIR). Packages may also be the host's: the ones bootrino finds
# that way are header-only (nlohmann_json, CLI11), and the cross compiler searches /usr/include last anyway.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# ctest (and try_run) run aarch64 programs under user-mode QEMU; -L finds the dynamic loader and libstdc++ of
# the test binaries (bootrino itself is static).
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static -L /usr/aarch64-linux-gnu)
