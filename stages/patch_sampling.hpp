#pragma once
// DeepOrgan's dense patch labelling around P-ConvNet (Roth et al. 2015, section 2.3):
//
//   PatchSampling: the voxels of a candidate mask on a lattice of step n (x, y and z all
//                  multiples of n): where P-ConvNet looks.
//   Patch25D:      the 2.5-D patch around a voxel: the axial, coronal and sagittal planes
//                  through it, patch_px x patch_px each, as three channels (in that order).
//                  Outside the volume the edge voxel repeats.
//   NearestFill:   P0: each candidate voxel takes the probability of its nearest sampled voxel,
//                  0 outside the candidates.
//   parameters: every_n (the paper's n, not stated: 3), patch_px (not stated: 32, kPatchPx)
//   notes: nearest in the chessboard distance, by a breadth-first sweep from all samples at once
//          over the candidates' bounding box (26 neighbours): linear in the box, exact nearest
//          lattice point for a full lattice, and defined for any set of samples.
#include <cstdint>
#include <span>
#include <vector>

#include "../pipeline/volume.hpp"

namespace c2f {

struct PatchSamplingOptions {
  int every_n = 3;    // voxels between samples along each axis
  int patch_px = 32;  // side of each plane of the patch
  void validate() const;  // throws OptionError
};

// The candidate voxels whose coordinates are all multiples of every_n, in index order. A
// non-empty mask that no lattice point falls in still gets one sample: its first voxel.
std::vector<Index3> sample_voxels(const Mask& candidates, int every_n);

// Writes the 2.5-D patch around `center` to out: [3][patch_px][patch_px], channels axial
// (rows y, columns x), coronal (rows z, columns x), sagittal (rows z, columns y); the centre
// voxel sits at (patch_px / 2, patch_px / 2) of each plane.
void extract_patch_25d(const Volume<float>& volume, const Index3& center, int patch_px, float* out);

// P0 on the candidates' grid: each candidate voxel gets the value of its nearest sample (see
// the header's notes); voxels outside the candidates get 0. samples and values pair up.
ProbabilityMap nearest_fill(const Mask& candidates, std::span<const Index3> samples, std::span<const float> values);

// Training examples for P-ConvNet: up to `per_class` voxels of each class (pancreas by the
// label, or not) from the candidate lattice, drawn with the seed. Positives first.
struct PatchExamples {
  std::vector<Index3> voxels;
  std::vector<std::int64_t> labels;  // 1 pancreas, 0 not
};
PatchExamples patch_examples(const Mask& candidates, const Mask& label, int every_n, std::int64_t per_class,
                             std::uint64_t seed);

}  // namespace c2f
