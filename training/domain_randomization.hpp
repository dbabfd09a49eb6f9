#pragma once
// DomainRandomization: each training sample's appearance and shape drawn anew (SynthSeg, Billot et
// al. 2023), so that networks trained on synthetic phantoms meet real CT of any contrast, noise and
// resolution as one more draw.
//   in/out: TrainingSample (3 successive slices windowed to [0, 1], their 3 masks), in place
//   parts, in the order they act (each switchable for ablation, each applied to a sample with
//   `probability`, intensity with `intensity_probability`):
//     crop        a random part of the field of view, at least min_crop_share of each side and
//                 never less than the masks' box, so the pancreas stays whole (output shrinks)
//     scaling     zoom in or out about the centre by up to max_scale_change (same output size)
//     elastic     a smooth random displacement of about elastic_px on elastic_cell_px cells
//     intensity   per HU band: a random monotone transfer curve in HU with knots at fat (-100),
//                 fluid (0), unenhanced soft tissue (40), enhanced parenchyma (130) and vessels or
//                 bone (240) inside the window, and at the window's ends, each moved by
//                 N(0, intensity_sd_hu). Training sees images, not tissue maps, so the bands stand
//                 in for the tissues; the curve also moves one contrast phase towards another.
//     gamma       v^g, log g ~ N(0, gamma_log_sd)
//     bias        a smooth multiplicative field within 1 +- bias_amplitude (4 x 4 grid, cubic)
//     resolution  partial volume of thicker slices or coarser pixels: down by a factor in
//                 [1, max_downsample] on one or both axes (area average), then back up (linear)
//     blur        Gaussian, sigma in [0, max_blur_sigma_px] (soft reconstruction kernels)
//     noise       Gaussian, sd in [0, max_noise_sd_hu] HU, independent per slice
//   Tissue contrast belongs to the body, partial volume and kernel to the scanner, noise comes
//   last: hence the order. Geometric parts move image and masks together (masks: linear, then
//   > 0.5, so they stay 0/1; outside the old field of view image and mask are 0); scaling and
//   elastic are one resampling, so the image is interpolated once. Each part draws from its own
//   stream of the sample's seed (splitmix64): the same seed gives the same bytes on any thread (of
//   one machine and OpenCV build: OpenCV's kernels may round differently on other CPUs), and
//   switching one part off leaves the others' draws as they were (paired ablations).
//   notes: pure CPU (OpenCV core/imgproc), any number at once; a 256 x 256 sample takes about 6 ms
//   of one core with every part on, 4-5 ms at the defaults.
#include <cstdint>
#include <string>
#include <string_view>

#include "../stages/window.hpp"

namespace c2f {

struct TrainingSample;  // training_sample.hpp

struct DomainRandomization {
  bool crop = true;
  double min_crop_share = 0.6;  // of each side
  bool scaling = true;
  double max_scale_change = 0.15;  // zoom in [1 - max, 1 + max]
  bool elastic = true;
  double elastic_px = 4, elastic_cell_px = 32;  // sd of the displacement at grid nodes; grid spacing
  bool intensity = true;
  double intensity_sd_hu = 20;
  bool gamma = true;
  double gamma_log_sd = 0.2;
  bool bias = true;
  double bias_amplitude = 0.1;
  bool resolution = true;
  double max_downsample = 2.5;
  bool blur = true;
  double max_blur_sigma_px = 1.0;
  bool noise = true;
  double max_noise_sd_hu = 25;
  double probability = 0.5;            // chance that each enabled part acts on a sample ...
  double intensity_probability = 0.8;  // ... but the intensity curve, the main change of domain

  static DomainRandomization none();  // every part off: the paper's training
  bool any() const;                   // some part is on
  void validate() const;              // throws OptionError naming the value out of range
};

// "all", "none", or a comma list of parts: crop, scaling, elastic, resolution, blur, intensity,
// gamma, bias, noise (listed back in this order). Magnitudes are the defaults. Throws OptionError
// naming an unknown part.
DomainRandomization parse_domain_randomization(std::string_view parts);
// The enabled parts as that list ("none" when none), for logs and run records.
std::string domain_randomization_parts(const DomainRandomization& r);

// Randomises one sample in place, the same way on its 3 slices. `window` maps [0, 1] back to HU for
// the HU-based parts; `seed` is the sample's own. Throws Error when the arrays do not match
// 3 x height x width.
void randomize_sample(TrainingSample& sample, const DomainRandomization& options, const WindowOptions& window,
                      std::uint64_t seed);

struct DomainRandomizer {
  DomainRandomization options;
  WindowOptions window;
  void operator()(TrainingSample& sample, std::uint64_t seed) const { randomize_sample(sample, options, window, seed); }
};

}  // namespace c2f
