# `cmake --install`: the switchyard executable, the libraries (static components), the public
# headers and a CMake package, so that an embedding program does
#   find_package(switchyard 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE switchyard::orchestrator)   # or switchyard::asl / ::invoker
# The package config finds the libraries' own dependencies (Threads, OpenSSL, Boost, spdlog, and
# libzip and libpqxx through pkg-config).
include(CMakePackageConfigHelpers)

set(SWITCHYARD_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/switchyard)

# Exported names: switchyard::asl, switchyard::invoker, switchyard::orchestrator, and the internal
# components they link (switchyard::asl_core, ...), which embedders need not name. Every
# switchyard_component is exported, so a new component needs nothing here.
get_property(switchyard_components GLOBAL PROPERTY SWITCHYARD_COMPONENTS)
set(switchyard_exported_targets switchyard_rapidjson switchyard_asl ${switchyard_components})
foreach(target ${switchyard_exported_targets})
  string(REGEX REPLACE "^switchyard_" "" export_name ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
endforeach()

install(TARGETS switchyard RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS ${switchyard_exported_targets}
  EXPORT switchyardTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
foreach(module asl invoker orchestrator)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${module}/include/switchyard
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
endforeach()
# The built-in function runtimes (python, node bootstraps); an installed program finds them next
# to itself (<prefix>/share/switchyard/runtimes).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/invoker/runtimes/
  DESTINATION ${CMAKE_INSTALL_DATADIR}/switchyard/runtimes USE_SOURCE_PERMISSIONS)

install(EXPORT switchyardTargets NAMESPACE switchyard:: DESTINATION ${SWITCHYARD_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/switchyardConfig.cmake.in
  ${PROJECT_BINARY_DIR}/switchyardConfig.cmake INSTALL_DESTINATION ${SWITCHYARD_CMAKE_DIR})
# 0.x: a minor version may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/switchyardConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/switchyardConfig.cmake
              ${PROJECT_BINARY_DIR}/switchyardConfigVersion.cmake
  DESTINATION ${SWITCHYARD_CMAKE_DIR})
