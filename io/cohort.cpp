#include "cohort.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "case_store.hpp"
#include "dicom.hpp"
#include "medical_image.hpp"
#include "nifti.hpp"
#include "../pipeline/errors.hpp"

namespace c2f {
namespace fs = std::filesystem;

const char* layout_name(CohortLayout l) {
  switch (l) {
    case CohortLayout::Single: return "single";
    case CohortLayout::Nih: return "nih";
    case CohortLayout::Msd: return "msd";
    case CohortLayout::Plain: return "plain";
    case CohortLayout::Store: return "store";
  }
  return "?";
}

namespace {

bool is_nifti_name(const std::string& name) { return name.ends_with(".nii.gz") || name.ends_with(".nii"); }

std::string strip_nifti_ext(const std::string& name) {
  if (name.size() > 7 && name.ends_with(".nii.gz")) return name.substr(0, name.size() - 7);
  if (name.size() > 4 && name.ends_with(".nii")) return name.substr(0, name.size() - 4);
  return name;
}

// The first folder at or below dir that directly holds DICOM files (NIH nests study/series folders).
fs::path find_series_folder(const fs::path& dir) {
  if (is_dicom_folder(dir)) return dir;
  std::vector<fs::path> subdirs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory()) subdirs.push_back(e.path());
  std::sort(subdirs.begin(), subdirs.end());
  for (const auto& d : subdirs)
    if (auto found = find_series_folder(d); !found.empty()) return found;
  return {};
}

Cohort discover_msd(const fs::path& root) {
  const fs::path json_path = root / "dataset.json";
  nlohmann::json j;
  try {
    std::ifstream in(json_path);
    j = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw InputError(json_path.string(), std::string("invalid dataset.json: ") + e.what());
  }
  Cohort c{CohortLayout::Msd, root, {}};
  auto resolve = [&](const std::string& rel) { return (root / rel).lexically_normal(); };
  if (j.contains("training")) {
    if (!j["training"].is_array()) throw InputError(json_path.string(), "\"training\" is not a list");
    for (const auto& entry : j["training"]) {
      if (!entry.is_object() || !entry.contains("image") || !entry["image"].is_string())
        throw InputError(json_path.string(), "a \"training\" entry has no \"image\" path");
      CaseSource s;
      s.image = resolve(entry["image"].get<std::string>());
      if (entry.contains("label") && entry["label"].is_string()) s.label = resolve(entry["label"].get<std::string>());
      s.id = strip_nifti_ext(s.image.filename().string());
      c.cases.push_back(std::move(s));
    }
  }
  if (j.contains("test") && j["test"].is_array())
    for (const auto& entry : j["test"]) {
      const std::string rel = entry.is_string() ? entry.get<std::string>()
                              : entry.is_object() && entry.contains("image") ? entry["image"].get<std::string>()
                                                                             : std::string();
      if (rel.empty()) continue;
      CaseSource s;
      s.image = resolve(rel);
      s.id = strip_nifti_ext(s.image.filename().string());
      c.cases.push_back(std::move(s));
    }
  return c;
}

Cohort discover_nih(const fs::path& root, const std::vector<fs::path>& patient_dirs) {
  static const std::regex patient_re(R"(PANCREAS_(\d{4}))"), label_re(R"(label(\d{4})\.nii(\.gz)?)");
  std::map<std::string, fs::path> labels;
  std::error_code ec;
  auto scan_labels = [&](const fs::path& dir) {
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      std::smatch m;
      const std::string name = e.path().filename().string();
      if (e.is_regular_file() && std::regex_match(name, m, label_re)) labels[m[1]] = e.path();
    }
  };
  scan_labels(root);
  for (const auto& e : fs::directory_iterator(root, ec))
    if (e.is_directory()) scan_labels(e.path());

  Cohort c{CohortLayout::Nih, root, {}};
  for (const auto& dir : patient_dirs) {
    std::smatch m;
    const std::string name = dir.filename().string();
    std::regex_match(name, m, patient_re);
    CaseSource s;
    s.id = name;
    s.image = find_series_folder(dir);
    if (s.image.empty()) throw InputError(dir.string(), "no DICOM series below this patient folder");
    if (auto it = labels.find(m[1]); it != labels.end()) s.label = it->second;
    c.cases.push_back(std::move(s));
  }
  return c;
}

