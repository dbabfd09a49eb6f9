#include "candidate_regions.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/ml.hpp>

#include "../pipeline/atomic_file.hpp"
#include "../pipeline/errors.hpp"
#include "../pipeline/random.hpp"

namespace c2f {

namespace {

// Windowed intensities above this are contrast-filled vessels, bone or calyces (about 190 HU in
// the default [-100, 240] window); at or below 0 they are fat or air.
constexpr float kBright = 0.85f;
constexpr const char* kFormat = "c2f-deeporgan-candidate-cascade";
constexpr int kFormatVersion = 1;

// Context is measured on a coarse grid of about kContextCellMm cells (block means), where 3-D
// box sums are cheap: a 512 x 512 x 250 scan becomes about 100 x 100 x 60 cells.
constexpr double kContextCellMm = 4.0;
// In-plane half-sizes of the context boxes around a superpixel's centre, and of the 3-D box.
constexpr std::array<double, 3> kRingHalfMm{8.0, 20.0, 50.0};
constexpr double kSlab3dHalfMm = 20.0, kSlab3dHalfZMm = 12.0;
// Four boxes beside the superpixel (left, right, anterior, posterior) at this offset.
constexpr double kSideOffsetMm = 25.0, kSideHalfMm = 10.0;

const std::vector<std::string>& feature_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n{"mean", "sd", "p10", "p25", "p50", "p75", "p90", "share_fat_air", "share_bright",
                               "area_mm2", "width_mm", "height_mm",
                               "body_x_rel", "body_y_rel", "body_dx_mm", "body_dy_mm", "z_rel"};
    for (double r : kRingHalfMm)
      for (const char* what : {"mean", "fat_air", "bright"}) n.push_back(fmt::format("ring{}mm_{}", int(r), what));
    for (const char* what : {"mean", "fat_air", "bright"}) n.push_back(fmt::format("slab3d_{}", what));
    for (const char* side : {"right", "left", "anterior", "posterior"}) n.push_back(fmt::format("side_{}_mean", side));
    return n;
  }();
  return names;
}

// 3-D summed-area tables of the coarse grid: intensity, fat/air share, bright share.
struct ContextGrid {
  Index3 cell{1, 1, 1};  // voxels per cell along x, y, z
  Index3 dims{0, 0, 0};  // cells
  Vec3 cell_mm{1, 1, 1};
  std::array<std::vector<double>, 3> table;  // (dims + 1) each, x fastest

  std::int64_t at(std::int64_t x, std::int64_t y, std::int64_t z) const {
    return x + (dims[0] + 1) * (y + (dims[1] + 1) * z);
  }
  // Means over the cell box [lo, hi) (clipped; an empty box gives zeros).
  std::array<float, 3> mean(Index3 lo, Index3 hi) const {
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::clamp<std::int64_t>(lo[a], 0, dims[a]);
      hi[a] = std::clamp<std::int64_t>(hi[a], 0, dims[a]);
      if (hi[a] <= lo[a]) return {0, 0, 0};
    }
    const double n = double((hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]));
    std::array<float, 3> out{};
    for (int c = 0; c < 3; ++c) {
      const auto& t = table[std::size_t(c)];
      const double s = t[at(hi[0], hi[1], hi[2])] - t[at(lo[0], hi[1], hi[2])] - t[at(hi[0], lo[1], hi[2])] -
                       t[at(hi[0], hi[1], lo[2])] + t[at(lo[0], lo[1], hi[2])] + t[at(lo[0], hi[1], lo[2])] +
                       t[at(hi[0], lo[1], lo[2])] - t[at(lo[0], lo[1], lo[2])];
      out[std::size_t(c)] = float(s / n);
    }
    return out;
  }
  // The box of half-sizes (mm) around a voxel position.
  std::array<float, 3> around(const Vec3& voxel, const Vec3& centre_offset_mm, const Vec3& half_mm,
                              const Geometry& g) const {
    Index3 lo{}, hi{};
    for (int a = 0; a < 3; ++a) {
      const double c = (voxel[a] + 0.5) / double(cell[a]) + centre_offset_mm[a] / cell_mm[a];
      const double h = std::max(0.5, half_mm[a] / cell_mm[a]);
      lo[a] = std::int64_t(std::floor(c - h));
      hi[a] = std::max(lo[a] + 1, std::int64_t(std::ceil(c + h)));
    }
    return mean(lo, hi);
  }
};

