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
// Boxes around the superpixel in eight in-plane directions at three distances, and above and
// below it: where the spine, aorta, liver, kidneys and bowel lie relative to a superpixel tells
// pancreas from look-alike soft tissue (the "context" features of auto-context and Farag et al.).
constexpr double kSideHalfMm = 6.0;
constexpr std::array<double, 3> kSideOffsetMm{15.0, 30.0, 60.0};
constexpr std::array<double, 2> kAboveBelowMm{15.0, 30.0};

const std::vector<std::string>& feature_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n{"mean",       "sd",        "p10",           "p25",          "p50",
                               "p75",        "p90",       "share_fat_air", "share_bright", "area_mm2",
                               "width_mm",   "height_mm", "body_x_rel",    "body_y_rel",   "body_dx_mm",
                               "body_dy_mm", "z_rel"};
    for (double r : kRingHalfMm)
      for (const char* what : {"mean", "fat_air", "bright"}) n.push_back(fmt::format("ring{}mm_{}", int(r), what));
    for (const char* what : {"mean", "fat_air", "bright"}) n.push_back(fmt::format("slab3d_{}", what));
    for (double d : kSideOffsetMm)
      for (int k = 0; k < 8; ++k) n.push_back(fmt::format("side{}mm_{}deg_mean", int(d), 45 * k));
    for (double d : kAboveBelowMm) {
      n.push_back(fmt::format("above{}mm_mean", int(d)));
      n.push_back(fmt::format("below{}mm_mean", int(d)));
    }
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