Cohort discover_plain(const fs::path& root) {
  static const char* kCompanions[] = {"_label", "_tissues"};
  Cohort c{CohortLayout::Plain, root, {}};
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || !is_nifti_name(name) || name.starts_with(".")) continue;
    const std::string stem = strip_nifti_ext(name);
    if (std::any_of(std::begin(kCompanions), std::end(kCompanions), [&](const char* s) { return stem.ends_with(s); }))
      continue;
    CaseSource s{stem, e.path(), {}};
    for (const char* ext : {".nii.gz", ".nii"})
      if (fs::exists(root / (stem + "_label" + ext))) {
        s.label = root / (stem + "_label" + ext);
        break;
      }
    c.cases.push_back(std::move(s));
  }
  return c;
}

}  // namespace

Cohort discover_cohort(const fs::path& input) {
  std::error_code ec;
  if (!fs::exists(input, ec)) throw InputError(input.string(), "no such file or folder");
  Cohort c;
  const std::string ext = input.extension().string();
  if (fs::is_regular_file(input, ec) && (ext == ".h5" || ext == ".hdf5")) {
    c = {CohortLayout::Store, input.parent_path(), {}};
    for (const std::string& id : CaseStoreReader(input).case_ids()) c.cases.push_back({id, input, {}, true});
  } else if (fs::is_regular_file(input, ec)) {
    c = {CohortLayout::Single, input.parent_path(), {{strip_nifti_ext(input.filename().string()), input, {}}}};
  } else if (fs::exists(input / "dataset.json")) {
    c = discover_msd(input);
  } else if (is_dicom_folder(input)) {
    c = {CohortLayout::Single, input, {{input.filename().string(), input, {}}}};
  } else {
    static const std::regex patient_re(R"(PANCREAS_\d{4})");
    std::vector<fs::path> patients;
    auto collect = [&](const fs::path& dir) {
      for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_directory() && std::regex_match(e.path().filename().string(), patient_re)) patients.push_back(e.path());
    };
    collect(input);
    if (patients.empty())  // TCIA's download nests the patients one folder down ("Pancreas-CT/")
      for (const auto& e : fs::directory_iterator(input, ec))
        if (e.is_directory()) collect(e.path());
    std::sort(patients.begin(), patients.end());
    c = patients.empty() ? discover_plain(input) : discover_nih(input, patients);
  }
  std::sort(c.cases.begin(), c.cases.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (c.cases.empty())
    throw InputError(input.string(),
                     "no cases found: expected a NIfTI file, a DICOM series folder, or a cohort folder "
                     "(NIH PANCREAS_NNNN/ + labelNNNN.nii.gz, MSD dataset.json, or <case>.nii.gz + <case>_label.nii.gz)");
  return c;
}

Case load_case(const CaseSource& source, double tol_mm) {
  if (source.in_store) return CaseStoreReader(source.image).read_case(source.id);
  MedicalImage m = read_medical_image(source.image);
  Case c;
  c.id = source.id;
  c.source = source.image.string();
  c.layout = m.layout;
  if (!source.label.empty()) {
    NiftiMask label = read_nifti_mask(source.label, source.label_value);
    const Geometry& ig = m.image.geometry();
    const Geometry& lg = label.mask.geometry();
    if (lg.dims != ig.dims)
      throw InputError(source.label.string(),
                       fmt::format("label grid {}x{}x{} differs from its image's {}x{}x{} ({})", lg.dims[0], lg.dims[1],
                                   lg.dims[2], ig.dims[0], ig.dims[1], ig.dims[2], source.image.string()));
    if (!lg.same_grid(ig, tol_mm))
      throw InputError(source.label.string(),
                       fmt::format("label does not line up with its image ({}): same size, but its voxels lie elsewhere "
                                   "in space (origin {:.1f},{:.1f},{:.1f} vs {:.1f},{:.1f},{:.1f} mm)",
                                   source.image.string(), lg.origin_mm[0], lg.origin_mm[1], lg.origin_mm[2],
                                   ig.origin_mm[0], ig.origin_mm[1], ig.origin_mm[2]));
    c.label = std::make_shared<const Mask>(std::move(label.mask));
    c.label_source = source.label.string();
  }
  c.image = std::make_shared<const Image>(std::move(m.image));
  return c;
}

}  // namespace c2f