ContextGrid context_grid(const Volume<float>& v) {
  ContextGrid g;
  const Geometry& geo = v.geometry();
  for (int a = 0; a < 3; ++a) {
    g.cell[a] = std::max<std::int64_t>(1, std::llround(kContextCellMm / geo.spacing_mm[a]));
    g.dims[a] = (v.dims()[a] + g.cell[a] - 1) / g.cell[a];
    g.cell_mm[a] = double(g.cell[a]) * geo.spacing_mm[a];
  }
  const std::int64_t n = (g.dims[0] + 1) * (g.dims[1] + 1) * (g.dims[2] + 1);
  for (auto& t : g.table) t.assign(std::size_t(n), 0.0);
  // Block sums and counts, then means, written at (x+1, y+1, z+1) of the tables.
  std::vector<std::int64_t> counts(std::size_t(n), 0);
  for (std::int64_t z = 0; z < v.nz(); ++z)
    for (std::int64_t y = 0; y < v.ny(); ++y) {
      const float* row = v.data() + v.offset(0, y, z);
      const std::int64_t cy = y / g.cell[1] + 1, cz = z / g.cell[2] + 1;
      for (std::int64_t x = 0; x < v.nx(); ++x) {
        const float s = std::isfinite(row[x]) ? row[x] : 0.0f;
        const std::int64_t i = g.at(x / g.cell[0] + 1, cy, cz);
        g.table[0][std::size_t(i)] += s;
        g.table[1][std::size_t(i)] += s <= 0.0f ? 1.0 : 0.0;
        g.table[2][std::size_t(i)] += s >= kBright ? 1.0 : 0.0;
        ++counts[std::size_t(i)];
      }
    }
  for (auto& t : g.table) {
    for (std::size_t i = 0; i < t.size(); ++i)
      if (counts[i] > 0) t[i] /= double(counts[i]);
    // Prefix sums along x, then y, then z.
    for (std::int64_t z = 1; z <= g.dims[2]; ++z)
      for (std::int64_t y = 1; y <= g.dims[1]; ++y)
        for (std::int64_t x = 1; x <= g.dims[0]; ++x) t[std::size_t(g.at(x, y, z))] += t[std::size_t(g.at(x - 1, y, z))];
    for (std::int64_t z = 1; z <= g.dims[2]; ++z)
      for (std::int64_t y = 1; y <= g.dims[1]; ++y)
        for (std::int64_t x = 1; x <= g.dims[0]; ++x) t[std::size_t(g.at(x, y, z))] += t[std::size_t(g.at(x, y - 1, z))];
    for (std::int64_t z = 1; z <= g.dims[2]; ++z)
      for (std::int64_t y = 1; y <= g.dims[1]; ++y)
        for (std::int64_t x = 1; x <= g.dims[0]; ++x) t[std::size_t(g.at(x, y, z))] += t[std::size_t(g.at(x, y, z - 1))];
  }
  return g;
}

