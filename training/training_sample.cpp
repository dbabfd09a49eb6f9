#include "training_sample.hpp"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "../pipeline/errors.hpp"
#include "../pipeline/random.hpp"
#include "../stages/bounding_box.hpp"
#include "case_cache.hpp"
#include "../stages/three_slice.hpp"

namespace c2f {

namespace {
const Mask& training_label(const Case& c) {
  if (!c.label) throw InputError(c.source, "case " + c.id + " has no label to train on");
  return *c.label;
}
}  // namespace

PreparedCase prepare_case(const Case& c, const WindowOptions& window) {
  training_label(c);
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

CaseSummary summarize_case(const std::string& id, const Mask& label, const CoarseSampleOptions& coarse) {
  CaseSummary s;
  s.id = id;
  s.dims = label.dims();
  s.truth_box = bounding_box(label);
  for (View v : kViews) s.coarse_slices[std::size_t(slice_axis(v))] = coarse_slices(label, v, coarse);
  return s;
}

CaseSummary summarize_case(const Case& c, const CoarseSampleOptions& coarse) {
  return summarize_case(c.id, training_label(c), coarse);
}

CaseSummary summarize_case(const PreparedCase& c, const CoarseSampleOptions& coarse) {
  return summarize_case(c.id, *c.label, coarse);
}

SamplePlan::SamplePlan(const std::vector<CaseSummary>& cases, View view, Scale scale, std::uint64_t seed,
                       std::size_t cases_per_block, int fine_slice_margin)
    : view_(view), seed_(seed), block_(std::max<std::size_t>(1, cases_per_block)) {
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto slices = scale == Scale::Coarse ? cases[i].coarse_slices[std::size_t(slice_axis(view))]
                        : cases[i].truth_box.empty() ? std::vector<std::int64_t>{}
                                                      : fine_slices(cases[i].truth_box, view,
                                                                    cases[i].dims[std::size_t(slice_axis(view))],
                                                                    fine_slice_margin);
    first_pair_.push_back(pairs_.size());
    pair_count_.push_back(slices.size());
    for (auto k : slices) pairs_.push_back({i, k});
  }
  if (pairs_.empty())
    throw OptionError(fmt::format("no {} training samples for the {} view: no case has enough pancreas", scale_name(scale),
                                  view_name(view)));
}

namespace {
// Fisher-Yates over `order`, driven by splitmix64 from `state`.
void shuffle(std::vector<std::uint32_t>& order, std::uint64_t state) {
  for (std::size_t i = order.size(); i-- > 1;) {
    state = mix(state);
    std::swap(order[i], order[std::size_t(state % std::uint64_t(i + 1))]);
  }
}
}  // namespace

SampleRequest SamplePlan::at(std::int64_t iteration) const {
  const std::int64_t n = std::int64_t(pairs_.size());
  const std::int64_t epoch = iteration / n;
  std::size_t index = std::size_t(iteration % n);
  const std::uint64_t epoch_state = mix(seed_ ^ mix(std::uint64_t(epoch) + 1));
  std::vector<std::uint32_t> order;  // pair indices of the block that holds `index`
  if (block_ >= pair_count_.size()) {
    // Every case fits: one shuffle of all pairs.
    order.resize(pairs_.size());
    std::iota(order.begin(), order.end(), 0u);
    shuffle(order, epoch_state);
  } else {
    // Cases in a random order, cut into blocks; the pairs of a block shuffled among themselves.
    std::vector<std::uint32_t> cases(pair_count_.size());
    std::iota(cases.begin(), cases.end(), 0u);
    shuffle(cases, epoch_state ^ 0xC45E5ULL);
    for (std::size_t start = 0, b = 0; start < cases.size(); start += block_, ++b) {
      std::size_t count = 0;
      for (std::size_t c = start; c < std::min(cases.size(), start + block_); ++c) count += pair_count_[cases[c]];
      if (index >= count) {
        index -= count;
        continue;
      }
      for (std::size_t c = start; c < std::min(cases.size(), start + block_); ++c)
        for (std::size_t p = 0; p < pair_count_[cases[c]]; ++p) order.push_back(std::uint32_t(first_pair_[cases[c]] + p));
      shuffle(order, epoch_state ^ mix(b + 7));
      break;
    }
  }
  const Pair& p = pairs_[order[index]];
  return {iteration, p.case_index, view_, p.slice, mix(seed_ * 31 + std::uint64_t(iteration))};
}

TrainingSample TrainingSampleMaker::operator()(const SampleRequest& r) const {
  const auto c = cases->get(r.case_index);
  TrainingSample s = make_training_sample(*c, r, scale, fine);
  if (randomize.options.any()) randomize(s, mix64(r.crop_seed ^ 0xD0A1D0A1ULL));
  return s;
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
