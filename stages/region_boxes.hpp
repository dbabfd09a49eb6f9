#pragma once
// DeepOrgan's regions (Roth et al. 2015, section 2.4): what R1- and R2-ConvNet see of a
// superpixel. Its bounding box in its axial slice, at Ns zoom-out scales (the box grown about its
// centre, so each scale adds context), each warped to out_px x out_px (R-CNN style: the aspect
// is not kept), from the CT and, for R2-ConvNet, from the P-ConvNet map P0 as a second channel.
//   in:  Volume<float> in [0, 1], optionally ProbabilityMap P0 (same grid), a superpixel's Box3
//   out: [Ns][channels][out_px][out_px] floats
//   parameters: zoom-out factors (the paper: Ns = 4, factors not stated; c2f: 1, 2, 3, 4 times
//        the box), min_side_px (a box narrower than this is widened first: superpixels of a few
//        pixels carry too little to warp), out_px = 64 (the paper's)
//   notes: bilinear warp with OpenCV (cv::warpAffine, the box mapped onto the output square);
//        outside the slice the edge repeats.
#include <cstdint>
#include <span>
#include <vector>

#include "../pipeline/volume.hpp"

namespace c2f {

struct RegionOptions {
  std::vector<double> zoom_out{1.0, 2.0, 3.0, 4.0};  // Ns = 4
  int min_side_px = 8;
  int out_px = 64;
  void validate() const;  // throws OptionError
  int scales() const { return int(zoom_out.size()); }
};

// The region of a box (one axial slice thick) at a zoom-out factor, in continuous pixel
// coordinates of its slice: [x0, x1) x [y0, y1), centred on the box.
struct Region2D {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};
Region2D zoom_out_region(const Box3& box, double factor, int min_side_px);

// Warps `region` of slice z of each channel volume to out_px x out_px, channel after channel.
void warp_region(std::span<const Volume<float>* const> channels, std::int64_t z, const Region2D& region, int out_px,
                 float* out);

// All scales of one superpixel: [Ns][C][out_px][out_px]; C = 1 (CT) or 2 (CT, P0 when p0 is given).
std::vector<float> region_inputs(const Volume<float>& ct, const ProbabilityMap* p0, const Box3& box,
                                 const RegionOptions& options);

// p(x) = (1 / Ns) sum over scales: per_scale holds Ns values per superpixel, superpixel by superpixel.
std::vector<float> average_over_scales(std::span<const float> per_scale, int scales);

}  // namespace c2f
