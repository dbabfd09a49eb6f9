// Two ways to build on c2f with a per-view inference of your own (here a stand-in "network" that
// calls every voxel brighter than the middle of the window foreground; swap in any model behind
// the ViewInference interface: an ONNX runtime, a remote service, ...):
//  1. the paper's whole graph, segment_cases: tri-planar averaging, fusion, threshold, the fine
//     loop with its stop rule, cases in flight;
//  2. a graph of your own composed from c2f's parts: here a one-scale method (the coarse stage
//     alone) wired from the TriPlanarInference subgraph and the stages' functors.
#include <cstdio>
#include <memory>

#include <tbb/flow_graph.h>

#include "c2f/evaluation/metrics.hpp"
#include "c2f/graphs/segmentation_graph.hpp"
#include "c2f/graphs/tri_planar_inference.hpp"
#include "c2f/phantom/phantom.hpp"
#include "c2f/stages/threshold.hpp"
#include "c2f/stages/view_fusion.hpp"
#include "c2f/stages/window.hpp"

namespace {
class Brightness : public c2f::ViewInference {
 public:
  void predict(c2f::Scale, const c2f::SliceBatch& batch, std::vector<float>& p) override {
    p.resize(batch.data.size());
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = batch.data[i] > 0.5f ? 1.f : 0.f;
  }
  std::string describe() const override { return "brightness threshold"; }
};

// 2. phantom i -> WindowNormalize -> TriPlanarInference -> ViewFusion -> Threshold -> DSC.
int one_scale_graph(const c2f::PhantomOptions& phantoms, c2f::ViewInference& net) {
  namespace flow = tbb::flow;
  std::vector<c2f::Case> cases;
  for (int i = 0; i < 2; ++i) cases.push_back(c2f::make_phantom(phantoms, i).c);

  flow::graph g;
  flow::function_node<std::size_t, c2f::ViewRequest> window(g, flow::unlimited, [&](std::size_t i) {
    auto v = std::make_shared<const c2f::Volume<float>>(c2f::WindowNormalize{}(*cases[i].image));
    return c2f::ViewRequest{{i, 0}, c2f::Scale::Coarse, c2f::Box3::whole(v->dims()), v, nullptr};
  });
  c2f::TriPlanarInference tri_planar(g, net, {});
  int done = 0;
  flow::function_node<c2f::ViewMaps> fuse_and_threshold(g, flow::serial, [&](const c2f::ViewMaps& views) {
    if (!views.error.empty()) return;
    const c2f::Mask mask = c2f::Threshold{0.5f}(c2f::ViewFusion{}({views.maps[0].get(), views.maps[1].get(), views.maps[2].get()}));
    const c2f::Case& c = cases[views.key.case_index];
    std::printf("one-scale graph, %s: DSC %.3f\n", c.id.c_str(), c2f::dice(mask, *c.label));
    ++done;
  });
  flow::make_edge(window, flow::input_port<0>(tri_planar));
  flow::make_edge(flow::output_port<0>(tri_planar), fuse_and_threshold);
  for (std::size_t i = 0; i < cases.size(); ++i) window.try_put(i);
  g.wait_for_all();
  return done == 2 ? 0 : 1;
}
}  // namespace

int main() {
  c2f::PhantomOptions phantoms;
  phantoms.size = {64, 64, 32};
  Brightness net;

  // 1. The paper's graph.
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
  if (done != 2) return 1;

  return one_scale_graph(phantoms, net);
}