// Block means of value(offset) (and of its fat/air and bright shares) on the coarse grid, as
// summed-area tables.
template <class Value>
ContextGrid context_grid(const Geometry& geo, Value value) {
  ContextGrid g;
  for (int a = 0; a < 3; ++a) {
    g.cell[a] = std::max<std::int64_t>(1, std::llround(kContextCellMm / geo.spacing_mm[a]));
    g.dims[a] = (geo.dims[a] + g.cell[a] - 1) / g.cell[a];
    g.cell_mm[a] = double(g.cell[a]) * geo.spacing_mm[a];
  }
  const std::int64_t n = (g.dims[0] + 1) * (g.dims[1] + 1) * (g.dims[2] + 1);
  for (auto& t : g.table) t.assign(std::size_t(n), 0.0);
  // Block sums and counts, then means, written at (x+1, y+1, z+1) of the tables.
  std::vector<std::int64_t> counts(std::size_t(n), 0);
  const std::int64_t nx = geo.dims[0], ny = geo.dims[1];
  for (std::int64_t z = 0; z < geo.dims[2]; ++z)
    for (std::int64_t y = 0; y < ny; ++y) {
      const std::int64_t cy = y / g.cell[1] + 1, cz = z / g.cell[2] + 1, row = nx * (y + ny * z);
      for (std::int64_t x = 0; x < nx; ++x) {
        const float raw = value(row + x);
        const float s = std::isfinite(raw) ? raw : 0.0f;
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
        for (std::int64_t x = 1; x <= g.dims[0]; ++x)
          t[std::size_t(g.at(x, y, z))] += t[std::size_t(g.at(x - 1, y, z))];
    for (std::int64_t z = 1; z <= g.dims[2]; ++z)
      for (std::int64_t y = 1; y <= g.dims[1]; ++y)
        for (std::int64_t x = 1; x <= g.dims[0]; ++x)
          t[std::size_t(g.at(x, y, z))] += t[std::size_t(g.at(x, y - 1, z))];
    for (std::int64_t z = 1; z <= g.dims[2]; ++z)
      for (std::int64_t y = 1; y <= g.dims[1]; ++y)
        for (std::int64_t x = 1; x <= g.dims[0]; ++x)
          t[std::size_t(g.at(x, y, z))] += t[std::size_t(g.at(x, y, z - 1))];
  }
  return g;
}

// Each superpixel's centroid (voxel coordinates).
std::vector<Vec3> centroids(const Superpixels& sp) {
  std::vector<Vec3> c(std::size_t(sp.count), Vec3{0, 0, 0});
  const std::int64_t nx = sp.labels.nx(), ny = sp.labels.ny();
  for (std::int64_t z = 0; z < sp.labels.nz(); ++z)
    for (std::int64_t y = 0; y < ny; ++y) {
      const std::int32_t* row = sp.labels.data() + sp.labels.offset(0, y, z);
      for (std::int64_t x = 0; x < nx; ++x) {
        Vec3& v = c[std::size_t(row[x])];
        v[0] += double(x), v[1] += double(y), v[2] += double(z);
      }
    }
  for (std::size_t s = 0; s < c.size(); ++s)
    for (int a = 0; a < 3; ++a) c[s][a] /= double(std::max<std::int64_t>(1, sp.voxel_counts[s]));
  return c;
}

// Level 2's features: the superpixel's own, level 1's probability, and level 1's probability
// averaged in boxes around it (auto-context).
constexpr int kAutoContextCount = 7;
std::vector<float> level2_features(const SuperpixelFeatures& base, const Superpixels& sp,
                                   const std::vector<float>& p1) {
  const Geometry& geo = sp.labels.geometry();
  const std::int32_t* labels = sp.labels.data();
  const ContextGrid grid = context_grid(geo, [&](std::int64_t i) { return p1[std::size_t(labels[i])]; });
  const auto centre = centroids(sp);
  const int width = base.width + kAutoContextCount;
  std::vector<float> x(std::size_t(base.count) * std::size_t(width));
  for (std::int32_t s = 0; s < base.count; ++s) {
    float* row = x.data() + std::size_t(s) * std::size_t(width);
    std::copy_n(base.values.data() + std::size_t(s) * std::size_t(base.width), base.width, row);
    int k = base.width;
    const Vec3& at = centre[std::size_t(s)];
    row[k++] = p1[std::size_t(s)];
    for (double h : kRingHalfMm) row[k++] = grid.around(at, {0, 0, 0}, {h, h, 0.0}, geo)[0];
    row[k++] = grid.around(at, {0, 0, 0}, {kSlab3dHalfMm, kSlab3dHalfMm, kSlab3dHalfZMm}, geo)[0];
    row[k++] = grid.around(at, {0, 0, kAboveBelowMm[0]}, {kSlab3dHalfMm, kSlab3dHalfMm, 0.0}, geo)[0];
    row[k++] = grid.around(at, {0, 0, -kAboveBelowMm[0]}, {kSlab3dHalfMm, kSlab3dHalfMm, 0.0}, geo)[0];
  }
  return x;
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
  const float* voxels = normalized.data();
  const ContextGrid context = context_grid(geo, [voxels](std::int64_t i) { return voxels[i]; });
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
      for (std::int32_t s = 0; s < n; ++s)
        start[std::size_t(s) + 1] = start[std::size_t(s)] + sp.voxel_counts[std::size_t(first + s)];
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
        for (double d : kSideOffsetMm)
          for (int a = 0; a < 8; ++a) {
            const double angle = 0.25 * 3.14159265358979 * a;
            row[k++] = context.around(at, {d * std::cos(angle), d * std::sin(angle), 0},
                                      {kSideHalfMm, kSideHalfMm, 0.0}, geo)[0];
          }
        for (double d : kAboveBelowMm) {
          row[k++] = context.around(at, {0, 0, d}, {kSideHalfMm, kSideHalfMm, 0.0}, geo)[0];
          row[k++] = context.around(at, {0, 0, -d}, {kSideHalfMm, kSideHalfMm, 0.0}, geo)[0];
        }
      }
    }
  });
  return f;
}

