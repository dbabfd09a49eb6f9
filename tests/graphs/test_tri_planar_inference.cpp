// TriPlanarInference on its own, wired into a small graph as another method would wire it.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <mutex>

#include <tbb/flow_graph.h>
#include <tbb/global_control.h>

#include "../../graphs/tri_planar_inference.hpp"
#include "../../pipeline/errors.hpp"
#include "../../stages/crop_with_frame.hpp"

using namespace c2f;
namespace flow = tbb::flow;

namespace {
// Predicts each slice's own voxel values: a view's averaged map is then the volume itself.
class Identity : public ViewInference {
 public:
  explicit Identity(int fail_on_call = -1) : fail_on_call_(fail_on_call) {}
  void predict(Scale, const SliceBatch& batch, std::vector<float>& p) override {
    if (calls_++ == fail_on_call_) throw std::runtime_error("device lost");
    p = batch.data;
  }
  std::string describe() const override { return "identity"; }

 private:
  int fail_on_call_;
  std::atomic<int> calls_{0};
};

// A volume whose voxel (x, y, z) holds a distinct value in [0, 1].
std::shared_ptr<const Volume<float>> ramp(const Index3& dims) {
  Geometry g;
  g.dims = dims;
  auto v = std::make_shared<Volume<float>>(g);
  for (std::int64_t n = 0; n < v->size(); ++n) v->data()[n] = float(n) / float(v->size());
  return v;
}

// Runs requests through the subgraph alone; returns its answers by key.
std::map<std::pair<std::size_t, int>, ViewMaps> run(const std::vector<ViewRequest>& requests, ViewInference& net,
                                                    const TriPlanarOptions& options) {
  flow::graph g;
  TriPlanarInference tri_planar(g, net, options);
  std::mutex m;
  std::map<std::pair<std::size_t, int>, ViewMaps> answers;
  flow::function_node<ViewMaps> collect(g, flow::serial, [&](const ViewMaps& v) {
    std::lock_guard lock(m);
    answers[{v.key.case_index, v.key.iteration}] = v;
  });
  flow::make_edge(flow::output_port<0>(tri_planar), collect);
  for (const ViewRequest& r : requests) flow::input_port<0>(tri_planar).try_put(r);
  g.wait_for_all();
  const auto times = tri_planar.stage_times();
  REQUIRE(times.size() == 4);
  CHECK(times[2].stage == "infer");
  return answers;
}
}  // namespace

TEST_CASE("TriPlanarInference: each view's map over the region, for many requests at once, at 1, 2 and 8 threads") {
  const auto volume = ramp({20, 16, 12});
  const Box3 region{{3, 2, 1}, {17, 13, 10}};
  const ProbabilityMap expected = crop(*volume, region);
  for (int threads : {1, 2, 8}) {
    CAPTURE(threads);
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, std::size_t(threads));
    std::vector<ViewRequest> requests;
    for (std::size_t c = 0; c < 3; ++c)
      for (int t = 0; t < 3; ++t) requests.push_back({{c, t}, Scale::Fine, region, volume, nullptr});
    Identity net;
    const auto answers = run(requests, net, {3, 2});
    REQUIRE(answers.size() == requests.size());
    for (const auto& [key, v] : answers) {
      CHECK(v.error.empty());
      for (const auto& map : v.maps) {
        REQUIRE(map);
        REQUIRE(map->dims() == expected.dims());
        bool same = true;
        for (std::int64_t n = 0; n < map->size(); ++n) same = same && std::abs(map->data()[n] - expected.data()[n]) < 1e-6f;
        CHECK(same);
      }
    }
  }
}

TEST_CASE("TriPlanarInference: a pass that throws fails its own request alone, and every batch token comes back") {
  const auto volume = ramp({16, 16, 8});
  std::vector<ViewRequest> requests;
  for (std::size_t c = 0; c < 4; ++c) requests.push_back({{c, 0}, Scale::Coarse, Box3::whole(volume->dims()), volume, nullptr});
  Identity net(/*fail_on_call=*/5);
  const auto answers = run(requests, net, {4, 1});  // one batch in flight: a lost token would hang here
  REQUIRE(answers.size() == 4);
  int failed = 0;
  for (const auto& [key, v] : answers)
    if (!v.error.empty()) {
      ++failed;
      CHECK(v.error.find("the infer stage failed: device lost") == 0);
    }
  CHECK(failed == 1);
}

TEST_CASE("TriPlanarInference options are checked before anything runs") {
  flow::graph g;
  Identity net;
  CHECK_THROWS_AS(TriPlanarInference(g, net, {0, 4}), OptionError);
  CHECK_THROWS_AS(TriPlanarInference(g, net, {8, 0}), OptionError);
}
