// The paper's graph with a per-view inference of your own: here a stand-in "network" that calls
// every voxel brighter than the middle of the window foreground. Swap in any model behind the
// ViewInference interface (an ONNX runtime, a remote service, ...); the graph does the rest:
// tri-planar averaging, fusion, threshold, the fine loop with its stop rule, cases in flight.
#include <cstdio>

#include "c2f/graphs/segmentation_graph.hpp"
#include "c2f/phantom/phantom.hpp"
#include "c2f/stages/metrics.hpp"

namespace {
class Brightness : public c2f::ViewInference {
 public:
  void predict(c2f::Scale, const c2f::SliceBatch& batch, std::vector<float>& p) override {
    p.resize(batch.data.size());
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = batch.data[i] > 0.5f ? 1.f : 0.f;
  }
  std::string describe() const override { return "brightness threshold"; }
};
}  // namespace

int main() {
  c2f::PhantomOptions phantoms;
  phantoms.size = {64, 64, 32};
  Brightness net;
  c2f::SegmentationOptions options;
  options.convergence.max_iterations = 3;
  int done = 0;
  const auto report = c2f::segment_cases(
      2, [&](std::size_t i) { return c2f::make_phantom(phantoms, int(i)).c; }, net, options,
      [&](c2f::CaseResult&& r) {
        std::printf("%s: %d fine iteration(s), %lld voxels, DSC %.3f\n", r.input.id.c_str(), r.iterations(),
                    static_cast<long long>(c2f::count_foreground(r.mask)), c2f::dice(r.mask, *r.input.label));
        ++done;
      });
  std::printf("%zu cases in %.2f s\n", report.cases, report.seconds);
  return done == 2 ? 0 : 1;
}
