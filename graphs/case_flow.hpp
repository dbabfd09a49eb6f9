#pragma once
// What every segmentation wiring has around its method's own steps: cases in, at most N in
// flight; load; a throwing stage fails its case alone, with one error naming the case and the
// stage; write, which hands the case's token back; each stage's busy time for the report.
// segmentation_graph.cpp (coarse-to-fine) and deeporgan_graph.cpp wire their steps between
// loaded() and write(); a user's own method can do the same.
//
//   struct CaseOf {  // how each message names its case
//     static const CaseInput& of(const CaseInput& c) { return c; }
//     static const CaseInput& of(const MyMessage& m) { return *m.input; }
//   };
//   CaseFlow<CaseOf> cases(g, kStageNames, {kLoad, kWrite, "my-method"}, count, in_flight, load, sink);
//   auto mine = cases.step<MyMessage, CaseInput>(flow::unlimited, kMine, [&](const CaseInput& c) { ... });
//   flow::make_edge(cases.loaded(), mine);  ...  flow::make_edge(last, cases.write());
//   cases.run();
#include <tbb/flow_graph.h>

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "../pipeline/errors.hpp"
#include "../pipeline/stage_time.hpp"
#include "messages.hpp"
#include "segmentation_graph.hpp"

namespace c2f {

// What Write receives: a finished or failed case. The result travels by pointer, handed from
// node to node with one holder at a time, because it holds the case's masks.
struct CaseDone {
  std::shared_ptr<CaseResult> result;
  std::shared_ptr<const CaseStageTimes> times;
  StageClock::time_point start;
};

// A failure a stage already described ("the infer stage failed: ..."): only the case is added.
class StageFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The wiring's stages, in report order; a stage is its index here.
using StageNames = std::span<const char* const>;

struct CaseFlowStages {
  int load = 0, write = 0;  // indices in StageNames
  std::string method;       // CaseResult::method of a failed case
};

template <class CaseOf>
class CaseFlow {
 public:
  template <class In, class Out>
  using StepNode = tbb::flow::multifunction_node<In, std::tuple<Out>>;

  CaseFlow(tbb::flow::graph& g, StageNames names, CaseFlowStages stages, std::size_t count, int cases_in_flight,
           const CaseLoader& load, const ResultSink& sink)
      : g_(g),
        names_(names),
        stages_(std::move(stages)),
        clocks_(std::make_unique<BusyClock[]>(names.size())),
        failures_(g),
        source_(g,
                [this, count](tbb::flow_control& fc) -> std::size_t {
                  if (next_ < count) return next_++;
                  fc.stop();
                  return 0;
                }),
        in_flight_(g, cases_in_flight),
        load_(g, tbb::flow::unlimited,
              [this, &load](const std::size_t& i, typename StepNode<std::size_t, CaseInput>::output_ports_type& out) {
                CaseInput c;
                c.index = i;
                c.start = StageClock::now();
                if (guard(stages_.load, c, [&] { c.input = load(i); })) std::get<0>(out).try_put(std::move(c));
              }),
        write_(g, tbb::flow::serial, [this, &sink](const CaseDone& d) {
          CaseResult& r = *d.result;
          failed_ += !r.error.empty();
          r.seconds = seconds_since(d.start);  // up to the write, which the sink itself does
          r.stage_seconds = d.times->snapshot();
          const auto t0 = StageClock::now();
          sink(std::move(r));
          clocks_[std::size_t(stages_.write)].add(t0);
          return 1;  // a case token back
        }) {
    tbb::flow::make_edge(source_, in_flight_);
    tbb::flow::make_edge(in_flight_, load_);
    tbb::flow::make_edge(failures_, write_);
    tbb::flow::make_edge(write_, in_flight_.decrementer());
  }
  CaseFlow(const CaseFlow&) = delete;
  CaseFlow& operator=(const CaseFlow&) = delete;

  // Sends each loaded case; receives each finished one.
  auto& loaded() { return load_; }
  tbb::flow::receiver<CaseDone>& write() { return write_; }

  // Runs `body` as stage s of message `in`'s case, timed for the graph's and the case's account.
  // A throw fails that case, once: later failures of the same case (its other chunks, views)
  // are dropped, so Write sees one result per case.
  template <class In, class Body>
  bool guard(int s, const In& in, Body&& body) const {
    const CaseInput& c = CaseOf::of(in);
    const auto t0 = StageClock::now();
    std::string error;
    try {
      body();
    } catch (const InputError& e) {  // bad input names its file already
      error = e.what();
    } catch (const StageFailed& e) {
      error = fmt::format("{}: {}", c.name(), e.what());
    } catch (const std::exception& e) {
      error = fmt::format("{}: the {} stage failed: {}", c.name(), names_[std::size_t(s)], e.what());
    } catch (...) {
      error = fmt::format("{}: the {} stage failed: an unknown exception", c.name(), names_[std::size_t(s)]);
    }
    c.times->add(names_[std::size_t(s)], clocks_[std::size_t(s)].add(t0));
    if (error.empty()) return true;
    {
      std::lock_guard lock(failed_m_);
      if (!failed_cases_.insert(c.index).second) return false;
    }
    auto r = std::make_shared<CaseResult>();
    r->index = c.index;
    r->input = c.input;
    r->method = stages_.method;
    r->error = std::move(error);
    failures_.try_put(CaseDone{r, c.times, c.start});
    return false;
  }

  // Whether the case already failed: work still queued for it may be skipped.
  bool failed(std::size_t index) const {
    std::lock_guard lock(failed_m_);
    return failed_cases_.count(index) > 0;
  }

  // A node running stage s on each message: In -> Out, or the case's failure.
  template <class Out, class In, class Body>
  StepNode<In, Out> step(std::size_t concurrency, int s, Body body) {
    return StepNode<In, Out>(g_, concurrency, [this, s, body](const In& in, typename StepNode<In, Out>::output_ports_type& out) {
      std::optional<Out> result;
      if (guard(s, in, [&] { result.emplace(body(in)); })) std::get<0>(out).try_put(std::move(*result));
    });
  }

  // Starts the cases and waits for the last one's write.
  void run() {
    source_.activate();
    g_.wait_for_all();
  }

  std::size_t failed_cases() const { return failed_; }
  StageTime stage_time(int s) const { return clocks_[std::size_t(s)].report(names_[std::size_t(s)]); }

 private:
  tbb::flow::graph& g_;
  StageNames names_;
  CaseFlowStages stages_;
  std::unique_ptr<BusyClock[]> clocks_;
  std::size_t next_ = 0, failed_ = 0;  // the source's and Write's (both serial)
  mutable std::mutex failed_m_;
  mutable std::set<std::size_t> failed_cases_;
  mutable tbb::flow::broadcast_node<CaseDone> failures_;
  tbb::flow::input_node<std::size_t> source_;
  tbb::flow::limiter_node<std::size_t, int> in_flight_;
  StepNode<std::size_t, CaseInput> load_;
  tbb::flow::function_node<CaseDone, int> write_;
};

}  // namespace c2f
