#include "segmentation_outputs.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include <fmt/format.h>

#include "../evaluation/organ_statistics.hpp"
#include "../io/case_store.hpp"
#include "../io/dicom.hpp"
#include "../io/dicom_seg.hpp"
#include "../io/nifti.hpp"
#include "../io/overlay.hpp"
#include "../pipeline/atomic_file.hpp"
#include "../pipeline/errors.hpp"
#include "../stages/bounding_box.hpp"
#include "cohort_report.hpp"

namespace fs = std::filesystem;

namespace c2f {

namespace {
nlohmann::json box_json(const Box3& b) {
  return {{"lo", {b.lo[0], b.lo[1], b.lo[2]}}, {"hi", {b.hi[0], b.hi[1], b.hi[2]}}};
}

// Slices along z that hold prediction or truth, at most `limit` of them, evenly spaced.
std::vector<std::int64_t> overlay_slices(const Mask& prediction, const Mask& truth, int limit) {
  std::vector<std::int64_t> with;
  const std::int64_t plane = prediction.nx() * prediction.ny();
  for (std::int64_t z = 0; z < prediction.nz(); ++z) {
    const std::uint8_t* p = prediction.data() + z * plane;
    const std::uint8_t* t = truth.data() + z * plane;
    const auto any = [plane](const std::uint8_t* s) { return std::any_of(s, s + plane, [](std::uint8_t v) { return v != 0; }); };
    if (any(p) || any(t)) with.push_back(z);
  }
  if (int(with.size()) <= limit) return with;
  std::vector<std::int64_t> picked;
  for (int i = 0; i < limit; ++i) picked.push_back(with[std::size_t((2 * i + 1) * with.size() / (2 * std::size_t(limit)))]);
  return picked;
}
}  // namespace

nlohmann::json case_report(const CaseResult& r) {
  nlohmann::json j;
  j["case"] = r.input.id;
  j["source"] = r.input.source;
  if (!r.input.label_source.empty()) j["label"] = r.input.label_source;
  if (!r.error.empty()) {
    j["error"] = r.error;
    return j;
  }
  j["iterations"] = r.iterations();
  j["stop"] = stop_reason_name(r.stop);
  if (r.method != "coarse-to-fine") j["method"] = r.method;
  if (!r.measures.empty()) j["measures"] = r.measures;
  j["coarse_empty"] = r.coarse_empty;
  nlohmann::json d_t = nlohmann::json::array(), dsc = nlohmann::json::array(), rounds = nlohmann::json::array();
  for (const RoundRecord& rec : r.rounds) {
    if (rec.iteration > 0) d_t.push_back(rec.d_t);
    if (rec.iteration > 0 && rec.dsc >= 0) dsc.push_back(rec.dsc);
    nlohmann::json one{{"iteration", rec.iteration}, {"region", box_json(rec.region)}, {"voxels", rec.voxels},
                       {"box", box_json(rec.box)}};
    if (rec.fallback_region) one["fallback_region"] = true;
    if (rec.iteration > 0) one["d_t"] = rec.d_t;
    if (rec.dsc >= 0) one["dsc"] = rec.dsc;
    if (rec.truth_in_box >= 0) one["truth_in_box"] = rec.truth_in_box;
    if (rec.view_dsc[0] >= 0)
      one["dsc_views"] = {{"coronal", rec.view_dsc[0]}, {"sagittal", rec.view_dsc[1]}, {"axial", rec.view_dsc[2]}};
    rounds.push_back(one);
  }
  j["d_t"] = d_t;
  if (!d_t.empty()) j["final_d_t"] = d_t.back();
  if (!r.rounds.empty() && r.rounds.front().dsc >= 0) {
    j["dsc_coarse"] = r.rounds.front().dsc;
    j["truth_in_coarse_box"] = r.rounds.front().truth_in_box;
    j["dsc_per_iteration"] = dsc;
    j["dsc"] = r.rounds.back().dsc;
  }
  // Where the final mask lies: its bounding box, [lo, hi) voxel indices on the input's canonical
  // RAS grid (`grid`); the rounds' regions and boxes are on the grid the networks ran on.
  j["box"] = box_json(bounding_box(r.mask));
  j["voxels"] = count_foreground(r.mask);
  j["rounds"] = rounds;
  j["seconds"] = r.seconds;
  j["stage_seconds"] = r.stage_seconds;
  const auto grid_json = [](const Geometry& g) {
    return nlohmann::json{{"dims", {g.dims[0], g.dims[1], g.dims[2]}},
                          {"spacing_mm", {g.spacing_mm[0], g.spacing_mm[1], g.spacing_mm[2]}}};
  };
  // The canonical grid of the input (the mask file itself is on the input's own file grid) and
  // the grid the networks ran on, which differ when the input was resampled.
  const Geometry& network = r.network_grid.voxel_count() > 0 ? r.network_grid : r.input.image->geometry();
  j["grid"] = grid_json(r.input.image->geometry());
  j["network_grid"] = grid_json(network);
  j["input_spacing_mm"] = j["grid"]["spacing_mm"];
  j["network_spacing_mm"] = j["network_grid"]["spacing_mm"];
  j["resampled"] = network.dims != r.input.image->dims();
  const OrganStatistics s = organ_statistics(r.mask, *r.input.image);
  j["statistics"] = {{"volume_ml", s.volume_ml},
                     {"hu", {{"mean", s.mean_hu}, {"sd", s.sd_hu}, {"min", s.min_hu}, {"max", s.max_hu}}},
                     {"box_lps_mm", {{"min", s.box_min_lps_mm}, {"max", s.box_max_lps_mm}}},
                     {"centroid_lps_mm", s.centroid_lps_mm},
                     {"touches_first_slice", s.touches_first_slice},
                     {"touches_last_slice", s.touches_last_slice},
                     {"touches_field_of_view_edge", s.touches_field_of_view_edge},
                     {"incomplete", s.incomplete()},
                     {"components", s.components}};
  return j;
}

std::vector<std::string> write_case_outputs(const fs::path& out_dir, const CaseResult& r, const OutputOptions& options) {
  return write_case_outputs(out_dir, r, options, case_report(r));
}

std::vector<std::string> write_case_outputs(const fs::path& out_dir, const CaseResult& r, const OutputOptions& options,
                                            const nlohmann::json& report) {
  std::vector<std::string> warnings;
  const fs::path dir = out_dir / r.input.id;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw OutputError(dir.string(), "cannot create the case's folder: " + ec.message());
  if (r.error.empty()) {
    write_nifti(dir / "mask.nii.gz", r.mask, r.input.layout);
    if (options.probability && r.probability && options.probability_file == ProbabilityFile::H5) {
      CaseStoreWriter store(dir / "probability.h5", 1);
      store.add(r.input);
      store.add_probability(r.input.id, "fused", *r.probability);
      store.commit();
    } else if (options.probability && r.probability) {
      if (options.probability_float32) {
        write_nifti(dir / "probability.nii.gz", *r.probability, r.input.layout);
      } else {  // 0-255: a viewer's default window shows it, at a quarter of the size
        Mask scaled(r.probability->geometry(), 0);
        const float* p = r.probability->data();
        std::uint8_t* q = scaled.data();
        for (std::int64_t i = 0; i < scaled.size(); ++i) q[i] = std::uint8_t(std::lround(std::clamp(p[i], 0.f, 1.f) * 255.f));
        write_nifti(dir / "probability.nii.gz", scaled, r.input.layout);
      }
    }
    std::error_code dir_ec;
    if (options.dicom_seg && !r.input.source.empty() && fs::is_directory(r.input.source, dir_ec) && is_dicom_folder(r.input.source)) {
      try {
        write_dicom_seg(dir / "seg.dcm", r.input, r.mask);
      } catch (const InputError& e) {
        warnings.push_back(fmt::format("no DICOM-SEG for {}: {}", r.input.id, e.what()));
      }
    }
    if (options.overlays && r.input.label) {
      fs::create_directories(dir / "overlay", ec);
      if (ec) throw OutputError((dir / "overlay").string(), "cannot create folder: " + ec.message());
      for (std::int64_t z : overlay_slices(r.mask, *r.input.label, options.max_axial_overlays))
        write_png(dir / "overlay" / fmt::format("axial_{:04d}.png", z),
                  render_slice(*r.input.image, View::Axial, z, &r.mask, r.input.label.get()));
    }
    write_case_thumbnail(dir, r);
  }
  write_text_atomically(dir / "report.json", report.dump(2) + "\n");
  return warnings;
}

std::optional<nlohmann::json> finished_case_report(const fs::path& case_dir) {
  std::error_code ec;
  if (!fs::is_regular_file(case_dir / "report.json", ec) || !fs::is_regular_file(case_dir / "mask.nii.gz", ec))
    return std::nullopt;
  try {
    std::ifstream in(case_dir / "report.json");
    auto j = nlohmann::json::parse(in);
    if (!j.is_object() || j.contains("error") || !j.contains("iterations")) return std::nullopt;
    return j;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void remove_stale_case_temporaries(const fs::path& case_dir) {
  std::error_code ec;
  if (!fs::is_directory(case_dir, ec)) return;
  for (const char* name : {"report.json", "mask.nii.gz", "probability.h5", "probability.nii.gz", "seg.dcm", "thumbnail.png"}) remove_stale_temporaries(case_dir / name);
  if (fs::is_directory(case_dir / "overlay", ec))
    for (const auto& e : fs::directory_iterator(case_dir / "overlay", ec)) {
      const std::string n = e.path().filename().string();
      // ".axial_0012.png.tmp-PID-N.png" -> the temporaries of "axial_0012.png"
      if (n.size() > 1 && n[0] == '.' && n.find(".tmp-") != std::string::npos)
        remove_stale_temporaries(case_dir / "overlay" / n.substr(1, n.find(".tmp-") - 1));
    }
}

}  // namespace c2f
