#pragma once
// Real anatomy for the phantom: a label map of a real abdomen (no image), SynthSeg-style, so the
// pancreas and its neighbours have real shapes, sizes and positions.
//
// Label maps come from public sets with their own numbering; each is read into the phantom's
// organ vocabulary (AnatomyOrgan). The sets c2f knows (see ../shared/data/real-labels):
//   flare22   FLARE22 training labels, 13 organs, pancreas 4
//   word      WORD, 16 organs incl. colon, bowel, rectum, bladder, femoral heads, pancreas 8 (LPS files)
//   totalseg  TotalSegmentator v2 "total" ids, 117 structures incl. bones, muscles, lungs, pancreas 7
// The set is told by a folder of that name on the file's path, or by the caller (a hint).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "../pipeline/volume.hpp"

namespace c2f {

// The organs a label map can give the phantom. 0: nothing known there.
enum class AnatomyOrgan : std::uint8_t {
  None, Liver, Spleen, KidneyRight, KidneyLeft, Gallbladder, Stomach, Pancreas, Duodenum, SmallBowel, Colon,
  Rectum, Bladder, Aorta, Ivc, PortalSplenicVein, OtherArtery, OtherVein, Adrenal, Esophagus, Bone, Muscle, Lung,
  Heart, SpinalCord, OtherSoftTissue, Count
};
const char* organ_name(AnatomyOrgan o);

struct LabelMapAnatomy {
  std::filesystem::path file;
  std::string set;               // "flare22", "word", "totalseg"
  Volume<std::uint8_t> organs;   // AnatomyOrgan per voxel, canonical RAS grid of the map
  std::vector<bool> provides;    // per AnatomyOrgan: the map has it (so the phantom never paints it by hand)
  bool has(AnatomyOrgan o) const { return provides[std::size_t(o)]; }
};

// The set a file belongs to, from its path; empty when none is known.
std::string anatomy_set_of(const std::filesystem::path& file);

// True for "flare22", "word" and "totalseg".
bool is_anatomy_set(std::string_view set);

// Reads a label map. set: the set it belongs to; empty: told from its path. Throws InputError
// naming the file: unreadable, a set c2f does not know, or no pancreas in it.
LabelMapAnatomy read_label_map_anatomy(const std::filesystem::path& file, const std::string& set = {});

// The usable label maps under path (a file, or a folder searched recursively): the known sets'
// map files, sorted; maps that a set's labels.csv lists without pancreas are skipped, and so is
// the AbdomenAtlas case (the same patient as a FLARE22 case). set: as above, for files outside a
// set's folder. Throws InputError when none is there.
std::vector<std::filesystem::path> list_label_maps(const std::filesystem::path& path, const std::string& set = {});

// The label maps shipped with c2f (two TotalSegmentator subjects, CC BY 4.0): phantom/anatomy/.
std::filesystem::path shipped_anatomy_folder();

}  // namespace c2f
