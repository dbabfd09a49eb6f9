#pragma once
// Cohorts: the data set layouts users bring, found by looking at what a folder holds.
//
//   nih     NIH Pancreas-CT: folders PANCREAS_NNNN/ (a DICOM series somewhere below each) and
//           label files labelNNNN.nii.gz in the root or one folder down.
//   msd     Medical Segmentation Decathlon (Task07): dataset.json, imagesTr/, labelsTr/, imagesTs/.
//           Labels 1 (pancreas) and 2 (tumour) both count as pancreas.
//   plain   <case>.nii.gz with <case>_label.nii.gz beside it (what c2f-phantom writes by default).
//   single  one NIfTI file or one DICOM series folder: a cohort of one, without a label.
//   store   an HDF5 case store (.h5, io/case_store.hpp): its cases, with their labels.
#include <filesystem>
#include <string>
#include <vector>

#include "../pipeline/case.hpp"

namespace c2f {

enum class CohortLayout { Single, Nih, Msd, Plain, Store };
const char* layout_name(CohortLayout l);

struct CaseSource {
  std::string id;
  std::filesystem::path image;  // a NIfTI file or a DICOM series folder
  std::filesystem::path label;  // empty when there is none
  int label_value = 0;          // 0: every non-zero label voxel; N: voxels of value N (a multi-organ map)
  bool in_store = false;        // image is an HDF5 case store holding this case (and its label)
};

struct Cohort {
  CohortLayout layout = CohortLayout::Single;
  std::filesystem::path root;
  std::vector<CaseSource> cases;  // sorted by id
};

// Finds the cases under input. Throws InputError when nothing usable is there.
Cohort discover_cohort(const std::filesystem::path& input);

// Reads a case's image and label. Throws InputError naming the label when its grid differs from
// the image's (size, or position beyond tol_mm).
Case load_case(const CaseSource& source, double tol_mm = 0.5);

}  // namespace c2f
