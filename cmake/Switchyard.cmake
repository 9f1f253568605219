# Warnings as errors on our own targets only; third-party headers come in as SYSTEM.
function(switchyard_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion)
  if(SWITCHYARD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# One internal component of a module: a static library with the module's public include dir.
function(switchyard_component name module)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/${module}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/${module}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  switchyard_warnings(${name})
endfunction()