void CandidateOptions::validate() const {
  if (trees < 1) throw OptionError(fmt::format("candidate cascade: {} trees: need at least 1", trees));
  if (max_depth < 1 || max_depth > 64)
    throw OptionError(fmt::format("candidate cascade: depth {} outside 1..64", max_depth));
  if (min_samples_leaf < 1)
    throw OptionError(fmt::format("candidate cascade: min samples {} below 1", min_samples_leaf));
  if (negatives_per_case < 1)
    throw OptionError(fmt::format("candidate cascade: {} negatives per case: need at least 1", negatives_per_case));
  for (double s : {level1_sensitivity, level2_sensitivity})
    if (!(s > 0.0 && s <= 1.0)) throw OptionError(fmt::format("candidate cascade: sensitivity {} outside (0, 1]", s));
  if (level2_sensitivity > level1_sensitivity)
    throw OptionError(fmt::format(
        "candidate cascade: level 2's sensitivity {} above level 1's {}: level 2 cannot keep what level 1 dropped",
        level2_sensitivity, level1_sensitivity));
  if (calibration_folds < 2)
    throw OptionError(fmt::format("candidate cascade: {} calibration folds: need at least 2", calibration_folds));
}

namespace {

// Rows of one level: features (+ level 1's probability for level 2), target, case, weight.
struct LevelData {
  int width = 0;
  std::vector<float> x;
  std::vector<float> y;                 // the share of the superpixel that is pancreas
  std::vector<double> pancreas_voxels;  // per row
  std::vector<int> case_of;
  std::size_t rows() const { return y.size(); }
};

std::shared_ptr<cv::ml::RTrees> fit(const LevelData& d, const std::vector<std::size_t>& rows, const CandidateOptions& o,
                                    std::uint64_t salt) {
  // Balanced: every superpixel holding pancreas, as many without (at random, at least 1000).
  std::vector<std::size_t> pos, neg;
  bool majority = false;
  for (auto r : rows) {
    (d.y[r] > 0.0f ? pos : neg).push_back(r);
    majority = majority || d.y[r] > 0.5f;
  }
  if (!majority || neg.empty())
    throw std::invalid_argument(
        fmt::format("candidate cascade: training needs superpixels more than half pancreas and superpixels without "
                    "pancreas; got {} holding pancreas and {} without",
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
  // Regression on the pancreas share: a leaf's value is the mean share of its superpixels, so the
  // forest's output ranks superpixels by the pancreas they hold, boundary ones included, and is
  // fine-grained where a cut in the last percent of the pancreas must fall (votes of 60 trees
  // move in steps of 1/60 there, and the cut with them).
  cv::Mat x(int(chosen.size()), d.width, CV_32F), y(int(chosen.size()), 1, CV_32F);
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    std::copy_n(d.x.data() + chosen[i] * std::size_t(d.width), d.width, x.ptr<float>(int(i)));
    y.at<float>(int(i)) = d.y[chosen[i]];
  }
  auto forest = cv::ml::RTrees::create();
  forest->setMaxDepth(o.max_depth);
  forest->setMinSampleCount(o.min_samples_leaf);
  forest->setRegressionAccuracy(0);
  forest->setUseSurrogates(false);
  forest->setActiveVarCount(0);  // sqrt of the feature count
  forest->setCalculateVarImportance(false);
  forest->setTermCriteria(cv::TermCriteria(cv::TermCriteria::MAX_ITER, o.trees, 0));
  // OpenCV's forests draw bootstrap samples and split variables from the thread's cv::theRNG():
  // seeded here (and restored after) so that the same data give the same forest.
  const std::uint64_t caller_rng = cv::theRNG().state;
  cv::theRNG().state = mix64(o.seed ^ mix64(salt));
  forest->train(cv::ml::TrainData::create(x, cv::ml::ROW_SAMPLE, y));
  cv::theRNG().state = caller_rng;
  return std::shared_ptr<cv::ml::RTrees>(forest.get(), [keep = forest](cv::ml::RTrees*) {});
}

// The forest's pancreas share (mean of its trees), per row of x (width columns), in [0, 1].
std::vector<float> forest_probability(const cv::ml::RTrees& forest, const float* x, std::size_t rows, int width) {
  std::vector<float> p(rows, 0.0f);
  if (rows == 0) return p;
  const cv::Mat samples(int(rows), width, CV_32F, const_cast<float*>(x));
  cv::Mat out;
  forest.predict(samples, out);
  for (std::size_t r = 0; r < rows; ++r) p[r] = std::clamp(out.at<float>(int(r)), 0.0f, 1.0f);
  return p;
}

std::vector<float> forest_probability(const cv::ml::RTrees& forest, const LevelData& d,
                                      const std::vector<std::size_t>& rows) {
  std::vector<float> x(rows.size() * std::size_t(d.width));
  for (std::size_t i = 0; i < rows.size(); ++i)
    std::copy_n(d.x.data() + rows[i] * std::size_t(d.width), d.width, x.data() + i * std::size_t(d.width));
  return forest_probability(forest, x.data(), rows.size(), d.width);
}

// Probabilities of every row from forests that did not see its case (folds by case).
std::vector<float> cross_fitted(const LevelData& d, int folds, const CandidateOptions& o, std::uint64_t salt,
                                std::vector<std::shared_ptr<cv::ml::RTrees>>& forests) {
  std::vector<float> p(d.rows(), 0.0f);
  forests.assign(std::size_t(folds), nullptr);
  for (int fold = 0; fold < folds; ++fold) {
    std::vector<std::size_t> train, test;
    for (std::size_t r = 0; r < d.rows(); ++r) (d.case_of[r] % folds == fold ? test : train).push_back(r);
    const auto forest = fit(d, train, o, salt + 101 * std::uint64_t(fold + 1));
    forests[std::size_t(fold)] = forest;
    const auto q = forest_probability(*forest, d, test);
    for (std::size_t i = 0; i < test.size(); ++i) p[test[i]] = q[i];
  }
  return p;
}

// The highest cut that keeps at least `share` of total_pancreas voxels among rows with p >= cut.
float cut_keeping(const std::vector<float>& p, const std::vector<double>& pancreas, double total_pancreas,
                  double share) {
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

namespace {

// Rows kept for training from one case: every superpixel holding pancreas, and at most n of the
// others (among `eligible`), drawn with the portable generator (the same sample everywhere).
std::vector<std::int32_t> training_rows(const std::vector<float>& fraction, const std::vector<std::uint8_t>& eligible,
                                        int n, std::uint64_t seed) {
  std::vector<std::int32_t> keep, others;
  for (std::size_t s = 0; s < fraction.size(); ++s) {
    if (!eligible[s]) continue;
    (fraction[s] > 0.0f ? keep : others).push_back(std::int32_t(s));
  }
  std::uint64_t state = seed;
  const std::size_t take = std::min(others.size(), std::size_t(n));
  for (std::size_t i = 0; i < take; ++i) {
    state = mix64(state);
    std::swap(others[i], others[i + std::size_t(state % (others.size() - i))]);
  }
  keep.insert(keep.end(), others.begin(), others.begin() + std::ptrdiff_t(take));
  std::sort(keep.begin(), keep.end());
  return keep;
}

void append_rows(LevelData& d, const float* x, int width, const std::vector<std::int32_t>& rows,
                 const std::vector<float>& fraction, const Superpixels& sp, int case_index) {
  for (auto s : rows) {
    d.x.insert(d.x.end(), x + std::size_t(s) * std::size_t(width), x + std::size_t(s + 1) * std::size_t(width));
    d.y.push_back(fraction[std::size_t(s)]);
    d.pancreas_voxels.push_back(double(fraction[std::size_t(s)]) * double(sp.voxel_counts[std::size_t(s)]));
    d.case_of.push_back(case_index);
  }
}

void check_case(const Volume<float>& v, const Superpixels& sp, const Mask& label, int index) {
  check_grid(v, sp, "candidate cascade training");
  if (label.dims() != v.dims())
    throw std::invalid_argument(
        fmt::format("candidate cascade: training case {}: the label's grid differs from the volume's", index));
}

}  // namespace

CandidateCascade CandidateCascade::train(const std::vector<CandidateTrainingCase>& cases,
                                         const CandidateOptions& options) {
  for (std::size_t i = 0; i < cases.size(); ++i)
    if (!cases[i].normalized || !cases[i].superpixels || !cases[i].label)
      throw std::invalid_argument(
          fmt::format("candidate cascade: training case {} lacks its volume, superpixels or label", i));
  return train_cases(
      int(cases.size()),
      [&](int i, const std::function<void(const Volume<float>&, const Superpixels&, const Mask&)>& use) {
        const auto& c = cases[std::size_t(i)];
        use(*c.normalized, *c.superpixels, *c.label);
      },
      options);
}

CandidateCascade CandidateCascade::train(int cases, const CandidateCaseLoader& load, const CandidateOptions& options) {
  return train_cases(
      cases,
      [&](int i, const std::function<void(const Volume<float>&, const Superpixels&, const Mask&)>& use) {
        const LoadedCandidateCase c = load(i);
        use(c.normalized, c.superpixels, c.label);
      },
      options);
}

CandidateCascade CandidateCascade::train_cases(int n_cases, const CaseVisitor& visit, const CandidateOptions& options) {
  options.validate();
  if (n_cases <= 0) throw std::invalid_argument("candidate cascade: no training cases");
  const int width = int(feature_names().size());
  const int folds = std::min(options.calibration_folds, n_cases);
  CandidateCascade cascade;
  cascade.options_ = options;

  // Level 1: rows of every case, its fold forests (for cross-fitted probabilities) and its cut.
  LevelData level1;
  level1.width = width;
  double total_pancreas = 0;
  for (int i = 0; i < n_cases; ++i)
    visit(i, [&](const Volume<float>& v, const Superpixels& sp, const Mask& label) {
      check_case(v, sp, label, i);
      const auto base = superpixel_features(v, sp);
      const auto fraction = superpixel_label_fraction(sp, label);
      for (std::size_t s = 0; s < fraction.size(); ++s)
        total_pancreas += double(fraction[s]) * double(sp.voxel_counts[s]);
      const std::vector<std::uint8_t> all(fraction.size(), 1);
      append_rows(
          level1, base.values.data(), width,
          training_rows(fraction, all, options.negatives_per_case, mix64(options.seed ^ mix64(std::uint64_t(i) + 11))),
          fraction, sp, i);
    });
  if (total_pancreas <= 0) throw std::invalid_argument("candidate cascade: the training cases hold no pancreas");
  std::vector<std::size_t> all_rows(level1.rows());
  std::iota(all_rows.begin(), all_rows.end(), std::size_t(0));
  cascade.level1_ = fit(level1, all_rows, options, 1);
  std::vector<std::shared_ptr<cv::ml::RTrees>> fold1;
  const auto p1 = n_cases >= 2 ? cross_fitted(level1, folds, options, 1, fold1)
                               : forest_probability(*cascade.level1_, level1, all_rows);
  cascade.level1_cut_ = cut_keeping(p1, level1.pancreas_voxels, total_pancreas, options.level1_sensitivity);
  level1 = {};

  // Level 2: each case read again; level 1's probabilities of all its superpixels come from the
  // fold forest that did not see it, as they will for an unseen case.
  LevelData level2;
  level2.width = width + kAutoContextCount;
  for (int i = 0; i < n_cases; ++i)
    visit(i, [&](const Volume<float>& v, const Superpixels& sp, const Mask& label) {
      const auto base = superpixel_features(v, sp);
      const auto fraction = superpixel_label_fraction(sp, label);
      const auto& forest = n_cases >= 2 ? *fold1[std::size_t(i % folds)] : *cascade.level1_;
      const auto p = forest_probability(forest, base.values.data(), std::size_t(base.count), width);
      const auto x2 = level2_features(base, sp, p);
      std::vector<std::uint8_t> survivor(p.size());
      for (std::size_t s = 0; s < p.size(); ++s) survivor[s] = p[s] >= cascade.level1_cut_;
      append_rows(level2, x2.data(), level2.width,
                  training_rows(fraction, survivor, options.negatives_per_case,
                                mix64(options.seed ^ mix64(std::uint64_t(i) + 12))),
                  fraction, sp, i);
    });
  std::vector<std::size_t> survivors(level2.rows());
  std::iota(survivors.begin(), survivors.end(), std::size_t(0));
  cascade.level2_ = fit(level2, survivors, options, 2);
  std::vector<std::shared_ptr<cv::ml::RTrees>> fold2;
  const auto p2 = n_cases >= 2 ? cross_fitted(level2, folds, options, 2, fold2)
                               : forest_probability(*cascade.level2_, level2, survivors);
  cascade.level2_cut_ = cut_keeping(p2, level2.pancreas_voxels, total_pancreas, options.level2_sensitivity);
  return cascade;
}

CandidateRegions CandidateCascade::candidates(const Volume<float>& normalized, const Superpixels& sp) const {
  if (!level1_ || !level2_) throw std::logic_error("candidate cascade: not trained or loaded");
  check_grid(normalized, sp, "candidate cascade");
  const auto f = superpixel_features(normalized, sp);
  const int width = f.width, width2 = width + kAutoContextCount;
  CandidateRegions out;
  out.level1_probability = forest_probability(*level1_, f.values.data(), std::size_t(f.count), width);
  out.probability.assign(std::size_t(f.count), 0.0f);
  const auto all2 = level2_features(f, sp, out.level1_probability);
  std::vector<std::int32_t> survivors;
  std::vector<float> x2;
  for (std::int32_t s = 0; s < f.count; ++s)
    if (out.level1_probability[std::size_t(s)] >= level1_cut_) {
      survivors.push_back(s);
      x2.insert(x2.end(), all2.begin() + std::ptrdiff_t(std::size_t(s) * std::size_t(width2)),
                all2.begin() + std::ptrdiff_t(std::size_t(s + 1) * std::size_t(width2)));
    }
  const auto p2 = forest_probability(*level2_, x2.data(), survivors.size(), width2);
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
    fs << "trees" << options_.trees << "max_depth" << options_.max_depth << "min_samples_leaf"
       << options_.min_samples_leaf;
    fs << "negatives_per_case" << options_.negatives_per_case << "calibration_folds" << options_.calibration_folds;
    fs << "level1_sensitivity" << options_.level1_sensitivity << "level2_sensitivity" << options_.level2_sensitivity;
    fs << "seed" << std::to_string(options_.seed);
    fs << "level1_cut" << level1_cut_ << "level2_cut" << level2_cut_;
    fs << "level1"
       << "{";
    level1_->write(fs);
    fs << "}";
    fs << "level2"
       << "{";
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
      throw InputError(
          name, fmt::format("candidate cascade version {} (this build reads {})", int(fs["version"]), kFormatVersion));
    const int width = int(feature_names().size());
    if (int(fs["features"]) != width)
      throw InputError(
          name, fmt::format("candidate cascade of {} features (this build computes {})", int(fs["features"]), width));
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
    for (auto [key, forest, expected] :
         {std::tuple{"level1", &c.level1_, width}, std::tuple{"level2", &c.level2_, width + kAutoContextCount}}) {
      const cv::FileNode node = fs[key];
      if (node.empty() || !node.isMap())
        throw InputError(name, fmt::format("candidate cascade without its {} forest", key));
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
