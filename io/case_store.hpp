#pragma once
// The HDF5 case store: one file holding a cohort's images, labels and probability maps.
//
// Layout (readable by h5py as plain numpy arrays, index order [z, y, x]):
//   /cases/<id>/image            float32 HU, canonical RAS grid
//   /cases/<id>/label            uint8 0/1 (when the case has one)
//   /cases/<id>/prob/<name>      float32 probability maps (e.g. "coarse", "fine")
// Attributes of /cases/<id>: dims_xyz, spacing_mm, origin_mm (x, y, z order), direction (3x3,
// row-major, RAS), source, label_source, and the native layout (native_dims_xyz,
// native_spacing_mm, native_origin_mm, native_direction, source_axis, flipped) to write results
// back onto the original grid. Datasets are chunked (at most 16 x 64 x 64) with shuffle + gzip.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../pipeline/case.hpp"

namespace c2f {

// Writes a new store atomically: everything goes to a temporary file, commit() renames it into
// place. Destroyed without commit(), the temporary file is removed and no store appears.
class CaseStoreWriter {
 public:
  explicit CaseStoreWriter(std::filesystem::path path, int compression_level = 4);
  ~CaseStoreWriter();
  CaseStoreWriter(const CaseStoreWriter&) = delete;
  CaseStoreWriter& operator=(const CaseStoreWriter&) = delete;

  void add(const Case& c);
  void add_probability(const std::string& case_id, const std::string& name, const ProbabilityMap& p);
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class CaseStoreReader {
 public:
  // Throws InputError naming the file if it is missing or not a c2f case store.
  explicit CaseStoreReader(std::filesystem::path path);
  ~CaseStoreReader();

  std::vector<std::string> case_ids() const;
  Case read_case(const std::string& id) const;
  std::optional<ProbabilityMap> read_probability(const std::string& case_id, const std::string& name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace c2f
