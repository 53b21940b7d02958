# The folders' layering (docs/architecture.md, "Folders") as a build error:
# bootrino_layer(fetch MAY_USE base) makes building the fetch library fail
# when a file in fetch/ includes a header of any other folder of this
# repository. The check reruns whenever a file of the folder changes.
function(bootrino_layer library)
  cmake_parse_arguments(LAYER "" "" "MAY_USE" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.h ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  set(stamp ${CMAKE_CURRENT_BINARY_DIR}/${library}.layering)
  string(REPLACE ";" "," allowed "${LAYER_MAY_USE}")
  add_custom_command(
    OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -DFOLDER=${CMAKE_CURRENT_SOURCE_DIR} -DNAME=${library} "-DALLOWED=${allowed}"
            -P ${PROJECT_SOURCE_DIR}/cmake/check_layering.cmake
    COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
    DEPENDS ${sources} ${PROJECT_SOURCE_DIR}/cmake/check_layering.cmake
    COMMENT "Checking that ${library}/ includes only ${library}/ ${LAYER_MAY_USE}"
    VERBATIM)
  add_custom_target(${library}_layering DEPENDS ${stamp})
  add_dependencies(${library} ${library}_layering)
endfunction()