float percentile(std::vector<float>& v, double q) {
  const std::size_t k = std::min(v.size() - 1, std::size_t(q * double(v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(k), v.end());
  return v[k];
}

void check_grid(const Volume<float>& normalized, const Superpixels& sp, const char* who) {
  if (sp.labels.dims() != normalized.dims() || std::int64_t(sp.boxes.size()) != sp.count ||
      std::int64_t(sp.voxel_counts.size()) != sp.count || std::int64_t(sp.first_id.size()) != normalized.nz() + 1)
    throw std::invalid_argument(fmt::format("{}: the superpixels were not made on this volume's {}x{}x{} grid", who,
                                            normalized.nx(), normalized.ny(), normalized.nz()));
}

}  // namespace

std::vector<std::string> superpixel_feature_names() { return feature_names(); }

SuperpixelFeatures superpixel_features(const Volume<float>& normalized, const Superpixels& sp) {
  check_grid(normalized, sp, "superpixel_features");
  const Geometry& geo = normalized.geometry();
  const int width = int(feature_names().size());
  SuperpixelFeatures f;
  f.count = sp.count;
  f.width = width;
  f.values.assign(std::size_t(sp.count) * std::size_t(width), 0.0f);
  const ContextGrid context = context_grid(normalized);
  const std::int64_t nx = normalized.nx(), ny = normalized.ny(), nz = normalized.nz();
  const double pixel_mm2 = geo.spacing_mm[0] * geo.spacing_mm[1];

  cv::parallel_for_(cv::Range(0, int(nz)), [&](const cv::Range& r) {
    std::vector<std::int64_t> start;
    std::vector<float> values;
    std::vector<double> sum_x, sum_y;
    for (int z = r.start; z < r.end; ++z) {
      const std::int32_t first = sp.first_id[std::size_t(z)], n = sp.first_id[std::size_t(z) + 1] - first;
      if (n <= 0) continue;
      // The body's frame in this slice: mean and SD of the positions of voxels above fat.
      double bn = 0, bx = 0, by = 0, bxx = 0, byy = 0;
      const float* slice = normalized.data() + normalized.offset(0, 0, z);
      const std::int32_t* labels = sp.labels.data() + sp.labels.offset(0, 0, z);
      for (std::int64_t y = 0; y < ny; ++y)
        for (std::int64_t x = 0; x < nx; ++x)
          if (slice[x + nx * y] > 0.0f) {
            bn += 1, bx += double(x), by += double(y), bxx += double(x) * double(x), byy += double(y) * double(y);
          }
      double mx = 0.5 * double(nx - 1), my = 0.5 * double(ny - 1), sx = 0.25 * double(nx), sy = 0.25 * double(ny);
      if (bn >= 16) {
        mx = bx / bn, my = by / bn;
        sx = std::sqrt(std::max(1.0, bxx / bn - mx * mx)), sy = std::sqrt(std::max(1.0, byy / bn - my * my));
      }
      // Values grouped by superpixel (counting sort by id).
      start.assign(std::size_t(n) + 1, 0);
      for (std::int32_t s = 0; s < n; ++s) start[std::size_t(s) + 1] = start[std::size_t(s)] + sp.voxel_counts[std::size_t(first + s)];
      values.resize(std::size_t(start[std::size_t(n)]));
      sum_x.assign(std::size_t(n), 0.0);
      sum_y.assign(std::size_t(n), 0.0);
      std::vector<std::int64_t> fill(start.begin(), start.end() - 1);
      for (std::int64_t y = 0; y < ny; ++y)
        for (std::int64_t x = 0; x < nx; ++x) {
          const std::int64_t i = x + nx * y;
          const std::int32_t s = labels[i] - first;
          const float v = std::isfinite(slice[i]) ? slice[i] : 0.0f;
          values[std::size_t(fill[std::size_t(s)]++)] = v;
          sum_x[std::size_t(s)] += double(x), sum_y[std::size_t(s)] += double(y);
        }
      for (std::int32_t s = 0; s < n; ++s) {
        const std::int32_t id = first + s;
        float* row = f.values.data() + std::size_t(id) * std::size_t(width);
        std::vector<float> own(values.begin() + start[std::size_t(s)], values.begin() + start[std::size_t(s) + 1]);
        const double count = double(own.size());
        if (own.empty()) continue;
        double sum = 0, sq = 0, fat = 0, bright = 0;
        for (float v : own) sum += v, sq += double(v) * v, fat += v <= 0.0f, bright += v >= kBright;
        const double mean = sum / count;
        int k = 0;
        row[k++] = float(mean);
        row[k++] = float(std::sqrt(std::max(0.0, sq / count - mean * mean)));
        for (double q : {0.10, 0.25, 0.50, 0.75, 0.90}) row[k++] = percentile(own, q);
        row[k++] = float(fat / count);
        row[k++] = float(bright / count);
        const Box3& b = sp.boxes[std::size_t(id)];
        row[k++] = float(count * pixel_mm2);
        row[k++] = float(double(b.extent(0)) * geo.spacing_mm[0]);
        row[k++] = float(double(b.extent(1)) * geo.spacing_mm[1]);
        const double cx = sum_x[std::size_t(s)] / count, cy = sum_y[std::size_t(s)] / count;
        row[k++] = float((cx - mx) / sx);
        row[k++] = float((cy - my) / sy);
        row[k++] = float((cx - mx) * geo.spacing_mm[0]);
        row[k++] = float((cy - my) * geo.spacing_mm[1]);
        row[k++] = float((double(z) + 0.5) / double(nz));
        const Vec3 at{cx, cy, double(z)};
        for (double h : kRingHalfMm)
          for (float c : context.around(at, {0, 0, 0}, {h, h, 0.0}, geo)) row[k++] = c;
        for (float c : context.around(at, {0, 0, 0}, {kSlab3dHalfMm, kSlab3dHalfMm, kSlab3dHalfZMm}, geo)) row[k++] = c;
        for (Vec3 offset : {Vec3{kSideOffsetMm, 0, 0}, Vec3{-kSideOffsetMm, 0, 0}, Vec3{0, kSideOffsetMm, 0},
                            Vec3{0, -kSideOffsetMm, 0}})
          row[k++] = context.around(at, offset, {kSideHalfMm, kSideHalfMm, 0.0}, geo)[0];
      }
    }
  });
  return f;
}

void CandidateOptions::validate() const {
  if (trees < 1) throw OptionError(fmt::format("candidate cascade: {} trees: need at least 1", trees));
  if (max_depth < 1 || max_depth > 64) throw OptionError(fmt::format("candidate cascade: depth {} outside 1..64", max_depth));
  if (min_samples_leaf < 1) throw OptionError(fmt::format("candidate cascade: min samples {} below 1", min_samples_leaf));
  if (negatives_per_case < 1) throw OptionError(fmt::format("candidate cascade: {} negatives per case: need at least 1", negatives_per_case));
  for (double s : {level1_sensitivity, level2_sensitivity})
    if (!(s > 0.0 && s <= 1.0)) throw OptionError(fmt::format("candidate cascade: sensitivity {} outside (0, 1]", s));
  if (level2_sensitivity > level1_sensitivity)
    throw OptionError(fmt::format("candidate cascade: level 2's sensitivity {} above level 1's {}: level 2 cannot keep what level 1 dropped",
                                  level2_sensitivity, level1_sensitivity));
  if (calibration_folds < 2) throw OptionError(fmt::format("candidate cascade: {} calibration folds: need at least 2", calibration_folds));
}

CandidateSamples candidate_samples(const Volume<float>& normalized, const Superpixels& sp, const Mask& label,
                                   const CandidateOptions& options, std::uint64_t case_index) {
  options.validate();
  const SuperpixelFeatures all = superpixel_features(normalized, sp);
  const std::vector<float> fraction = superpixel_label_fraction(sp, label);
  CandidateSamples out;
  out.features.width = all.width;
  std::vector<std::int32_t> keep, others;
  for (std::int32_t s = 0; s < sp.count; ++s) {
    (fraction[std::size_t(s)] > 0.0f ? keep : others).push_back(s);
    out.pancreas_voxels += std::llround(double(fraction[std::size_t(s)]) * double(sp.voxel_counts[std::size_t(s)]));
  }
  // A partial Fisher-Yates shuffle with the portable generator: the same sample everywhere.
  std::uint64_t state = mix64(options.seed ^ mix64(case_index + 0x51u));
  const std::size_t take = std::min(others.size(), std::size_t(options.negatives_per_case));
  for (std::size_t i = 0; i < take; ++i) {
    state = mix64(state);
    std::swap(others[i], others[i + std::size_t(state % (others.size() - i))]);
  }
  keep.insert(keep.end(), others.begin(), others.begin() + std::ptrdiff_t(take));
  std::sort(keep.begin(), keep.end());
  out.features.count = std::int32_t(keep.size());
  out.features.values.reserve(keep.size() * std::size_t(all.width));
  for (auto s : keep) {
    const float* row = all.values.data() + std::size_t(s) * std::size_t(all.width);
    out.features.values.insert(out.features.values.end(), row, row + all.width);
    out.label_fraction.push_back(fraction[std::size_t(s)]);
    out.voxel_counts.push_back(sp.voxel_counts[std::size_t(s)]);
  }
  return out;
}

namespace {

// Rows of one level: features (+ level 1's probability for level 2), target, case, weight.
struct LevelData {
  int width = 0;
  std::vector<float> x;
  std::vector<int> y;                  // optimal superpixel label: > half pancreas
  std::vector<double> pancreas_voxels;  // per row
  std::vector<int> case_of;
  std::size_t rows() const { return y.size(); }
};

std::shared_ptr<cv::ml::RTrees> fit(const LevelData& d, const std::vector<std::size_t>& rows,
                                    const CandidateOptions& o, std::uint64_t salt) {
  // Balanced classes: every positive, as many negatives (at random, at least 1).
  std::vector<std::size_t> pos, neg;
  for (auto r : rows) (d.y[r] ? pos : neg).push_back(r);
  if (pos.empty() || neg.empty())
    throw std::invalid_argument(fmt::format(
        "candidate cascade: training needs superpixels of both classes (more than half pancreas, and not); got {} and {}",
        pos.size(), neg.size()));
  std::uint64_t state = mix64(o.seed ^ mix64(salt));
  const std::size_t take = std::min(neg.size(), std::max<std::size_t>(pos.size(), 1000));
  for (std::size_t i = 0; i < take; ++i) {
    state = mix64(state);
    std::swap(neg[i], neg[i + std::size_t(state % (neg.size() - i))]);
  }
  neg.resize(take);
  std::vector<std::size_t> chosen(pos);
  chosen.insert(chosen.end(), neg.begin(), neg.end());
  cv::Mat x(int(chosen.size()), d.width, CV_32F), y(int(chosen.size()), 1, CV_32S);
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    std::copy_n(d.x.data() + chosen[i] * std::size_t(d.width), d.width, x.ptr<float>(int(i)));
    y.at<int>(int(i)) = d.y[chosen[i]];
  }
  auto forest = cv::ml::RTrees::create();
  forest->setMaxDepth(o.max_depth);
  forest->setMinSampleCount(o.min_samples_leaf);
  forest->setRegressionAccuracy(0);
  forest->setUseSurrogates(false);
  forest->setMaxCategories(2);
  forest->setActiveVarCount(0);  // sqrt of the feature count
  forest->setCalculateVarImportance(false);
  forest->setTermCriteria(cv::TermCriteria(cv::TermCriteria::MAX_ITER, o.trees, 0));
  forest->train(cv::ml::TrainData::create(x, cv::ml::ROW_SAMPLE, y));
  return std::shared_ptr<cv::ml::RTrees>(forest.get(), [keep = forest](cv::ml::RTrees*) {});
}

// The share of trees voting pancreas, per row of x (width columns).
std::vector<float> forest_probability(const cv::ml::RTrees& forest, const float* x, std::size_t rows, int width) {
  std::vector<float> p(rows, 0.0f);
  if (rows == 0) return p;
  const cv::Mat samples(int(rows), width, CV_32F, const_cast<float*>(x));
  cv::Mat votes;
  forest.getVotes(samples, votes, 0);
  // Row 0 holds the class labels; each further row one sample's votes per class.
  int pancreas_col = -1;
  for (int c = 0; c < votes.cols; ++c)
    if (votes.at<int>(0, c) == 1) pancreas_col = c;
  for (std::size_t r = 0; r < rows; ++r) {
    double total = 0;
    for (int c = 0; c < votes.cols; ++c) total += votes.at<int>(int(r) + 1, c);
    if (pancreas_col >= 0 && total > 0) p[r] = float(votes.at<int>(int(r) + 1, pancreas_col) / total);
  }
  return p;
}

std::vector<float> forest_probability(const cv::ml::RTrees& forest, const LevelData& d, const std::vector<std::size_t>& rows) {
  std::vector<float> x(rows.size() * std::size_t(d.width));
  for (std::size_t i = 0; i < rows.size(); ++i)
    std::copy_n(d.x.data() + rows[i] * std::size_t(d.width), d.width, x.data() + i * std::size_t(d.width));
  return forest_probability(forest, x.data(), rows.size(), d.width);
}

// Probabilities of every row from forests that did not see its case (folds by case).
std::vector<float> cross_fitted(const LevelData& d, int cases, const CandidateOptions& o, std::uint64_t salt) {
  const int folds = std::min(o.calibration_folds, cases);
  std::vector<float> p(d.rows(), 0.0f);
  for (int fold = 0; fold < folds; ++fold) {
    std::vector<std::size_t> train, test;
    for (std::size_t r = 0; r < d.rows(); ++r) (d.case_of[r] % folds == fold ? test : train).push_back(r);
    if (test.empty()) continue;
    const auto forest = fit(d, train, o, salt + 101 * std::uint64_t(fold + 1));
    const auto q = forest_probability(*forest, d, test);
    for (std::size_t i = 0; i < test.size(); ++i) p[test[i]] = q[i];
  }
  return p;
}

// The highest cut that keeps at least `share` of total_pancreas voxels among rows with p >= cut.
float cut_keeping(const std::vector<float>& p, const std::vector<double>& pancreas, double total_pancreas, double share) {
  std::vector<std::size_t> order(p.size());
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return p[a] > p[b]; });
  double kept = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    kept += pancreas[order[i]];
    // Rows tied with the next one stay together: a cut cannot split them.
    if (kept >= share * total_pancreas && (i + 1 == order.size() || p[order[i + 1]] < p[order[i]])) return p[order[i]];
  }
  return 0.0f;  // even keeping everything falls short: keep everything
}

}  // namespace

