#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#ifdef C2F_TSAN_SERIAL_OPENCV
#include <opencv2/core/utility.hpp>
#endif

int main(int argc, char** argv) {
#ifdef C2F_TSAN_SERIAL_OPENCV
  // Debian's OpenCV runs cv::parallel_for_ through oneTBB code inlined into libopencv_core, which
  // is not instrumented: TSan cannot see those joins and reports every write a loop body made as
  // racing with the caller's next read. Under TSan, OpenCV's loops run on the calling thread;
  // c2f's own threads (the flow graphs, tbb::parallel_for) stay checked.
  cv::setNumThreads(1);
#endif
  return doctest::Context(argc, argv).run();
}
