#pragma once
// Random thin-plate-spline deformations: DeepOrgan's training augmentation (Roth et al. 2015,
// section 2.5; Nt = 8 per superpixel and scale). A regular grid of k x k control points over the
// image is moved at random within +- max_shift_px; the TPS through the moved points,
// t(x) = a0 + a1 x + a2 y + sum_i c_i phi(|x - w_i|), phi(r) = r^2 log r, gives every output
// pixel the place it samples in the input (bilinear, edges repeating: cv::remap).
//   in:  images [channels][size][size]      out: the same images deformed, in place
//   parameters: grid (k, control points per side: 4), max_shift_px (3: plausible, small shape
//        changes of a 64 x 64 region)
//   notes: the spline is solved once per deformation (a (k^2 + 3)-square system) and applied to
//        all channels, so CT and P0 move together. No displacement gives the identity exactly.
#include <cstdint>
#include <span>
#include <vector>

namespace c2f {

struct TpsOptions {
  int grid = 4;
  double max_shift_px = 3.0;
  void validate() const;  // throws OptionError
};

struct Point2 {
  double x = 0, y = 0;
};

// A dense backward map: output pixel (u, v) samples the input at (map_x[v * size + u], map_y[...]).
struct TpsWarp {
  int size_px = 0;
  std::vector<float> map_x, map_y;
};

// The TPS through `control` points moved by `shift` (same count, pixels), evaluated on a
// size x size grid. Throws std::invalid_argument for fewer than 3 control points.
TpsWarp thin_plate_spline(int size_px, std::span<const Point2> control, std::span<const Point2> shift);

// The control grid of TpsOptions over a size x size image: k x k points from corner to corner.
std::vector<Point2> tps_control_grid(int size_px, int grid);

// A random deformation of that grid, drawn from the seed (splitmix64: the same on every platform).
TpsWarp random_thin_plate_spline(int size_px, const TpsOptions& options, std::uint64_t seed);

// Deforms images [channels][size][size] in place.
void apply_warp(const TpsWarp& warp, float* images, int channels, int size_px);

}  // namespace c2f
