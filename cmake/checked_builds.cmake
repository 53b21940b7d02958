# Builds that check bootrino's memory safety rather than ship it (SECURITY.md,
# tests/fuzz/README.md). Included from the top-level CMakeLists.txt before any
# target is defined, so every project source gets the same flags.
#   -DBOOTRINO_SANITIZE=ON   AddressSanitizer + UndefinedBehaviorSanitizer, the
#                            first error aborts (g++ or clang; needs BOOTRINO_STATIC=OFF)
#   -DBOOTRINO_FUZZ=ON       also instrument for libFuzzer and build tests/fuzz
#                            (clang only; implies BOOTRINO_SANITIZE)
# The third-party static libraries come from the deps prefix as built, without
# instrumentation: ASan still checks every call bootrino makes into them.
option(BOOTRINO_SANITIZE "build with ASan+UBSan, aborting at the first error" OFF)
option(BOOTRINO_FUZZ "instrument for libFuzzer and build the targets in tests/fuzz (clang)" OFF)

if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # libstdc++ 12 offers <expected> only when __cpp_concepts >= 202002L; clang
  # implements what it needs (P0848, clang 16) but says 201907L until clang 19.
  if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 16)
    message(FATAL_ERROR "clang ${CMAKE_CXX_COMPILER_VERSION} cannot compile libstdc++'s std::expected; "
                        "use clang 16 or newer (apt-get install clang-16) or g++")
  elseif(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 19)
    add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-U__cpp_concepts> $<$<COMPILE_LANGUAGE:CXX>:-D__cpp_concepts=202002L>)
  endif()
  # -Werror belongs to the g++ build that ships; a warning only clang gives
  # must not stop a build whose job is to run the sanitizers.
  add_compile_options(-Wno-error)
endif()

if(BOOTRINO_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "BOOTRINO_FUZZ needs clang (libFuzzer): configure with "
                        "CC=clang-16 CXX=clang++-16 (tests/fuzz/README.md)")
  endif()
  set(BOOTRINO_SANITIZE ON)
  # Coverage for libFuzzer in every project object; only the fuzz targets link libFuzzer's main.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(BOOTRINO_SANITIZE)
  if(BOOTRINO_STATIC)
    message(FATAL_ERROR "the sanitizers cannot link statically: configure with -DBOOTRINO_STATIC=OFF")
  endif()
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