CandidateCascade CandidateCascade::train(const std::vector<CandidateTrainingCase>& cases, const CandidateOptions& options) {
  std::vector<CandidateSamples> samples;
  samples.reserve(cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    if (!c.normalized || !c.superpixels || !c.label)
      throw std::invalid_argument(fmt::format("candidate cascade: training case {} lacks its volume, superpixels or label", i));
    samples.push_back(candidate_samples(*c.normalized, *c.superpixels, *c.label, options, i));
  }
  return train(samples, options);
}

CandidateCascade CandidateCascade::train(const std::vector<CandidateSamples>& cases, const CandidateOptions& options) {
  options.validate();
  if (cases.empty()) throw std::invalid_argument("candidate cascade: no training cases");
  const int width = int(feature_names().size());
  LevelData level1;
  level1.width = width;
  double total_pancreas = 0;
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const auto& s = cases[c];
    if (s.features.width != width || s.features.values.size() != std::size_t(s.features.count) * std::size_t(width) ||
        s.label_fraction.size() != std::size_t(s.features.count) || s.voxel_counts.size() != std::size_t(s.features.count))
      throw std::invalid_argument(fmt::format("candidate cascade: training case {} has malformed samples", c));
    level1.x.insert(level1.x.end(), s.features.values.begin(), s.features.values.end());
    for (std::int32_t r = 0; r < s.features.count; ++r) {
      level1.y.push_back(s.label_fraction[std::size_t(r)] > 0.5f ? 1 : 0);
      level1.pancreas_voxels.push_back(double(s.label_fraction[std::size_t(r)]) * double(s.voxel_counts[std::size_t(r)]));
      level1.case_of.push_back(int(c));
    }
    total_pancreas += double(s.pancreas_voxels);
  }
  if (total_pancreas <= 0) throw std::invalid_argument("candidate cascade: the training cases hold no pancreas");

  CandidateCascade cascade;
  cascade.options_ = options;
  const int n_cases = int(cases.size());
  std::vector<std::size_t> all(level1.rows());
  std::iota(all.begin(), all.end(), std::size_t(0));

  // Level 1: cut on probabilities of cases the deciding forest did not see (with one case, its own).
  const auto p1 = n_cases >= 2 ? cross_fitted(level1, n_cases, options, 1) : std::vector<float>{};
  cascade.level1_ = fit(level1, all, options, 1);
  const auto p1_used = n_cases >= 2 ? p1 : forest_probability(*cascade.level1_, level1, all);
  cascade.level1_cut_ = cut_keeping(p1_used, level1.pancreas_voxels, total_pancreas, options.level1_sensitivity);

  // Level 2: the survivors of level 1, with level 1's probability as one more feature.
  LevelData level2;
  level2.width = width + 1;
  for (std::size_t r = 0; r < level1.rows(); ++r) {
    if (p1_used[r] < cascade.level1_cut_) continue;
    level2.x.insert(level2.x.end(), level1.x.begin() + std::ptrdiff_t(r * std::size_t(width)),
                    level1.x.begin() + std::ptrdiff_t((r + 1) * std::size_t(width)));
    level2.x.push_back(p1_used[r]);
    level2.y.push_back(level1.y[r]);
    level2.pancreas_voxels.push_back(level1.pancreas_voxels[r]);
    level2.case_of.push_back(level1.case_of[r]);
  }
  std::vector<std::size_t> survivors(level2.rows());
  std::iota(survivors.begin(), survivors.end(), std::size_t(0));
  const auto p2 = n_cases >= 2 ? cross_fitted(level2, n_cases, options, 2) : std::vector<float>{};
  cascade.level2_ = fit(level2, survivors, options, 2);
  const auto p2_used = n_cases >= 2 ? p2 : forest_probability(*cascade.level2_, level2, survivors);
  cascade.level2_cut_ = cut_keeping(p2_used, level2.pancreas_voxels, total_pancreas, options.level2_sensitivity);
  return cascade;
}

