#include "superpixels.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/ximgproc.hpp>

#include "../pipeline/errors.hpp"

namespace c2f {

const char* superpixel_method_name(SuperpixelMethod m) {
  switch (m) {
    case SuperpixelMethod::Slic:
      return "slic";
    case SuperpixelMethod::Slico:
      return "slico";
    case SuperpixelMethod::Mslic:
      return "mslic";
    case SuperpixelMethod::Seeds:
      return "seeds";
    case SuperpixelMethod::Lsc:
      return "lsc";
  }
  return "?";
}

SuperpixelMethod parse_superpixel_method(std::string_view name) {
  for (auto m : {SuperpixelMethod::Slic, SuperpixelMethod::Slico, SuperpixelMethod::Mslic, SuperpixelMethod::Seeds,
                 SuperpixelMethod::Lsc})
    if (name == superpixel_method_name(m)) return m;
  throw OptionError(fmt::format("superpixel method '{}': expected slic, slico, mslic, seeds or lsc", name));
}

void SuperpixelOptions::validate() const {
  if (region_size_px < 0)
    throw OptionError(fmt::format("superpixel region size {} px: must not be negative", region_size_px));
  if (region_size_px == 0 && !(std::isfinite(region_size_mm) && region_size_mm > 0))
    throw OptionError(fmt::format("superpixel region size {} mm: must be positive (or give it in px)", region_size_mm));
  if (!(std::isfinite(ruler) && ruler > 0))
    throw OptionError(fmt::format("superpixel ruler {}: must be positive", ruler));
  if (iterations < 1) throw OptionError(fmt::format("superpixel iterations {}: must be at least 1", iterations));
  if (min_element_percent < 0 || min_element_percent > 100)
    throw OptionError(fmt::format("superpixel minimum element {} %: must be in [0, 100]", min_element_percent));
}

int SuperpixelOptions::region_px(const Geometry& g) const {
  if (region_size_px > 0) return std::max(2, region_size_px);
  const double in_plane_mm = 0.5 * (g.spacing_mm[0] + g.spacing_mm[1]);
  return std::max(2, int(std::lround(region_size_mm / in_plane_mm)));
}

namespace {

// One slice's labels from the chosen OpenCV method (ids arbitrary, possibly with gaps).
cv::Mat slice_labels(const cv::Mat& image8, const SuperpixelOptions& o, int region_px) {
  cv::Mat labels;
  const int min_element = o.min_element_percent;
  switch (o.method) {
    case SuperpixelMethod::Slic:
    case SuperpixelMethod::Slico:
    case SuperpixelMethod::Mslic: {
      const int algorithm = o.method == SuperpixelMethod::Slic    ? cv::ximgproc::SLIC
                            : o.method == SuperpixelMethod::Slico ? cv::ximgproc::SLICO
                                                                  : cv::ximgproc::MSLIC;
      auto slic = cv::ximgproc::createSuperpixelSLIC(image8, algorithm, region_px, o.ruler);
      slic->iterate(o.iterations);
      if (min_element > 0) slic->enforceLabelConnectivity(min_element);
      slic->getLabels(labels);
      break;
    }
    case SuperpixelMethod::Lsc: {
      auto lsc = cv::ximgproc::createSuperpixelLSC(image8, region_px, o.ruler / 100.0f);
      lsc->iterate(o.iterations);
      if (min_element > 0) lsc->enforceLabelConnectivity(min_element);
      lsc->getLabels(labels);
      break;
    }
    case SuperpixelMethod::Seeds: {
      const int wanted = std::max(1, (image8.cols * image8.rows) / (region_px * region_px));
      auto seeds = cv::ximgproc::createSuperpixelSEEDS(image8.cols, image8.rows, 1, wanted, 4, 2, 5, false);
      seeds->iterate(image8, o.iterations);
      seeds->getLabels(labels);
      break;
    }
  }
  return labels;
}

}  // namespace

Superpixels axial_superpixels(const Volume<float>& normalized, const SuperpixelOptions& options) {
  options.validate();
  if (normalized.empty()) throw std::invalid_argument("axial_superpixels: the volume is empty");
  const int nx = int(normalized.nx()), ny = int(normalized.ny()), nz = int(normalized.nz());
  if (nx < 2 || ny < 2)
    throw std::invalid_argument(fmt::format("axial_superpixels: axial slices of {} x {} are too small", nx, ny));
  const int region_px = options.region_px(normalized.geometry());

  Superpixels sp;
  sp.labels = Volume<std::int32_t>(normalized.geometry());
  // Per slice: ids local to the slice (0..n_z-1) in order of first appearance; offsets follow.
  std::vector<std::int32_t> slice_count(std::size_t(nz), 0);
  cv::parallel_for_(cv::Range(0, nz), [&](const cv::Range& r) {
    cv::Mat image8(ny, nx, CV_8UC1);
    for (int z = r.start; z < r.end; ++z) {
      const float* src = normalized.data() + normalized.offset(0, 0, z);
      for (int i = 0; i < nx * ny; ++i) {
        const float v = std::isfinite(src[i]) ? std::clamp(src[i], 0.0f, 1.0f) : 0.0f;
        image8.data[i] = static_cast<std::uint8_t>(std::lround(v * 255.0f));
      }
      const cv::Mat labels = slice_labels(image8, options, region_px);
      // Renumber compactly: OpenCV leaves gaps where connectivity enforcement merged cells.
      int max_label = 0;
      for (int i = 0; i < nx * ny; ++i) max_label = std::max(max_label, labels.ptr<int>()[i]);
      std::vector<std::int32_t> remap(std::size_t(max_label) + 1, -1);
      std::int32_t next = 0;
      std::int32_t* dst = sp.labels.data() + sp.labels.offset(0, 0, z);
      for (int i = 0; i < nx * ny; ++i) {
        const int l = std::max(0, labels.ptr<int>()[i]);
        if (remap[std::size_t(l)] < 0) remap[std::size_t(l)] = next++;
        dst[i] = remap[std::size_t(l)];
      }
      slice_count[std::size_t(z)] = next;
    }
  });

  sp.first_id.assign(std::size_t(nz) + 1, 0);
  for (int z = 0; z < nz; ++z)
    sp.first_id[std::size_t(z) + 1] = sp.first_id[std::size_t(z)] + slice_count[std::size_t(z)];
  sp.count = sp.first_id[std::size_t(nz)];
  sp.boxes.assign(std::size_t(sp.count), Box3{{nx, ny, 0}, {0, 0, 0}});
  sp.voxel_counts.assign(std::size_t(sp.count), 0);
  cv::parallel_for_(cv::Range(0, nz), [&](const cv::Range& r) {
    for (int z = r.start; z < r.end; ++z) {
      const std::int32_t base = sp.first_id[std::size_t(z)];
      std::int32_t* row = sp.labels.data() + sp.labels.offset(0, 0, z);
      for (int y = 0; y < ny; ++y)
        for (int x = 0; x < nx; ++x) {
          std::int32_t& l = row[x + std::int64_t(nx) * y];
          l += base;
          Box3& b = sp.boxes[std::size_t(l)];
          b.lo = {std::min<std::int64_t>(b.lo[0], x), std::min<std::int64_t>(b.lo[1], y), z};
          b.hi = {std::max<std::int64_t>(b.hi[0], x + 1), std::max<std::int64_t>(b.hi[1], y + 1), z + 1};
          ++sp.voxel_counts[std::size_t(l)];
        }
    }
  });
  return sp;
}

namespace {
void check_label(const Superpixels& sp, const Mask& label, const char* who) {
  if (label.dims() != sp.labels.dims())
    throw std::invalid_argument(fmt::format("{}: the label's grid {}x{}x{} differs from the superpixels' {}x{}x{}", who,
                                            label.nx(), label.ny(), label.nz(), sp.labels.nx(), sp.labels.ny(),
                                            sp.labels.nz()));
}
}  // namespace

std::vector<float> superpixel_label_fraction(const Superpixels& sp, const Mask& label) {
  check_label(sp, label, "superpixel_label_fraction");
  std::vector<std::int64_t> inside(std::size_t(sp.count), 0);
  const std::int32_t* l = sp.labels.data();
  const std::uint8_t* m = label.data();
  for (std::int64_t i = 0, n = label.size(); i < n; ++i)
    if (m[i]) ++inside[std::size_t(l[i])];
  std::vector<float> fraction(std::size_t(sp.count), 0.0f);
  for (std::size_t s = 0; s < fraction.size(); ++s)
    if (sp.voxel_counts[s] > 0) fraction[s] = float(double(inside[s]) / double(sp.voxel_counts[s]));
  return fraction;
}

std::vector<std::uint8_t> optimal_superpixel_labels(const Superpixels& sp, const Mask& label) {
  const auto fraction = superpixel_label_fraction(sp, label);
  std::vector<std::uint8_t> optimal(fraction.size());
  for (std::size_t s = 0; s < fraction.size(); ++s) optimal[s] = fraction[s] > 0.5f ? 1 : 0;
  return optimal;
}

double superpixel_upper_bound_dsc(const Superpixels& sp, const Mask& label) {
  const auto fraction = superpixel_label_fraction(sp, label);
  // |A n G| and |A| from the chosen superpixels; |G| from the label.
  double overlap = 0, chosen = 0, truth = double(count_foreground(label));
  for (std::size_t s = 0; s < fraction.size(); ++s)
    if (fraction[s] > 0.5f) {
      chosen += double(sp.voxel_counts[s]);
      overlap += double(fraction[s]) * double(sp.voxel_counts[s]);
    }
  if (chosen + truth == 0) return 1.0;
  return 2.0 * overlap / (chosen + truth);
}

Mask superpixel_mask(const Superpixels& sp, std::span<const std::int32_t> ids) {
  std::vector<std::uint8_t> chosen(std::size_t(sp.count), 0);
  for (auto id : ids) {
    if (id < 0 || id >= sp.count)
      throw std::invalid_argument(fmt::format("superpixel_mask: id {} outside 0..{}", id, sp.count - 1));
    chosen[std::size_t(id)] = 1;
  }
  Mask mask(sp.labels.geometry());
  const std::int32_t* l = sp.labels.data();
  std::uint8_t* m = mask.data();
  for (std::int64_t i = 0, n = mask.size(); i < n; ++i) m[i] = chosen[std::size_t(l[i])];
  return mask;
}

}  // namespace c2f
