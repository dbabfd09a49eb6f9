#pragma once
// DomainRandomization: each training sample's appearance and shape drawn anew (SynthSeg, Billot et
// al. 2023), so that networks trained on synthetic phantoms meet real CT of any contrast, noise and
// resolution as one more draw.
//   in/out: TrainingSample (3 successive slices windowed to [0, 1], their 3 masks), in place
//   parts (each switchable for ablation, each applied to a sample with `probability`):
//     crop        a random part of the field of view (at least min_crop_share of each side; the
//                 pancreas' box kept when it fits)
//     scaling     zoom in or out about the centre by up to max_scale_change
//     elastic     a smooth random displacement of about elastic_px on elastic_cell_px cells
//     resolution  partial volume of coarser pixels: down by up to max_downsample on one or both
//                 axes (area average), then back up (linear)
//     blur        Gaussian, sigma up to max_blur_sigma_px (soft reconstruction kernels)
//     intensity   per HU band: a random monotone transfer curve in HU with knots at fat, fluid,
//                 soft tissue, enhanced parenchyma and vessels, each moved by intensity_sd_hu.
//                 Training sees images, not tissue maps, so the bands stand in for the tissues;
//                 the curve also moves one contrast phase towards another.
//     gamma       v^g, log g ~ N(0, gamma_log_sd)
//     bias        a smooth multiplicative field 1 +- bias_amplitude
//     noise       Gaussian, sd drawn up to max_noise_sd_hu
//   Geometric parts move image and masks together; masks stay 0/1. The same seed gives the same
//   bytes on any thread.
//   notes: pure CPU (OpenCV), any number at once.
#include <cstdint>
#include <string>
#include <string_view>

#include "c2f/stages/window.hpp"

namespace c2f {

struct TrainingSample;  // training_sample.hpp

struct DomainRandomization {
  bool crop = true;
  double min_crop_share = 0.6;
  bool scaling = true;
  double max_scale_change = 0.15;
  bool elastic = true;
  double elastic_px = 4, elastic_cell_px = 32;
  bool resolution = true;
  double max_downsample = 2.5;
  bool blur = true;
  double max_blur_sigma_px = 1.0;
  bool intensity = true;
  double intensity_sd_hu = 20;
  bool gamma = true;
  double gamma_log_sd = 0.2;
  bool bias = true;
  double bias_amplitude = 0.1;
  bool noise = true;
  double max_noise_sd_hu = 25;
  double probability = 0.5;  // chance that each enabled part acts on a sample (intensity: at least 0.8)

  static DomainRandomization none();
  bool any() const;
  void validate() const;  // throws OptionError
};

// "all", "none", or a comma list of parts: crop, scaling, elastic, resolution, blur, intensity,
// gamma, bias, noise. Throws OptionError naming an unknown part.
DomainRandomization parse_domain_randomization(std::string_view parts);
// The enabled parts as that list ("none" when none).
std::string domain_randomization_parts(const DomainRandomization& r);

void randomize_sample(TrainingSample& sample, const DomainRandomization& options, const WindowOptions& window,
                      std::uint64_t seed);

struct DomainRandomizer {
  DomainRandomization options;
  WindowOptions window;
  void operator()(TrainingSample& sample, std::uint64_t seed) const { randomize_sample(sample, options, window, seed); }
};

}  // namespace c2f
