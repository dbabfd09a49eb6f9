#pragma once
// A synthetic abdominal CT phantom that is hard in the ways real CT is hard.
//
// Anatomy (RAS millimetres, origin at the body's centre at the level of the pancreas): air,
// subcutaneous and visceral fat, abdominal wall, paraspinal and psoas muscles, vertebrae with
// discs and canal, ribs, lung bases, liver, gallbladder, spleen, kidneys (cortex, medulla,
// pelvis), stomach with gas and fluid, antrum, duodenal C-loop, small bowel loops, colon with
// stool and gas, aorta, IVC, SMA, SMV, portal and splenic veins.
//
// The pancreas is a lobulated tube along a curve: head in the duodenal loop, neck in front of the
// SMV/portal confluence, body across the aorta and SMA, tail towards the splenic hilum; size,
// position, curvature and thickness random per case; 0.1-0.5 % of the voxels. The duodenum and
// the splenic vein touch it and are painted over it; bowel loops of similar intensity lie
// against it, so its boundary is hard and a whole-image model is distracted, as in the paper.
//
// Intensities: each tissue has a native (unenhanced) HU and a portal-venous enhancement. Native
// values are checked against a real non-contrast CT (tests/phantom/test_tissue_statistics.cpp);
// enhancement values are typical portal-venous figures from the radiology literature (liver
// +50-60 HU, pancreas +60-80, spleen +60-80, aorta and portal vein +120-150). Smooth texture,
// a low-frequency bias field, partial volume (2x supersampling when voxels exceed 1.2 mm) and
// noise that grows as voxels shrink complete the picture.
//
// Real anatomy (options.anatomy, SynthSeg-style): the organs a real label map has come from it
// (nearest voxel), the hand-made generator never paints them, and fills in what the map lacks:
// body wall and fat (habitus thin to obese, the body grown to hold the real organs), spine, ribs,
// lungs above the liver, bowel, vessels, a pelvis (iliac wings, sacrum, femoral heads), bladder
// and rectum below, arms beside the body, the CT table. Per case: field of view (craniocaudal
// extent and offset), spacing, contrast phase (native, arterial, portal-venous), pancreas fatty
// lobulation and attenuation with age, noise level and reconstruction kernel (soft to sharp).
//
// Deterministic: the same options and case index give the same voxels, at any thread count.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "../pipeline/case.hpp"
#include "../pipeline/volume.hpp"

namespace c2f {

enum class ContrastPhase { Native, PortalVenous, Arterial };
ContrastPhase parse_phase(std::string_view name);  // "native" | "portal-venous" | "arterial"
const char* phase_name(ContrastPhase p);

// Tissue codes of the phantom's tissue map. Organs use TotalSegmentator v1 numbers, so the map
// compares directly with organs_v1.nii.gz of the real example CT; codes from 200 are the
// phantom's own (adrenals, esophagus and heart come only from real label maps).
namespace tissue {
inline constexpr std::uint8_t kOutside = 0, kSpleen = 1, kKidneyRight = 2, kKidneyLeft = 3, kGallbladder = 4,
                              kLiver = 5, kStomach = 6, kAorta = 7, kIvc = 8, kPortalSplenicVein = 9, kPancreas = 10,
                              kDuodenum = 55, kSmallBowel = 56, kColon = 57, kSubcutaneousFat = 200,
                              kVisceralFat = 201, kMuscle = 202, kBone = 203, kLung = 204, kSpinalCanal = 205,
                              kOtherVessel = 206, kBladder = 207, kOtherSoftTissue = 208, kTable = 209,
                              kAdrenal = 210, kEsophagus = 211, kHeart = 212;
}

struct PhantomOptions {
  Index3 size{128, 128, 64};  // voxels: width x height x slices (NIH: 512 x 512 x ~250)
  std::uint64_t seed = 1;
  ContrastPhase phase = ContrastPhase::PortalVenous;
  double fov_mm = 0;        // in-plane field of view; 0: drawn per case from [360, 440]
  double extent_z_mm = 0;   // cranio-caudal extent; 0: drawn per case from [220, 260]
  double noise_scale = 1.0; // multiplies the noise standard deviation
  // Real anatomy: label maps (phantom/anatomy.hpp); case i is built on anatomy[i % n]. Empty: the
  // hand-made anatomy, exactly as before. With anatomy, the grid follows from the spacing and the
  // field of view instead of `size`.
  std::vector<std::filesystem::path> anatomy;
  std::string anatomy_set;  // the set of the maps ("flare22", "word", "totalseg"); empty: told from each path
  // With anatomy: x, y, z spacing in mm; 0 on an axis: drawn per case as real scans vary (in-plane
  // 0.6-1.0 mm on 512 x 512, slices 0.6-5 mm).
  Vec3 spacing_mm{0, 0, 0};
  bool random_phase = false;  // draw native, arterial or portal-venous per case (else `phase`)
  void validate() const;    // throws OptionError
};

struct PhantomCase {
  Case c;  // image (HU, canonical RAS), label (pancreas)
  std::shared_ptr<const Mask> tissues;  // tissue codes above
  ContrastPhase phase = ContrastPhase::PortalVenous;
  std::string anatomy;      // the label map it was built on; empty for the hand-made anatomy
  std::string anatomy_set;  // "flare22", "word", "totalseg"
  // Where the label map lies in the phantom: phantom world = map world (canonical RAS) + offset.
  // The label is the map's pancreas sampled at each voxel's centre (nearest map voxel).
  Vec3 anatomy_offset_mm{0, 0, 0};
};

// Case `index` of the cohort that options.seed defines; its id is "phantom_NNN".
PhantomCase make_phantom(const PhantomOptions& options, int index);

}  // namespace c2f
