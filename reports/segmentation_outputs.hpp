#pragma once
// What c2f-segment leaves for each case, all on the input's own grid:
//   OUTDIR/<case>/mask.nii.gz       the final mask, uint8, written onto the input's voxel grid
//   OUTDIR/<case>/report.json       rounds, d(t), DSC per round (with a label), boxes, seconds
//   OUTDIR/<case>/probability.h5    optional: image, label and the last fused map (case store)
//   OUTDIR/<case>/overlay/*.png     with a label: slices through the pancreas, prediction red,
//                                   ground truth green, overlap yellow
// Every file is written atomically; a case's folder holds either finished files or none.
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "../graphs/segmentation_graph.hpp"

namespace c2f {

struct OutputOptions {
  bool probability = false;   // write probability.h5 (the result must hold the map)
  bool overlays = true;       // write overlays when the case has a label
  int max_axial_overlays = 8; // axial slices through the pancreas, evenly spaced
};

// The case's report: case, source, iterations, d_t, dsc_coarse, dsc_per_iteration, box, ...
nlohmann::json case_report(const CaseResult& r);

// Writes the case's files under out_dir/<case id>/, report.json last. Throws OutputError.
void write_case_outputs(const std::filesystem::path& out_dir, const CaseResult& r, const OutputOptions& options);

// The report of a case that an earlier run finished (report.json present, readable, without an
// error, beside its mask), or nothing: the case is to be segmented (again).
std::optional<nlohmann::json> finished_case_report(const std::filesystem::path& case_dir);

// Removes what writers killed mid-write left in case_dir (temporary siblings of its files).
void remove_stale_case_temporaries(const std::filesystem::path& case_dir);

}  // namespace c2f