CandidateRegions CandidateCascade::candidates(const Volume<float>& normalized, const Superpixels& sp) const {
  check_grid(normalized, sp, "candidate cascade");
  return candidates(superpixel_features(normalized, sp), sp);
}

CandidateRegions CandidateCascade::candidates(const SuperpixelFeatures& f, const Superpixels& sp) const {
  if (!level1_ || !level2_) throw std::logic_error("candidate cascade: not trained or loaded");
  const int width = int(feature_names().size());
  if (f.width != width || f.count != sp.count || f.values.size() != std::size_t(f.count) * std::size_t(width))
    throw std::invalid_argument(fmt::format("candidate cascade: features of {} superpixels x {} do not match {} superpixels x {}",
                                            f.count, f.width, sp.count, width));
  CandidateRegions out;
  out.level1_probability = forest_probability(*level1_, f.values.data(), std::size_t(f.count), width);
  out.probability.assign(std::size_t(f.count), 0.0f);
  std::vector<std::int32_t> survivors;
  for (std::int32_t s = 0; s < f.count; ++s)
    if (out.level1_probability[std::size_t(s)] >= level1_cut_) survivors.push_back(s);
  std::vector<float> x2;
  x2.reserve(survivors.size() * std::size_t(width + 1));
  for (auto s : survivors) {
    const float* row = f.values.data() + std::size_t(s) * std::size_t(width);
    x2.insert(x2.end(), row, row + width);
    x2.push_back(out.level1_probability[std::size_t(s)]);
  }
  const auto p2 = forest_probability(*level2_, x2.data(), survivors.size(), width + 1);
  for (std::size_t i = 0; i < survivors.size(); ++i) {
    out.probability[std::size_t(survivors[i])] = p2[i];
    if (p2[i] >= level2_cut_) out.ids.push_back(survivors[i]);
  }
  out.mask = superpixel_mask(sp, out.ids);
  return out;
}

