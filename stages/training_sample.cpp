#include "c2f/stages/training_sample.hpp"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "c2f/pipeline/errors.hpp"
#include "c2f/pipeline/random.hpp"
#include "c2f/stages/bounding_box.hpp"
#include "c2f/stages/three_slice.hpp"

namespace c2f {

const char* scale_name(Scale s) { return s == Scale::Coarse ? "coarse" : "fine"; }

Scale parse_scale(std::string_view name) {
  if (name == "coarse") return Scale::Coarse;
  if (name == "fine") return Scale::Fine;
  throw OptionError("unknown scale '" + std::string(name) + "' (expected coarse or fine)");
}

PreparedCase prepare_case(const Case& c, const WindowOptions& window) {
  if (!c.label) throw InputError(c.source, "case " + c.id + " has no label to train on");
  PreparedCase p;
  p.id = c.id;
  p.image = std::make_shared<const Volume<float>>(window_normalize(*c.image, window));
  p.label = c.label;
  p.truth_box = bounding_box(*c.label);
  return p;
}

namespace {
std::uint64_t mix(std::uint64_t z) { return mix64(z); }
}  // namespace

SamplePlan::SamplePlan(const std::vector<PreparedCase>& cases, View view, Scale scale, std::uint64_t seed,
                       const CoarseSampleOptions& coarse)
    : view_(view), seed_(seed) {
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto slices = scale == Scale::Coarse ? coarse_slices(*cases[i].label, view, coarse)
                        : cases[i].truth_box.empty() ? std::vector<std::int64_t>{}
                                                      : fine_slices(cases[i].truth_box, view);
    for (auto k : slices) pairs_.push_back({i, k});
  }
  if (pairs_.empty())
    throw OptionError(fmt::format("no {} training samples for the {} view: no case has enough pancreas", scale_name(scale),
                                  view_name(view)));
}

SampleRequest SamplePlan::at(std::int64_t iteration) const {
  // Epoch e visits every pair once in the order of a Fisher-Yates shuffle seeded by (seed, e).
  const std::int64_t n = std::int64_t(pairs_.size());
  const std::int64_t epoch = iteration / n, index = iteration % n;
  std::vector<std::uint32_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0u);
  std::uint64_t state = mix(seed_ ^ mix(std::uint64_t(epoch) + 1));
  for (std::int64_t i = n - 1; i > 0; --i) {
    state = mix(state);
    std::swap(order[std::size_t(i)], order[std::size_t(state % std::uint64_t(i + 1))]);
  }
  const Pair& p = pairs_[order[std::size_t(index)]];
  return {iteration, p.case_index, view_, p.slice, mix(seed_ * 31 + std::uint64_t(iteration))};
}

TrainingSample make_training_sample(const PreparedCase& c, const SampleRequest& r, Scale scale, const FineSampleOptions& fine) {
  const Rect rect = scale == Scale::Coarse ? slice_rect(c.image->dims(), r.view)
                                           : fine_crop(c.truth_box, c.image->dims(), r.view, r.crop_seed, fine).rect;
  TrainingSample s;
  s.iteration = r.iteration;
  s.case_id = c.id;
  s.view = r.view;
  s.slice = r.slice;
  s.height = rect.height();
  s.width = rect.width();
  s.image = three_slice(*c.image, r.view, r.slice, rect).data;
  const auto label = three_slice(*c.label, r.view, r.slice, rect).data;
  s.label.assign(label.begin(), label.end());
  return s;
}

}  // namespace c2f
