# Finds c2f's dependencies. Each is a Debian 12 package; scripts/install-deps.sh installs them.
# A missing one stops the configure step with the name of the package that provides it.

macro(c2f_missing what debian_package)
  message(FATAL_ERROR
    "c2f: ${what} was not found. On Debian 12 install the package '${debian_package}' "
    "(or run scripts/install-deps.sh, which installs every dependency).")
endmacro()

find_package(Threads REQUIRED)

find_package(TBB CONFIG QUIET)
if(NOT TBB_FOUND)
  c2f_missing("oneTBB" libtbb-dev)
endif()

find_package(OpenCV QUIET COMPONENTS core imgproc)
if(NOT OpenCV_FOUND)
  # A tree of carried libraries (scripts/gpu/prepare-carry.sh) holds OpenCV's core and imgproc
  # without the CMake files of the whole OpenCV, which would check for every module.
  find_path(C2F_OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4)
  find_library(C2F_OPENCV_CORE_LIBRARY opencv_core)
  find_library(C2F_OPENCV_IMGPROC_LIBRARY opencv_imgproc)
  if(NOT C2F_OPENCV_INCLUDE_DIR OR NOT C2F_OPENCV_CORE_LIBRARY OR NOT C2F_OPENCV_IMGPROC_LIBRARY)
    c2f_missing("OpenCV (core, imgproc)" libopencv-dev)
  endif()
  add_library(c2f_opencv_bare INTERFACE IMPORTED GLOBAL)
  target_include_directories(c2f_opencv_bare INTERFACE ${C2F_OPENCV_INCLUDE_DIR})
  target_link_libraries(c2f_opencv_bare INTERFACE ${C2F_OPENCV_IMGPROC_LIBRARY} ${C2F_OPENCV_CORE_LIBRARY})
  set(OpenCV_LIBS c2f_opencv_bare)
  message(STATUS "c2f: OpenCV core and imgproc from ${C2F_OPENCV_CORE_LIBRARY} (no OpenCVConfig.cmake)")
endif()

# DeepOrgan's candidate stage: superpixels (ximgproc, in Debian's libopencv-contrib-dev) and
# random forests (ml). The carried OpenCV of the GPU machines has neither: there c2f builds
# without that stage (C2F_HAVE_CANDIDATES off).
set(c2f_opencv_libs ${OpenCV_LIBS})  # a second find_package(OpenCV) names only its components
find_package(OpenCV QUIET COMPONENTS ximgproc ml)
set(OpenCV_LIBS ${c2f_opencv_libs})
if(OpenCV_ximgproc_FOUND AND OpenCV_ml_FOUND)
  set(C2F_HAVE_CANDIDATES ON)
elseif(TARGET c2f_opencv_bare)
  set(C2F_HAVE_CANDIDATES OFF)
  message(STATUS "c2f: no DeepOrgan candidate stage (the carried OpenCV lacks ximgproc and ml)")
else()
  c2f_missing("OpenCV's ximgproc and ml modules" libopencv-contrib-dev)
endif()

find_package(fmt CONFIG QUIET)
if(NOT fmt_FOUND)
  c2f_missing("fmt" libfmt-dev)
endif()

find_package(nlohmann_json 3 CONFIG QUIET)
if(NOT nlohmann_json_FOUND)
  c2f_missing("nlohmann-json" nlohmann-json3-dev)
endif()

find_package(HDF5 QUIET COMPONENTS C CXX)
if(NOT HDF5_FOUND OR NOT HDF5_CXX_LIBRARIES)
  c2f_missing("HDF5 with its C++ API" libhdf5-dev)
endif()

find_package(ZLIB QUIET)
if(NOT ZLIB_FOUND)
  c2f_missing("zlib" zlib1g-dev)
endif()

# Debian's NIFTIConfig.cmake points at /usr/lib instead of the multiarch folder, so the
# library and headers are found directly.
find_path(NIFTI2_INCLUDE_DIR nifti2_io.h PATH_SUFFIXES nifti)
find_library(NIFTI2_LIBRARY nifti2)
find_library(NIFTI_ZNZ_LIBRARY znz)
if(NOT NIFTI2_INCLUDE_DIR OR NOT NIFTI2_LIBRARY OR NOT NIFTI_ZNZ_LIBRARY)
  c2f_missing("libnifti2 (nifti2_io.h, libnifti2, libznz)" libnifti2-dev)
