#include "medical_image.hpp"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "dicom.hpp"
#include "nifti.hpp"
#include "../pipeline/errors.hpp"

namespace c2f {
namespace fs = std::filesystem;

MedicalImage read_medical_image(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path.string(), "no such file or folder");
  MedicalImage m;
  if (fs::is_directory(path, ec)) {
    DicomSeries s = read_dicom_series(path);
    m.image = std::move(s.image);
    m.layout = std::move(s.layout);
    m.format = "dicom";
    m.datatype = s.pixel_type;
    return m;
  }
  NiftiVolume v = read_nifti(path);
  m.image = std::move(v.image);
  m.layout = std::move(v.layout);
  m.format = v.header.version == 2 ? "nifti-2" : "nifti-1";
  m.datatype = v.header.datatype_name;
  m.qform_code = v.header.qform_code > 0 ? v.header.qform_code : 1;
  m.sform_code = v.header.sform_code > 0 ? v.header.sform_code : 1;
  return m;
}

nlohmann::json describe_image(const fs::path& path) {
  MedicalImage m = read_medical_image(path);
  const Geometry& g = m.layout.native;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
  for (float v : m.image.voxels()) {
    lo = std::min<double>(lo, v);
    hi = std::max<double>(hi, v);
    sum += v;
  }
  nlohmann::json direction = nlohmann::json::array();
  for (int r = 0; r < 3; ++r) direction.push_back({g.direction[r][0], g.direction[r][1], g.direction[r][2]});
  return {
      {"path", path.string()},
      {"format", m.format},
      {"dims", {g.dims[0], g.dims[1], g.dims[2]}},
      {"spacing", {g.spacing_mm[0], g.spacing_mm[1], g.spacing_mm[2]}},
      {"origin", {g.origin_mm[0], g.origin_mm[1], g.origin_mm[2]}},
      {"direction", direction},
      {"orientation", g.orientation_code()},
      {"canonical_orientation", "RAS"},
      {"datatype", m.datatype},
      {"min", lo},
      {"max", hi},
      {"mean", sum / double(m.image.size())},
  };
}

}  // namespace c2f
