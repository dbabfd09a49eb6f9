#include "probability_maps.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "../pipeline/errors.hpp"

namespace c2f {

ProbabilityMap superpixel_probability_map(const Volume<std::int32_t>& labels, std::span<const std::int32_t> ids,
                                          std::span<const float> probability) {
  if (ids.size() != probability.size()) throw std::invalid_argument("superpixel_probability_map: ids and probabilities differ in number");
  std::int32_t max_id = -1;
  for (std::int32_t v : labels.voxels()) max_id = std::max(max_id, v);
  std::vector<float> of_id(std::size_t(max_id + 1), 0.0f);
  for (std::size_t k = 0; k < ids.size(); ++k)
    if (ids[k] >= 0 && ids[k] <= max_id) of_id[std::size_t(ids[k])] = probability[k];
  ProbabilityMap out(labels.geometry());
  const std::int32_t* l = labels.data();
  float* o = out.data();
  for (std::int64_t i = 0; i < labels.size(); ++i) o[i] = l[i] >= 0 ? of_id[std::size_t(l[i])] : 0.0f;
  return out;
}

void GaussianOptions::validate() const {
  if (!(sigma_voxels >= 0 && sigma_voxels <= 50)) throw OptionError("the Gaussian's sigma must lie in [0, 50] voxels");
}

ProbabilityMap gaussian_smooth(const ProbabilityMap& p, const GaussianOptions& o) {
  o.validate();
  ProbabilityMap out = p;
  if (o.sigma_voxels == 0) return out;
  const int radius = int(std::ceil(3 * o.sigma_voxels));
  const cv::Mat kernel = cv::getGaussianKernel(2 * radius + 1, o.sigma_voxels, CV_32F);  // sums to 1
  const int nx = int(p.nx()), ny = int(p.ny());
  const std::int64_t plane = p.nx() * p.ny(), nz = p.nz();
  ProbabilityMap blurred(p.geometry());
  for (std::int64_t z = 0; z < nz; ++z) {
    const cv::Mat in(ny, nx, CV_32F, const_cast<float*>(p.data() + z * plane));
    cv::Mat dst(ny, nx, CV_32F, blurred.data() + z * plane);
    cv::sepFilter2D(in, dst, CV_32F, kernel, kernel, cv::Point(-1, -1), 0, cv::BORDER_REPLICATE);
  }
  for (std::int64_t z = 0; z < nz; ++z) {
    cv::Mat dst(ny, nx, CV_32F, out.data() + z * plane);
    dst.setTo(0);
    for (int j = -radius; j <= radius; ++j) {
      const std::int64_t zz = std::clamp<std::int64_t>(z + j, 0, nz - 1);
      const cv::Mat src(ny, nx, CV_32F, blurred.data() + zz * plane);
      cv::scaleAdd(src, double(kernel.at<float>(j + radius)), dst, dst);
    }
  }
  return out;
}

}  // namespace c2f
