#pragma once
// Writing a phantom cohort to disk in one of the layouts io/cohort.hpp reads.
#include <filesystem>
#include <string>
#include <vector>

#include "phantom.hpp"

namespace c2f {

enum class PhantomLayout { Plain, Msd, Nih };
PhantomLayout parse_phantom_layout(std::string_view name);  // "plain" | "msd" | "nih"

struct PhantomCohortOptions {
  PhantomOptions phantom;
  int cases = 4;
  PhantomLayout layout = PhantomLayout::Plain;
  // Axis code the NIfTI files are stored in. "LAS" is what dcm2niix writes for axial CT, so
  // readers are exercised on a reorientation by default. (The NIH layout's DICOM is LPS.)
  std::string orientation = "LAS";
  bool write_tissues = false;  // <case>_tissues.nii.gz (plain layout)
  bool preview = false;        // preview/<case>_{axial,coronal}.png with the label outlined
  void validate() const;
};

struct PhantomSummary {
  std::string id;
  Index3 dims{};
  Vec3 spacing_mm{};
  std::int64_t pancreas_voxels = 0;
  double pancreas_percent = 0;
  double pancreas_mean_hu = 0;
  Index3 pancreas_extent{};  // bounding box size in voxels
  std::filesystem::path image, label;
  std::string phase, anatomy, anatomy_set;  // anatomy: the label map (empty: hand-made)
};

// Writes the cohort under dir (created if needed) and returns one summary per case. Each file is
// written atomically; dir also gets cohort.json with the options and the summaries.
std::vector<PhantomSummary> write_phantom_cohort(const std::filesystem::path& dir, const PhantomCohortOptions& options);

// Summary of one generated case.
PhantomSummary summarize(const PhantomCase& pc);

}  // namespace c2f
