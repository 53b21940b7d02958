# cmake -DFOLDER=dir -DNAME=fetch -DALLOWED=base[,…] -P check_layering.cmake
# Fails, naming every offending line, when a file in FOLDER includes a header
# of a folder of this repository other than NAME and ALLOWED.
cmake_minimum_required(VERSION 3.25)
string(REPLACE "," ";" allowed "${ALLOWED}")
list(APPEND allowed ${NAME})
set(repository_folders agent base disk fetch kexec net userdata tests bench packaging)
file(GLOB sources ${FOLDER}/*.h ${FOLDER}/*.cc)
set(violations "")
foreach(source IN LISTS sources)
  file(STRINGS ${source} includes REGEX "^#include \"[a-z_]+/")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "^#include \"([a-z_]+)/.*" "\\1" folder "${line}")
    if(folder IN_LIST repository_folders AND NOT folder IN_LIST allowed)
      string(APPEND violations "\n  ${source}: ${line}")
    endif()
  endforeach()
endforeach()
if(violations)
  message(FATAL_ERROR "${NAME}/ may include only ${NAME}/ and ${ALLOWED}/ (docs/architecture.md, Folders):"
                      "${violations}")
endif()
