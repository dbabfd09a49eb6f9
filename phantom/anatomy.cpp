#include "anatomy.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "../io/nifti.hpp"
#include "../pipeline/errors.hpp"

namespace fs = std::filesystem;

namespace c2f {

namespace {
using O = AnatomyOrgan;

constexpr std::array<const char*, std::size_t(O::Count)> kOrganNames{
    "none", "liver", "spleen", "kidney_right", "kidney_left", "gallbladder", "stomach", "pancreas", "duodenum",
    "small_bowel", "colon", "rectum", "bladder", "aorta", "ivc", "portal_splenic_vein", "other_artery", "other_vein",
    "adrenal", "esophagus", "bone", "muscle", "lung", "heart", "spinal_cord", "other_soft_tissue"};

// Each set's label values, from the set's README (../shared/data/real-labels/<set>/README.md).
std::map<int, O> flare22_table() {
  return {{1, O::Liver},       {2, O::KidneyRight}, {3, O::Spleen},  {4, O::Pancreas},     {5, O::Aorta},
          {6, O::Ivc},         {7, O::Adrenal},     {8, O::Adrenal}, {9, O::Gallbladder},  {10, O::Esophagus},
          {11, O::Stomach},    {12, O::Duodenum},   {13, O::KidneyLeft}};
}
std::map<int, O> word_table() {
  return {{1, O::Liver},    {2, O::Spleen},     {3, O::KidneyLeft}, {4, O::KidneyRight}, {5, O::Stomach},
          {6, O::Gallbladder}, {7, O::Esophagus}, {8, O::Pancreas},  {9, O::Duodenum},    {10, O::Colon},
          {11, O::SmallBowel}, {12, O::Adrenal},  {13, O::Rectum},   {14, O::Bladder},    {15, O::Bone},
          {16, O::Bone}};
}
std::map<int, O> totalseg_table() {  // TotalSegmentator v2 "total" class ids
  std::map<int, O> t{{1, O::Spleen},  {2, O::KidneyRight}, {3, O::KidneyLeft}, {4, O::Gallbladder}, {5, O::Liver},
                     {6, O::Stomach}, {7, O::Pancreas},    {8, O::Adrenal},    {9, O::Adrenal},     {15, O::Esophagus},
                     {18, O::SmallBowel}, {19, O::Duodenum}, {20, O::Colon},   {21, O::Bladder},    {22, O::OtherSoftTissue},
                     {23, O::KidneyLeft}, {24, O::KidneyRight}, {51, O::Heart}, {52, O::Aorta},     {53, O::OtherVein},
                     {62, O::OtherVein}, {63, O::Ivc},      {64, O::PortalSplenicVein}, {65, O::OtherArtery},
                     {66, O::OtherArtery}, {67, O::OtherVein}, {68, O::OtherVein}, {79, O::SpinalCord},
                     {17, O::OtherSoftTissue}};  // 16 trachea (air) and 90 brain: left to the hand-made body
  for (int v = 10; v <= 14; ++v) t[v] = O::Lung;
  for (int v = 25; v <= 50; ++v) t[v] = O::Bone;    // sacrum and vertebrae
  for (int v = 69; v <= 78; ++v) t[v] = O::Bone;    // humeri, scapulae, claviculae, femora, hips
  for (int v = 80; v <= 89; ++v) t[v] = O::Muscle;  // glutei, autochthon, iliopsoas
  for (int v = 91; v <= 117; ++v) t[v] = O::Bone;   // skull, ribs, sternum, costal cartilages
  for (int v = 54; v <= 61; ++v) t[v] = v <= 58 ? O::OtherArtery : O::OtherVein;
  return t;
}

std::map<int, O> table_of(const std::string& set) {
  if (set == "flare22") return flare22_table();
  if (set == "word") return word_table();
  return totalseg_table();
}

// Pancreas-free maps a set's labels.csv lists (column pancreas_nonempty = False).
std::vector<std::string> maps_without_pancreas(const fs::path& csv) {
  std::vector<std::string> out;
  std::ifstream in(csv);
  std::string line, header;
  if (!std::getline(in, header)) return out;
  std::vector<std::string> names;
  std::stringstream hs(header);
  for (std::string c; std::getline(hs, c, ',');) names.push_back(c);
  const auto col = std::find(names.begin(), names.end(), "pancreas_nonempty") - names.begin();
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ls(line);
    for (std::string c; std::getline(ls, c, ',');) cells.push_back(c);
    if (std::size_t(col) < cells.size() && cells[std::size_t(col)] == "False") out.push_back(cells[0]);
  }
  return out;
}

bool is_map_file(const fs::path& p, const std::string& hint) {
  const std::string name = p.filename().string();
  const bool nifti = name.ends_with(".nii.gz") || name.ends_with(".nii");
  if (!nifti) return false;
  std::string set = anatomy_set_of(p);
  if (set.empty()) set = hint;
  if (set == "totalseg") return name.find("_total_v2_labels") != std::string::npos;
  if (set == "word") return p.parent_path().filename() == "labelsTs" || name.find("_label") != std::string::npos;
  return set == "flare22";
}
}  // namespace