void CandidateCascade::save(const std::filesystem::path& path) const {
  if (!level1_ || !level2_) throw std::logic_error("candidate cascade: nothing to save (not trained or loaded)");
  write_atomically(path, [&](const std::filesystem::path& tmp) {
    cv::FileStorage fs(tmp.string(), cv::FileStorage::WRITE);
    if (!fs.isOpened()) throw OutputError(tmp.string(), "cannot be opened for writing");
    fs << "format" << kFormat << "version" << kFormatVersion;
    fs << "features" << int(feature_names().size());
    fs << "trees" << options_.trees << "max_depth" << options_.max_depth << "min_samples_leaf" << options_.min_samples_leaf;
    fs << "negatives_per_case" << options_.negatives_per_case << "calibration_folds" << options_.calibration_folds;
    fs << "level1_sensitivity" << options_.level1_sensitivity << "level2_sensitivity" << options_.level2_sensitivity;
    fs << "seed" << std::to_string(options_.seed);
    fs << "level1_cut" << level1_cut_ << "level2_cut" << level2_cut_;
    fs << "level1" << "{";
    level1_->write(fs);
    fs << "}";
    fs << "level2" << "{";
    level2_->write(fs);
    fs << "}";
    fs.release();
  });
}

CandidateCascade CandidateCascade::load(const std::filesystem::path& path) {
  const std::string name = path.string();
  if (!std::filesystem::is_regular_file(path)) throw InputError(name, "no such candidate cascade file");
  try {
    cv::FileStorage fs(name, cv::FileStorage::READ);
    if (!fs.isOpened()) throw InputError(name, "cannot be read as a candidate cascade (not OpenCV YAML/XML)");
    if (fs["format"].empty() || std::string(fs["format"]) != kFormat)
      throw InputError(name, fmt::format("not a DeepOrgan candidate cascade (format field is not '{}')", kFormat));
    if (int(fs["version"]) != kFormatVersion)
      throw InputError(name, fmt::format("candidate cascade version {} (this build reads {})", int(fs["version"]), kFormatVersion));
    const int width = int(feature_names().size());
    if (int(fs["features"]) != width)
      throw InputError(name, fmt::format("candidate cascade of {} features (this build computes {})", int(fs["features"]), width));
    CandidateCascade c;
    c.options_.trees = int(fs["trees"]);
    c.options_.max_depth = int(fs["max_depth"]);
    c.options_.min_samples_leaf = int(fs["min_samples_leaf"]);
    c.options_.negatives_per_case = int(fs["negatives_per_case"]);
    c.options_.calibration_folds = int(fs["calibration_folds"]);
    c.options_.level1_sensitivity = double(fs["level1_sensitivity"]);
    c.options_.level2_sensitivity = double(fs["level2_sensitivity"]);
    c.options_.seed = std::stoull(std::string(fs["seed"]));
    c.level1_cut_ = float(fs["level1_cut"]);
    c.level2_cut_ = float(fs["level2_cut"]);
    if (!std::isfinite(c.level1_cut_) || !std::isfinite(c.level2_cut_) || c.level1_cut_ < 0 || c.level1_cut_ > 1 ||
        c.level2_cut_ < 0 || c.level2_cut_ > 1)
      throw InputError(name, "candidate cascade cuts outside [0, 1]");
    for (auto [key, forest, expected] : {std::tuple{"level1", &c.level1_, width}, std::tuple{"level2", &c.level2_, width + 1}}) {
      const cv::FileNode node = fs[key];
      if (node.empty() || !node.isMap()) throw InputError(name, fmt::format("candidate cascade without its {} forest", key));
      auto f = cv::ml::RTrees::create();
      f->read(node);
      if (!f->isTrained() || f->getRoots().empty() || f->getVarCount() != expected)
        throw InputError(name, fmt::format("candidate cascade's {} forest is damaged or of another shape", key));
      *forest = std::shared_ptr<cv::ml::RTrees>(f.get(), [keep = f](cv::ml::RTrees*) {});
    }
    return c;
  } catch (const cv::Exception& e) {
    throw InputError(name, fmt::format("damaged candidate cascade file: {}", e.err));
  } catch (const std::invalid_argument&) {
    throw InputError(name, "damaged candidate cascade file (a field is not a number)");
  } catch (const std::out_of_range&) {
    throw InputError(name, "damaged candidate cascade file (a field is out of range)");
  }
}

}  // namespace c2f
