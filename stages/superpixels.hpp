#pragma once
// AxialSuperpixels: DeepOrgan's first step (Roth et al. 2015, section 2.1): each axial slice of
// a windowed CT cut into superpixels, the units that the candidate cascade and the R-ConvNets
// classify. The paper used entropy-rate superpixels; OpenCV's ximgproc offers SLIC, SLICO,
// MSLIC, SEEDS and LSC, and c2f picks among them the way the paper did: by the DSC upper bound
// of optimal superpixel labels (80.5 % in the paper), measured on phantoms (README, DeepOrgan).
//   in:  Volume<float> in [0, 1] (window_normalize's output)
//   out: Superpixels: a label volume on the input's grid, ids 0..count-1 numbered slice by
//        slice (slice z's ids come before slice z+1's), each id inside one axial slice
//   parameters: method, region size (mm, converted with the in-plane spacing, or px),
//        ruler (SLIC compactness), iterations
//   notes: slices in parallel on OpenCV's thread pool (cv::parallel_for_); no TBB.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../pipeline/volume.hpp"

namespace c2f {

enum class SuperpixelMethod { Slic, Slico, Mslic, Seeds, Lsc };
const char* superpixel_method_name(SuperpixelMethod m);
SuperpixelMethod parse_superpixel_method(std::string_view name);  // "slic" | "slico" | "mslic" | "seeds" | "lsc"

struct SuperpixelOptions {
  // SEEDS at 10 mm: on real-anatomy phantoms it bounds DSC as high as SLICO (about 95 %) with
  // two thirds of the superpixels in a third of the time (README, DeepOrgan).
  SuperpixelMethod method = SuperpixelMethod::Seeds;
  // Side of a superpixel's square seed cell. region_size_px > 0 takes it in pixels; otherwise
  // region_size_mm is converted with the mean in-plane spacing (so 512 x 512 scans at 0.6 and
  // 1.0 mm get superpixels of the same physical size).
  double region_size_mm = 10.0;
  int region_size_px = 0;
  float ruler = 10.0f;  // SLIC/MSLIC compactness; LSC's ratio is ruler / 100; SEEDS: unused
  int iterations = 10;  // SLIC/LSC iterations, SEEDS histogram iterations (SEEDS: 4 block levels, prior 2, 5 bins)
  int min_element_percent = 25;  // SLIC/LSC: fragments smaller than this share of a cell join a neighbour
  void validate() const;         // throws OptionError
  // The region size in pixels for a grid (at least 2).
  int region_px(const Geometry& g) const;
  bool operator==(const SuperpixelOptions&) const = default;
};

struct Superpixels {
  Volume<std::int32_t> labels;  // on the input's grid; ids 0..count-1, each superpixel in one axial slice
  std::int32_t count = 0;
  std::vector<Box3> boxes;                 // each superpixel's bounding box (one slice thick)
  std::vector<std::int64_t> voxel_counts;  // each superpixel's size in voxels
  std::vector<std::int32_t> first_id;      // per slice z: its first id; first_id[nz] = count
};

Superpixels axial_superpixels(const Volume<float>& normalized, const SuperpixelOptions& options = {});

// Share of each superpixel's voxels that the label marks (size sp.count).
std::vector<float> superpixel_label_fraction(const Superpixels& sp, const Mask& label);
// The optimal superpixel labels: a superpixel is pancreas when more than half of it is. The
// paper's positive and negative examples for training.
std::vector<std::uint8_t> optimal_superpixel_labels(const Superpixels& sp, const Mask& label);
// The DSC of the best labelling made of whole superpixels (a superpixel is pancreas when most of
// it is): the paper's upper bound (80.5 %). 1 when label and that labelling are both empty.
double superpixel_upper_bound_dsc(const Superpixels& sp, const Mask& label);
// The union of the given superpixels, on sp's grid (0/1).
Mask superpixel_mask(const Superpixels& sp, std::span<const std::int32_t> ids);

struct AxialSuperpixels {
  SuperpixelOptions options;
  Superpixels operator()(const Volume<float>& normalized) const { return axial_superpixels(normalized, options); }
};

}  // namespace c2f
