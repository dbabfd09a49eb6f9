#pragma once
// What c2f-segment leaves for each case, all on the input's own grid:
//   OUTDIR/<case>/mask.nii.gz       the final mask, uint8, written onto the input's voxel grid
//   OUTDIR/<case>/report.json       rounds, d(t), DSC per round (with a label), boxes, seconds
//   OUTDIR/<case>/probability.h5    optional: image, label and the last fused map (case store), or
//   OUTDIR/<case>/probability.nii.gz   the map alone on the input's grid, uint8 0-255 or float32
//   OUTDIR/<case>/seg.dcm           for a DICOM series input: the mask as a DICOM Segmentation
//   OUTDIR/<case>/overlay/*.png     with a label: slices through the pancreas, prediction red,
//                                   ground truth green, overlap yellow
//   OUTDIR/<case>/thumbnail.png     three planes through the mask, outlined, for index.html
//                                   (cohort_report.hpp)
// Every file is written atomically; a case's folder holds either finished files or none.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../graphs/segmentation_graph.hpp"

namespace c2f {

enum class ProbabilityFile { H5, Nifti };

struct OutputOptions {
  bool probability = false;   // write the last fused map (the result must hold it)
  ProbabilityFile probability_file = ProbabilityFile::H5;
  bool probability_float32 = false;  // NIfTI: float32 in [0, 1] instead of uint8 scaled to 0-255
  bool dicom_seg = true;      // for a DICOM series input, also a DICOM-SEG referencing it
  bool overlays = true;       // write overlays when the case has a label
  int max_axial_overlays = 8; // axial slices through the pancreas, evenly spaced
};

// The case's report: case, source, iterations, d_t, final_d_t, dsc_coarse, dsc_per_iteration, box,
// statistics (volume in ml, HU inside the mask, box and centroid in LPS mm, edges touched, components), ...
nlohmann::json case_report(const CaseResult& r);

// Writes the case's files under out_dir/<case id>/, report.json last. Throws OutputError. Returns
// warnings for the caller to print: a DICOM-SEG that could not be made (the series' UIDs are
// missing or inconsistent) is skipped with one, and the other files are still written.
std::vector<std::string> write_case_outputs(const std::filesystem::path& out_dir, const CaseResult& r,
                                            const OutputOptions& options);
// The same with the case's report already made (case_report(r)): it is written as given.
std::vector<std::string> write_case_outputs(const std::filesystem::path& out_dir, const CaseResult& r,
                                            const OutputOptions& options, const nlohmann::json& report);

// The report of a case that an earlier run finished (report.json present, readable, without an
// error, beside its mask), or nothing: the case is to be segmented (again).
std::optional<nlohmann::json> finished_case_report(const std::filesystem::path& case_dir);

// Removes what writers killed mid-write left in case_dir (temporary siblings of its files).
void remove_stale_case_temporaries(const std::filesystem::path& case_dir);

}  // namespace c2f
