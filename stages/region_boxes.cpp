#include "region_boxes.hpp"

#include <algorithm>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

#include "../pipeline/errors.hpp"

namespace c2f {

void RegionOptions::validate() const {
  if (zoom_out.empty()) throw OptionError("at least one zoom-out scale is needed");
  for (double f : zoom_out)
    if (!(f >= 1.0 && f <= 16.0)) throw OptionError("zoom-out factors must lie in [1, 16]");
  if (min_side_px < 1) throw OptionError("the regions' minimum side must be at least 1 pixel");
  if (out_px < 8) throw OptionError("regions must be warped to at least 8 x 8 pixels");
}

Region2D zoom_out_region(const Box3& box, double factor, int min_side_px) {
  if (box.empty()) throw std::invalid_argument("zoom_out_region: empty box");
  const double cx = 0.5 * double(box.lo[0] + box.hi[0]), cy = 0.5 * double(box.lo[1] + box.hi[1]);
  const double w = std::max<double>(double(box.extent(0)), min_side_px) * factor;
  const double h = std::max<double>(double(box.extent(1)), min_side_px) * factor;
  return {cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h};
}

void warp_region(std::span<const Volume<float>* const> channels, std::int64_t z, const Region2D& r, int out_px, float* out) {
  // Output pixel centre (u + 0.5) maps to x0 + (u + 0.5) * sx in continuous coordinates, whose
  // pixel index is that minus 0.5: the inverse map warpAffine takes.
  const double sx = (r.x1 - r.x0) / out_px, sy = (r.y1 - r.y0) / out_px;
  const cv::Matx23d inverse(sx, 0, r.x0 + 0.5 * sx - 0.5, 0, sy, r.y0 + 0.5 * sy - 0.5);
  for (std::size_t c = 0; c < channels.size(); ++c) {
    const Volume<float>& v = *channels[c];
    if (z < 0 || z >= v.nz()) throw std::out_of_range("warp_region: slice outside the volume");
    const cv::Mat slice(int(v.ny()), int(v.nx()), CV_32F, const_cast<float*>(v.data() + z * v.nx() * v.ny()));
    cv::Mat dst(out_px, out_px, CV_32F, out + c * std::size_t(out_px) * std::size_t(out_px));
    cv::warpAffine(slice, dst, inverse, dst.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_REPLICATE);
  }
}

std::vector<float> region_inputs(const Volume<float>& ct, const ProbabilityMap* p0, const Box3& box, const RegionOptions& o) {
  if (p0 && p0->dims() != ct.dims()) throw std::invalid_argument("region_inputs: P0 and CT differ in size");
  std::vector<const Volume<float>*> channels{&ct};
  if (p0) channels.push_back(p0);
  const std::size_t plane = std::size_t(o.out_px) * std::size_t(o.out_px);
  std::vector<float> out(std::size_t(o.scales()) * channels.size() * plane);
  for (int s = 0; s < o.scales(); ++s)
    warp_region(channels, box.lo[2], zoom_out_region(box, o.zoom_out[std::size_t(s)], o.min_side_px), o.out_px,
                out.data() + std::size_t(s) * channels.size() * plane);
  return out;
}

std::vector<float> average_over_scales(std::span<const float> per_scale, int scales) {
  if (scales < 1 || per_scale.size() % std::size_t(scales) != 0)
    throw std::invalid_argument("average_over_scales: not a whole number of superpixels");
  std::vector<float> out(per_scale.size() / std::size_t(scales));
  for (std::size_t i = 0; i < out.size(); ++i) {
    double sum = 0;
    for (int s = 0; s < scales; ++s) sum += per_scale[i * std::size_t(scales) + std::size_t(s)];
    out[i] = float(sum / scales);
  }
  return out;
}

}  // namespace c2f
