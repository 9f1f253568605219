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
  # Installed and exported (cmake/SwitchyardInstall.cmake) as switchyard::<name without prefix>.
  set_property(GLOBAL APPEND PROPERTY SWITCHYARD_COMPONENTS ${name})
endfunction()

# Links the product's malloc (SWITCHYARD_MALLOC_LIBRARY, see the top-level CMakeLists.txt) into an
# executable: its malloc and free then replace the C library's. --no-as-needed: nothing names the
# library's symbols directly, and a linker defaulting to --as-needed would drop it.
function(switchyard_malloc target)
  if(SWITCHYARD_MALLOC_LIBRARY)
    target_link_libraries(${target} PRIVATE ${SWITCHYARD_MALLOC_LIBRARY})
    target_link_options(${target} PRIVATE "LINKER:--no-as-needed")
  endif()
endfunction()
