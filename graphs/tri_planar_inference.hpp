#pragma once
// TriPlanarInference: the tri-planar part of the paper's Figure 2 as one reusable subgraph (a
// oneTBB composite_node). A region of a volume goes in; the coronal, sagittal and axial networks'
// probability maps of that region come out.
//
//   in  port 0 "request": ViewRequest {key, scale, region, volume}
//   out port 0 "views":   ViewMaps    {key, three maps on the region's grid} or the error met
//
//   plan (slice tasks of the three views) -> queue -> batches-in-flight limiter
//     -> TriPlanarSlicing [unlimited] -> ViewInference [one device thread, one pass at a time]
//     -> route by view -> TriPlanarAverage coronal | sagittal | axial [serial each]
//     -> join by key -> views
//
// Requests of different keys may be in flight at once (several cases, or the coarse and the fine
// rounds of different cases); a key is asked once. The batches-in-flight tokens bound the slices
// held at once, so a 512-slice view is never materialised whole. A stage that throws does not
// stop the graph: the request's ViewMaps carries the error, and its tokens come back.
// Used by the coarse and the fine rounds of segment_cases and by examples/custom_graph.
#include <array>
#include <cstdint>
#include <memory>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <tbb/flow_graph.h>

#include "../pipeline/device_thread.hpp"
#include "../pipeline/stage_time.hpp"
#include "../stages/tri_planar.hpp"
#include "../stages/view_inference.hpp"
#include "messages.hpp"

namespace c2f {

struct TriPlanarOptions {
  std::int64_t batch_slices = 8;     // 3-slice images per forward pass
  std::size_t batches_in_flight = 4;
  void validate() const;             // throws OptionError
};

class TriPlanarInference
    : public tbb::flow::composite_node<std::tuple<ViewRequest>, std::tuple<ViewMaps>> {
 public:
  // `inference` must outlive the graph's run; it is called from one thread at a time.
  TriPlanarInference(tbb::flow::graph& g, ViewInference& inference, const TriPlanarOptions& options);
  ~TriPlanarInference();
  TriPlanarInference(const TriPlanarInference&) = delete;
  TriPlanarInference& operator=(const TriPlanarInference&) = delete;

  // Busy time of its stages, in order: dispatch, slice, infer, tri-planar average.
  std::vector<StageTime> stage_times() const;

 private:
  // No default member initializers in these: a nested class's are not usable inside its
  // enclosing class, and the nodes below need the messages default-constructible.
  struct Task {
    std::shared_ptr<const ViewRequest> request;
    View view;
    SliceRange range;
    std::size_t batches_in_view;
  };
  struct Batch {
    Task task;
    SliceBatch slices;
    SlicePrediction prediction;
    std::string error;
  };
  using BatchPtr = std::shared_ptr<Batch>;
  struct ViewDone {
    RoundKey key;
    std::shared_ptr<const ProbabilityMap> map;
    std::string error;
  };
  // One view's maps under way, owned by that view's serial average node.
  struct Pending {
    std::unique_ptr<ViewAccumulator> accumulator;  // made when the first prediction arrives
    std::size_t batches = 0;
    std::string error;
  };
  using PendingTable = std::unordered_map<RoundKey, Pending, RoundKeyHash>;
  enum Stage { kDispatch, kSlice, kInfer, kAverage, kStages };

  using PlanNode = tbb::flow::multifunction_node<ViewRequest, std::tuple<Task, ViewMaps>>;
  using InferNode = tbb::flow::async_node<BatchPtr, BatchPtr>;
  using RouteNode = tbb::flow::multifunction_node<BatchPtr, std::tuple<BatchPtr, BatchPtr, BatchPtr>>;
  using AverageNode = tbb::flow::multifunction_node<BatchPtr, std::tuple<ViewDone, int>>;
  using JoinNode = tbb::flow::join_node<std::tuple<ViewDone, ViewDone, ViewDone>,
                                        tbb::flow::key_matching<RoundKey, RoundKeyHashCompare>>;

  ViewInference& inference_;
  TriPlanarOptions options_;
  std::array<BusyClock, kStages> clocks_;
  std::array<PendingTable, 3> pending_;  // kViews order; each touched by its own average node only
  DeviceThread device_;
  PlanNode plan_;
  tbb::flow::queue_node<Task> tasks_;
  tbb::flow::limiter_node<Task, int> batches_in_flight_;
  tbb::flow::function_node<Task, BatchPtr> slice_;
  InferNode infer_;
  RouteNode route_;
  std::array<std::unique_ptr<AverageNode>, 3> average_;
  JoinNode join_;
  tbb::flow::function_node<std::tuple<ViewDone, ViewDone, ViewDone>, ViewMaps> views_;
  tbb::flow::broadcast_node<ViewMaps> out_;
};

}  // namespace c2f
