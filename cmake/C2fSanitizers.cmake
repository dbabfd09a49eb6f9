# Sanitizer builds of the whole tree (scripts/sanitize.sh runs them; CI runs that script).
# Every report is fatal: UBSan does not recover, so a test that triggers one fails.
if(C2F_FUZZ)
  # Coverage for libFuzzer in every library the readers use, checked by ASan and UBSan.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  return()
endif()
if(C2F_SANITIZE STREQUAL "")
  return()
endif()
if(C2F_SANITIZE STREQUAL "address,undefined")
  # -fno-sanitize=vptr: oneTBB 2021.8's flow-graph tasks destroy themselves and then downcast
  # `this` to hand it to their allocator (oneapi/tbb/detail/_flow_graph_impl.h:368); the vptr
  # check reports that in every graph, and GCC's UBSan does not suppress it by file or type.
  set(_c2f_sanitize_flags -fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined)
elseif(C2F_SANITIZE STREQUAL "thread")
  set(_c2f_sanitize_flags -fsanitize=thread)
else()
  message(FATAL_ERROR "c2f: C2F_SANITIZE is '${C2F_SANITIZE}'; expected address,undefined or thread")
endif()
add_compile_options(${_c2f_sanitize_flags} -fno-omit-frame-pointer)
add_link_options(${_c2f_sanitize_flags})
# The sanitizers' runtime options and suppressions for third-party libraries built without them.
set(C2F_SANITIZER_DIR ${PROJECT_SOURCE_DIR}/scripts/sanitizers)
message(STATUS "c2f: sanitizers ${C2F_SANITIZE}")