const char* organ_name(AnatomyOrgan o) { return kOrganNames[std::size_t(o)]; }

bool is_anatomy_set(std::string_view set) { return set == "flare22" || set == "word" || set == "totalseg"; }

std::string anatomy_set_of(const fs::path& file) {
  for (const auto& part : file)
    for (const char* set : {"flare22", "word", "totalseg"})
      if (part == set) return set;
  return {};
}

LabelMapAnatomy read_label_map_anatomy(const fs::path& file, const std::string& set) {
  LabelMapAnatomy a;
  a.file = file;
  a.set = set.empty() ? anatomy_set_of(file) : set;
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) throw InputError(file.string(), "no such label map");
  if (!is_anatomy_set(a.set))
    throw InputError(file.string(), set.empty() ? "not a label map of a known set (no folder named flare22, word or totalseg on "
                                                  "its path, and no set given)"
                                                : "unknown label-map set '" + set + "' (expected flare22, word or totalseg)");
  const NiftiVolume v = read_nifti(file);  // canonical RAS, whatever the file stores (WORD is LPS)
  const auto table = table_of(a.set);
  std::array<std::uint8_t, 256> lookup{};
  for (const auto& [value, organ] : table)
    if (value >= 0 && value < 256) lookup[std::size_t(value)] = std::uint8_t(organ);
  a.organs = Volume<std::uint8_t>(v.image.geometry());
  a.provides.assign(std::size_t(O::Count), false);
  const float* src = v.image.data();
  std::uint8_t* dst = a.organs.data();
  for (std::int64_t i = 0; i < v.image.size(); ++i) {
    const long value = std::lround(src[i]);
    const std::uint8_t o = value > 0 && value < 256 ? lookup[std::size_t(value)] : 0;
    dst[i] = o;
    a.provides[o] = true;
  }
  a.provides[0] = false;
  if (!a.has(O::Pancreas)) throw InputError(file.string(), "holds no pancreas: a phantom's anatomy needs one");
  return a;
}

std::vector<fs::path> list_label_maps(const fs::path& path, const std::string& set) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return {path};
  if (!fs::is_directory(path, ec)) throw InputError(path.string(), "no such label map or folder");
  std::vector<fs::path> out;
  std::vector<std::string> skip;
  for (auto it = fs::recursive_directory_iterator(path, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const fs::path p = it->path();
    if (p.filename() == "abdomenatlas-case") {  // the same CT as FLARE22_Tr_0014: not another patient
      it.disable_recursion_pending();
      continue;
    }
    if (p.filename() == "labels.csv")
      for (const auto& rel : maps_without_pancreas(p)) skip.push_back((p.parent_path() / rel).lexically_normal().string());
    if (it->is_regular_file(ec) && is_map_file(p, set)) out.push_back(p.lexically_normal());
  }
  std::erase_if(out, [&](const fs::path& p) { return std::find(skip.begin(), skip.end(), p.string()) != skip.end(); });
  std::sort(out.begin(), out.end());
  if (out.empty()) throw InputError(path.string(), "holds no label map of a known set (flare22, word, totalseg)");
  return out;
}

fs::path shipped_anatomy_folder() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / "share" / "c2f" / "anatomy";
    if (fs::exists(installed)) return installed;
  }
  return C2F_SOURCE_ANATOMY;
}

}  // namespace c2f
