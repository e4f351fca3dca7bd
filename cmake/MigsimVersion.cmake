# Bakes `git describe` into the build at every build (not only at configure time), so the
# version written into each output file names the code that made it.
set(MIGSIM_VERSION_CPP "${CMAKE_BINARY_DIR}/generated/version.cpp")
add_custom_target(migsim_version_file
  COMMAND ${CMAKE_COMMAND} -DOUT=${MIGSIM_VERSION_CPP} -DSRC=${CMAKE_SOURCE_DIR}
          -DFALLBACK=${PROJECT_VERSION} -P ${CMAKE_SOURCE_DIR}/cmake/WriteVersion.cmake
  BYPRODUCTS ${MIGSIM_VERSION_CPP}
  COMMENT "Recording the migsim version")
