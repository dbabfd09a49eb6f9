# Installs the built c2f into a scratch prefix, then configures, builds and runs the out-of-tree
# example against it: what a user of the installed library does.
file(REMOVE_RECURSE ${WORK_DIR})
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "step failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()
step(${CMAKE_COMMAND} --install ${C2F_BINARY_DIR} --prefix ${WORK_DIR}/prefix)
step(${CMAKE_COMMAND} -S ${EXAMPLE_SOURCE_DIR} -B ${WORK_DIR}/build -G Ninja
     -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
step(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
step(${WORK_DIR}/build/phantom_roundtrip ${WORK_DIR}/example.nii.gz)
# A graph composed against the installed c2f::graphs (COMPONENTS model).
if(EXISTS ${WORK_DIR}/prefix/lib/cmake/c2f/c2fModelTargets.cmake)
  step(${CMAKE_COMMAND} -S ${EXAMPLE_SOURCE_DIR}/../custom_graph -B ${WORK_DIR}/custom -G Ninja
       -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
  step(${CMAKE_COMMAND} --build ${WORK_DIR}/custom)
  step(${WORK_DIR}/custom/custom_graph)
endif()
# The installed executables load the installed libraries and find the installed weights.
if(EXISTS ${WORK_DIR}/prefix/bin/c2f-segment)
  step(${WORK_DIR}/prefix/bin/c2f-segment -i ${WORK_DIR}/example.nii.gz -o ${WORK_DIR}/segmented -q --iterations 1)
  if(NOT EXISTS ${WORK_DIR}/segmented/example/mask.nii.gz)
    message(FATAL_ERROR "the installed c2f-segment wrote no mask")
  endif()
endif()
