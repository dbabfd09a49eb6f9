#include "tri_planar_inference.hpp"

#include <fmt/format.h>

#include "../pipeline/errors.hpp"

namespace c2f {
namespace flow = tbb::flow;

namespace {
constexpr std::array<const char*, 4> kStageNames{"dispatch", "slice", "infer", "tri-planar average"};

// Runs a body, timed for the graph's and the request's account; a throw becomes the error text.
template <class Body>
void timed(BusyClock& clock, const char* stage, CaseStageTimes* times, std::string& error, Body&& body) {
  const auto t0 = StageClock::now();
  try {
    body();
  } catch (const std::exception& e) {
    if (error.empty()) error = fmt::format("the {} stage failed: {}", stage, e.what());
  } catch (...) {
    if (error.empty()) error = fmt::format("the {} stage failed: an unknown exception", stage);
  }
  const double s = clock.add(t0);
  if (times) times->add(stage, s);
}
}  // namespace

void TriPlanarOptions::validate() const {
  if (batch_slices < 1) throw OptionError("the batch must hold at least one slice");
  if (batches_in_flight < 1) throw OptionError("at least one batch must be in flight");
}

TriPlanarInference::~TriPlanarInference() = default;

TriPlanarInference::TriPlanarInference(flow::graph& g, ViewInference& inference, const TriPlanarOptions& options)
    : composite_node(g),
      inference_(inference),
      options_((options.validate(), options)),
      // The slice tasks of the request's three views.
      plan_(g, flow::unlimited,
            [this](const ViewRequest& r, PlanNode::output_ports_type& out) {
              auto request = std::make_shared<const ViewRequest>(r);
              std::vector<Task> tasks;
              std::string error;
              timed(clocks_[kDispatch], kStageNames[kDispatch], r.times.get(), error, [&] {
                for (View v : kViews) {
                  const auto ranges = plan_slice_batches(r.region, v, options_.batch_slices);
                  if (ranges.empty()) throw std::invalid_argument("the region holds no slice");
                  for (const SliceRange& range : ranges) tasks.push_back({request, v, range, ranges.size()});
                }
              });
              if (!error.empty()) {  // nothing to slice: the answer is the error alone
                std::get<1>(out).try_put(ViewMaps{r.key, {}, error});
                return;
              }
              for (auto& t : tasks) std::get<0>(out).try_put(std::move(t));
            }),
      tasks_(g),
      batches_in_flight_(g, options_.batches_in_flight),
      slice_(g, flow::unlimited,
             [this](const Task& t) {
               auto b = std::make_shared<Batch>();
               b->task = t;
               timed(clocks_[kSlice], kStageNames[kSlice], t.request->times.get(), b->error, [&] {
                 b->slices = make_slice_batch(*t.request->volume, t.view, t.request->region, t.range);
               });
               return b;
             }),
      // One forward pass at a time, all on the device's own thread; a oneTBB worker never waits on it.
      infer_(g, flow::unlimited,
             [this](const BatchPtr& b, InferNode::gateway_type& gateway) {
               gateway.reserve_wait();
               device_.submit([this, b, gw = &gateway] {
                 if (b->error.empty())
                   timed(clocks_[kInfer], kStageNames[kInfer], b->task.request->times.get(), b->error, [&] {
                     b->prediction.range = b->slices.range;
                     inference_.predict(b->task.request->scale, b->slices, b->prediction.probabilities);
                     b->slices.data = {};  // the slices are no longer needed
                   });
                 gw->try_put(b);
                 gw->release_wait();
               });
             }),
      route_(g, flow::unlimited,
             [](const BatchPtr& b, RouteNode::output_ports_type& out) {
               switch (b->task.view) {
                 case View::Coronal: std::get<0>(out).try_put(b); break;
                 case View::Sagittal: std::get<1>(out).try_put(b); break;
                 case View::Axial: std::get<2>(out).try_put(b); break;
               }
             }),
      join_(g, [](const ViewDone& d) { return d.key; }, [](const ViewDone& d) { return d.key; },
            [](const ViewDone& d) { return d.key; }),
      views_(g, flow::unlimited, [](const std::tuple<ViewDone, ViewDone, ViewDone>& j) {
        ViewMaps m;
        m.key = std::get<0>(j).key;
        m.maps = {std::get<0>(j).map, std::get<1>(j).map, std::get<2>(j).map};
        for (const ViewDone* d : {&std::get<0>(j), &std::get<1>(j), &std::get<2>(j)})
          if (m.error.empty()) m.error = d->error;
        return m;
      }),
      out_(g) {
  // TriPlanarAverage: each view's serial node alone touches its table of maps under way. A batch
  // that failed still counts, so that the view completes (with the error) and its token comes back.
  for (std::size_t v = 0; v < 3; ++v)
    average_[v] = std::make_unique<AverageNode>(g, flow::serial, [this, v](const BatchPtr& b, AverageNode::output_ports_type& out) {
      const ViewRequest& r = *b->task.request;
      Pending& p = pending_[v][r.key];
      if (p.error.empty()) p.error = b->error;  // the first error met is the one reported
      if (p.error.empty())
        timed(clocks_[kAverage], kStageNames[kAverage], r.times.get(), p.error, [&] {
          if (!p.accumulator) p.accumulator = std::make_unique<ViewAccumulator>(r.volume->geometry(), r.region, b->task.view);
          p.accumulator->add(b->prediction);
        });
      b->prediction.probabilities = {};
      std::get<1>(out).try_put(1);  // a batch token back
      if (++p.batches < b->task.batches_in_view) return;
      ViewDone done{r.key, nullptr, p.error};
      if (done.error.empty())
        timed(clocks_[kAverage], kStageNames[kAverage], r.times.get(), done.error, [&] {
          done.map = std::make_shared<const ProbabilityMap>(p.accumulator->finish());
        });
      pending_[v].erase(r.key);
      std::get<0>(out).try_put(std::move(done));
    });

  flow::make_edge(flow::output_port<0>(plan_), tasks_);
  flow::make_edge(tasks_, batches_in_flight_);
  flow::make_edge(batches_in_flight_, slice_);
  flow::make_edge(slice_, infer_);
  flow::make_edge(infer_, route_);
  flow::make_edge(flow::output_port<0>(route_), *average_[0]);
  flow::make_edge(flow::output_port<1>(route_), *average_[1]);
  flow::make_edge(flow::output_port<2>(route_), *average_[2]);
  for (std::size_t v = 0; v < 3; ++v) flow::make_edge(flow::output_port<1>(*average_[v]), batches_in_flight_.decrementer());
  flow::make_edge(flow::output_port<0>(*average_[0]), flow::input_port<0>(join_));
  flow::make_edge(flow::output_port<0>(*average_[1]), flow::input_port<1>(join_));
  flow::make_edge(flow::output_port<0>(*average_[2]), flow::input_port<2>(join_));
  flow::make_edge(join_, views_);
  flow::make_edge(views_, out_);
  flow::make_edge(flow::output_port<1>(plan_), out_);
  set_external_ports(input_ports_type(plan_), output_ports_type(out_));
}

std::vector<StageTime> TriPlanarInference::stage_times() const {
  std::vector<StageTime> t;
  for (int s = 0; s < kStages; ++s) t.push_back(clocks_[s].report(kStageNames[s]));
  return t;
}

}  // namespace c2f
