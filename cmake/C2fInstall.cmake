# Installation: headers under include/c2f/<folder>/, libraries, executables, and a package
# configuration so that another project does find_package(c2f) and links c2f::c2f (and, with
# COMPONENTS model, c2f::model, which needs LibTorch).
include(CMakePackageConfigHelpers)

add_library(c2f INTERFACE)
add_library(c2f::c2f ALIAS c2f)
target_link_libraries(c2f INTERFACE c2f_pipeline c2f_io c2f_stages c2f_evaluation c2f_training c2f_phantom)
set(c2f_core_targets c2f c2f_pipeline c2f_io c2f_stages c2f_evaluation c2f_training c2f_phantom)
if(TARGET c2f_candidates)  # DeepOrgan's candidate stage (OpenCV contrib); links OpenCV privately
  target_link_libraries(c2f INTERFACE c2f_candidates)
  list(APPEND c2f_core_targets c2f_candidates)
endif()

install(TARGETS ${c2f_core_targets}
  EXPORT c2fTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT c2fTargets NAMESPACE c2f:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/c2f)

if(TARGET c2f_model)
  # The model component: the networks and the graphs that run them (c2f::model, c2f::graphs).
  install(TARGETS c2f_model c2f_graphs c2f_reports EXPORT c2fModelTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT c2fModelTargets NAMESPACE c2f:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/c2f)
endif()

foreach(dir pipeline io stages evaluation training phantom graphs reports model)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/c2f/${dir}
          FILES_MATCHING PATTERN "*.hpp")
endforeach()

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/c2fConfig.cmake.in
  ${PROJECT_BINARY_DIR}/c2fConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/c2f)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/c2fConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/c2fConfig.cmake ${PROJECT_BINARY_DIR}/c2fConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/c2f)