endif()
if(NOT TARGET c2f_nifti2)
  add_library(c2f_nifti2 INTERFACE)
  target_include_directories(c2f_nifti2 SYSTEM INTERFACE ${NIFTI2_INCLUDE_DIR})
  target_link_libraries(c2f_nifti2 INTERFACE ${NIFTI2_LIBRARY} ${NIFTI_ZNZ_LIBRARY} ZLIB::ZLIB m)
endif()

# Debian's GDCMTargets.cmake also demands GDCM's command-line tools; only the libraries are needed.
find_path(GDCM_INCLUDE_DIR gdcmImageReader.h PATH_SUFFIXES gdcm-3.0)
foreach(lib MSFF DSED Common)
  find_library(GDCM_${lib}_LIBRARY gdcm${lib})
  if(NOT GDCM_${lib}_LIBRARY)
    c2f_missing("GDCM (libgdcm${lib})" libgdcm-dev)
  endif()
endforeach()
if(NOT GDCM_INCLUDE_DIR)
  c2f_missing("GDCM headers (gdcmImageReader.h)" libgdcm-dev)
endif()
if(NOT TARGET c2f_gdcm)
  add_library(c2f_gdcm INTERFACE)
  target_include_directories(c2f_gdcm SYSTEM INTERFACE ${GDCM_INCLUDE_DIR})
  target_link_libraries(c2f_gdcm INTERFACE ${GDCM_MSFF_LIBRARY} ${GDCM_DSED_LIBRARY} ${GDCM_Common_LIBRARY})
endif()

# DCMTK for writing DICOM Segmentation objects (dcmseg and the modules under it). Debian's
# DCMTKConfig.cmake provides imported targets per library.
find_package(DCMTK CONFIG QUIET)
if(NOT DCMTK_FOUND OR NOT TARGET DCMTK::dcmseg)
  c2f_missing("DCMTK with dcmseg (DCMTKConfig.cmake)" libdcmtk-dev)
endif()
if(NOT TARGET c2f_dcmtk)
  add_library(c2f_dcmtk INTERFACE)
  target_link_libraries(c2f_dcmtk INTERFACE DCMTK::dcmseg DCMTK::dcmfg DCMTK::dcmiod DCMTK::dcmdata DCMTK::oflog
                                            DCMTK::ofstd)
endif()

find_package(CLI11 CONFIG QUIET)
if(NOT CLI11_FOUND)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp)
  if(NOT CLI11_INCLUDE_DIR)
    c2f_missing("CLI11" libcli11-dev)
  endif()
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()

if(C2F_BUILD_TESTS)
  find_package(doctest CONFIG QUIET)
  if(NOT doctest_FOUND)
    c2f_missing("doctest" doctest-dev)
  endif()
endif()

# LibTorch: Debian's libtorch-dev (CPU) by default; a CUDA LibTorch (for example the one inside
# a PyTorch wheel) is picked up when its folder is given through CMAKE_PREFIX_PATH.
if(C2F_BUILD_MODEL)
  find_package(Torch CONFIG QUIET)
  if(NOT Torch_FOUND)
    c2f_missing("LibTorch (TorchConfig.cmake)" libtorch-dev)
  endif()
  message(STATUS "c2f: LibTorch ${Torch_VERSION} from ${Torch_DIR}")

  # The second CPU back end (--backend opencv) runs ONNX exports in OpenCV's DNN module; protobuf
  # edits a graph's input shape before OpenCV imports it. Optional: a build without them has the
  # torch back end only (the GPU machines' carried OpenCV holds core and imgproc alone).
  set(c2f_opencv_libs ${OpenCV_LIBS})  # a second find_package(OpenCV) names only its components
  find_package(OpenCV QUIET COMPONENTS dnn)
  set(OpenCV_LIBS ${c2f_opencv_libs})
  find_package(Protobuf QUIET)
  if(OpenCV_dnn_FOUND AND Protobuf_FOUND)
    set(C2F_HAVE_OPENCV_DNN ON)
    message(STATUS "c2f: OpenCV DNN back end (OpenCV ${OpenCV_VERSION}, protobuf ${Protobuf_VERSION})")
  else()
    set(C2F_HAVE_OPENCV_DNN OFF)
    message(STATUS "c2f: no OpenCV DNN back end (needs libopencv-dev's dnn module and libprotobuf-dev)")
  endif()
endif()
