#include "case_store.hpp"

#include <H5Cpp.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "../pipeline/atomic_file.hpp"
#include "../pipeline/errors.hpp"

namespace c2f {
namespace fs = std::filesystem;

namespace {

// Debian's HDF5 is built without its thread-safe option, so every call into it from c2f is
// serialised through this one lock.
std::mutex& hdf5_lock() {
  static std::mutex m;
  return m;
}

void quiet_hdf5() {
  static std::once_flag once;
  std::call_once(once, [] { H5::Exception::dontPrint(); });
}

template <class T>
const H5::PredType& h5_type() {
  if constexpr (std::is_same_v<T, float>) return H5::PredType::NATIVE_FLOAT;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return H5::PredType::NATIVE_UINT8;
  else if constexpr (std::is_same_v<T, double>) return H5::PredType::NATIVE_DOUBLE;
  else if constexpr (std::is_same_v<T, std::int64_t>) return H5::PredType::NATIVE_INT64;
  else static_assert(sizeof(T) == 0);
}

template <class T, std::size_t N>
void put_array(H5::H5Object& obj, const char* name, const std::array<T, N>& v) {
  const hsize_t n = N;
  H5::Attribute a = obj.createAttribute(name, h5_type<T>(), H5::DataSpace(1, &n));
  a.write(h5_type<T>(), v.data());
}

template <class T, std::size_t N>
std::array<T, N> get_array(const H5::H5Object& obj, const char* name) {
  H5::Attribute a = obj.openAttribute(name);
  if (a.getSpace().getSimpleExtentNpoints() != hssize_t(N))
    throw H5::AttributeIException("get_array", std::string("attribute ") + name + " has the wrong length");
  std::array<T, N> v{};
  a.read(h5_type<T>(), v.data());
  return v;
}

void put_string(H5::H5Object& obj, const char* name, const std::string& s) {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  H5::Attribute a = obj.createAttribute(name, type, H5::DataSpace(H5S_SCALAR));
  a.write(type, s);
}

std::string get_string(const H5::H5Object& obj, const char* name) {
  if (!obj.attrExists(name)) return {};
  H5::Attribute a = obj.openAttribute(name);
  std::string s;
  a.read(a.getStrType(), s);
  return s;
}

void put_geometry(H5::H5Object& obj, const std::string& prefix, const Geometry& g) {
  put_array(obj, (prefix + "dims_xyz").c_str(), std::array<std::int64_t, 3>{g.dims[0], g.dims[1], g.dims[2]});
  put_array(obj, (prefix + "spacing_mm").c_str(), g.spacing_mm);
  put_array(obj, (prefix + "origin_mm").c_str(), g.origin_mm);
  std::array<double, 9> d{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) d[r * 3 + c] = g.direction[r][c];
  put_array(obj, (prefix + "direction").c_str(), d);
}

Geometry get_geometry(const H5::H5Object& obj, const std::string& prefix) {
  Geometry g;
  const auto dims = get_array<std::int64_t, 3>(obj, (prefix + "dims_xyz").c_str());
  g.dims = {dims[0], dims[1], dims[2]};
  g.spacing_mm = get_array<double, 3>(obj, (prefix + "spacing_mm").c_str());
  g.origin_mm = get_array<double, 3>(obj, (prefix + "origin_mm").c_str());
  const auto d = get_array<double, 9>(obj, (prefix + "direction").c_str());
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) g.direction[r][c] = d[r * 3 + c];
  return g;
}

template <class T>
void put_volume(H5::Group& group, const std::string& name, const Volume<T>& v, int level) {
  const hsize_t dims[3] = {hsize_t(v.nz()), hsize_t(v.ny()), hsize_t(v.nx())};
  const hsize_t chunk[3] = {std::min<hsize_t>(16, dims[0]), std::min<hsize_t>(64, dims[1]), std::min<hsize_t>(64, dims[2])};
  H5::DSetCreatPropList plist;
  plist.setChunk(3, chunk);
  plist.setShuffle();
  plist.setDeflate(unsigned(std::clamp(level, 0, 9)));
  H5::DataSet ds = group.createDataSet(name, h5_type<T>(), H5::DataSpace(3, dims), plist);
  ds.write(v.data(), h5_type<T>());
}

template <class T>
Volume<T> get_volume(const H5::Group& group, const std::string& name, const Geometry& g) {
  H5::DataSet ds = group.openDataSet(name);
  hsize_t dims[3] = {0, 0, 0};
  if (ds.getSpace().getSimpleExtentNdims() != 3) throw H5::DataSetIException("get_volume", name + " is not 3-D");
  ds.getSpace().getSimpleExtentDims(dims);
  if (dims[0] != hsize_t(g.dims[2]) || dims[1] != hsize_t(g.dims[1]) || dims[2] != hsize_t(g.dims[0]))
    throw H5::DataSetIException("get_volume", name + " does not match the case's dims_xyz");
  Volume<T> v(g);
  ds.read(v.data(), h5_type<T>());
  return v;
}

std::string case_path(const std::string& id) { return "/cases/" + id; }

}  // namespace

// The store is built in memory (HDF5's core driver) and written to disk in one piece by
// write_text_atomically: HDF5 writing straight to a file that fails mid-way (a full disk) leaves
// handles it cannot close, destructors that print, and, seen here, a crash at exit; c2f's own
// writer fails cleanly with the file's name and the system's reason, and leaves nothing behind.
struct CaseStoreWriter::Impl {
  fs::path path;
  int level;
  std::unique_ptr<H5::H5File> file;
  bool committed = false;
};

CaseStoreWriter::CaseStoreWriter(fs::path path, int compression_level) : impl_(std::make_unique<Impl>()) {
  quiet_hdf5();
  impl_->path = std::move(path);
  impl_->level = compression_level;
  std::lock_guard lock(hdf5_lock());
  try {
    H5::FileAccPropList fapl;
    fapl.setCore(std::size_t(16) << 20, false);  // grow by 16 MiB, no backing file
    // The name is never created on disk; HDF5 only needs it unique among the open files.
    impl_->file = std::make_unique<H5::H5File>(temporary_sibling(impl_->path).string(), H5F_ACC_TRUNC,
                                               H5::FileCreatPropList::DEFAULT, fapl);
    H5::Group root = impl_->file->openGroup("/");
    put_string(root, "format", "c2f case store 1");
    impl_->file->createGroup("/cases");
  } catch (const H5::Exception& e) {
    throw OutputError(impl_->path.string(), "cannot create HDF5 store: " + e.getDetailMsg());
  }
}

CaseStoreWriter::~CaseStoreWriter() {
  if (!impl_ || !impl_->file) return;
  std::lock_guard lock(hdf5_lock());
  try {
    impl_->file.reset();
  } catch (...) {
  }
}

void CaseStoreWriter::add(const Case& c) {
  if (!c.image) throw OutputError(impl_->path.string(), "case " + c.id + " has no image");
  if (c.id.empty() || c.id.find('/') != std::string::npos)
    throw OutputError(impl_->path.string(), "case id '" + c.id + "' is empty or holds '/'");
  std::lock_guard lock(hdf5_lock());
  try {
    H5::Group g = impl_->file->createGroup(case_path(c.id));
    put_geometry(g, "", c.image->geometry());
    put_geometry(g, "native_", c.layout.native);
    put_array(g, "source_axis", std::array<std::int64_t, 3>{c.layout.source_axis[0], c.layout.source_axis[1], c.layout.source_axis[2]});
    put_array(g, "flipped", std::array<std::int64_t, 3>{c.layout.flipped[0], c.layout.flipped[1], c.layout.flipped[2]});
    put_string(g, "source", c.source);
    put_string(g, "label_source", c.label_source);
    put_volume(g, "image", *c.image, impl_->level);
    if (c.label) put_volume(g, "label", *c.label, impl_->level);
    g.createGroup("prob");
  } catch (const H5::Exception& e) {
    throw OutputError(impl_->path.string(), "case " + c.id + ": " + e.getDetailMsg());
  }
}

void CaseStoreWriter::add_probability(const std::string& case_id, const std::string& name, const ProbabilityMap& p) {
  std::lock_guard lock(hdf5_lock());
  try {
    H5::Group g = impl_->file->openGroup(case_path(case_id) + "/prob");
    put_volume(g, name, p, impl_->level);
  } catch (const H5::Exception& e) {
    throw OutputError(impl_->path.string(), "case " + case_id + ", map " + name + ": " + e.getDetailMsg());
  }
}

void CaseStoreWriter::commit() {
  std::vector<char> image;
  {
    std::lock_guard lock(hdf5_lock());
    try {
      impl_->file->flush(H5F_SCOPE_GLOBAL);
      const hid_t id = impl_->file->getId();
      const ssize_t size = H5Fget_file_image(id, nullptr, 0);
      if (size < 0) throw H5::FileIException("commit", "cannot size the file image");
      image.resize(std::size_t(size));
      if (H5Fget_file_image(id, image.data(), image.size()) != size)
        throw H5::FileIException("commit", "cannot copy the file image");
      impl_->file->close();
      impl_->file.reset();
    } catch (const H5::Exception& e) {
      throw OutputError(impl_->path.string(), "cannot finish HDF5 store: " + e.getDetailMsg());
    }
  }
  write_text_atomically(impl_->path, std::string_view(image.data(), image.size()));
  impl_->committed = true;
}

struct CaseStoreReader::Impl {
  fs::path path;
  std::unique_ptr<H5::H5File> file;
};

CaseStoreReader::CaseStoreReader(fs::path path) : impl_(std::make_unique<Impl>()) {
  quiet_hdf5();
  impl_->path = std::move(path);
  std::error_code ec;
  if (!fs::exists(impl_->path, ec)) throw InputError(impl_->path.string(), "no such file");
  std::lock_guard lock(hdf5_lock());
  try {
    if (!H5::H5File::isHdf5(impl_->path.string())) throw InputError(impl_->path.string(), "not an HDF5 file");
    impl_->file = std::make_unique<H5::H5File>(impl_->path.string(), H5F_ACC_RDONLY);
    if (get_string(impl_->file->openGroup("/"), "format").rfind("c2f case store", 0) != 0 ||
        !impl_->file->nameExists("/cases"))
      throw InputError(impl_->path.string(), "HDF5 file is not a c2f case store (no format attribute or /cases)");
  } catch (const H5::Exception& e) {
    throw InputError(impl_->path.string(), "unreadable HDF5 store: " + e.getDetailMsg());
  }
}

CaseStoreReader::~CaseStoreReader() {
  std::lock_guard lock(hdf5_lock());
  impl_->file.reset();
}

std::vector<std::string> CaseStoreReader::case_ids() const {
  std::lock_guard lock(hdf5_lock());
  try {
    H5::Group cases = impl_->file->openGroup("/cases");
    std::vector<std::string> ids;
    for (hsize_t i = 0; i < cases.getNumObjs(); ++i) ids.push_back(cases.getObjnameByIdx(i));
    std::sort(ids.begin(), ids.end());
    return ids;
  } catch (const H5::Exception& e) {
    throw InputError(impl_->path.string(), "cannot list cases: " + e.getDetailMsg());
  }
}

Case CaseStoreReader::read_case(const std::string& id) const {
  std::lock_guard lock(hdf5_lock());
  try {
    if (!impl_->file->nameExists(case_path(id))) throw InputError(impl_->path.string(), "no case '" + id + "' in the store");
    H5::Group g = impl_->file->openGroup(case_path(id));
    Case c;
    c.id = id;
    const Geometry geom = get_geometry(g, "");
    c.layout.native = get_geometry(g, "native_");
    const auto axis = get_array<std::int64_t, 3>(g, "source_axis");
    const auto flipped = get_array<std::int64_t, 3>(g, "flipped");
    for (int a = 0; a < 3; ++a) {
      c.layout.source_axis[a] = int(axis[a]);
      c.layout.flipped[a] = flipped[a] != 0;
    }
    const auto bad = [&](const std::string& what) { return InputError(impl_->path.string(), "case " + id + ": " + what); };
    if (std::string p = geom.problem(); !p.empty()) throw bad(p);
    if (std::string p = c.layout.problem(geom); !p.empty()) throw bad(p);
    c.source = get_string(g, "source");
    c.label_source = get_string(g, "label_source");
    c.image = std::make_shared<const Image>(get_volume<float>(g, "image", geom));
    for (const float v : c.image->voxels())
      if (!std::isfinite(v)) throw bad("image holds non-finite values (NaN or Inf)");
    if (g.nameExists("label")) c.label = std::make_shared<const Mask>(get_volume<std::uint8_t>(g, "label", geom));
    return c;
  } catch (const H5::Exception& e) {
    throw InputError(impl_->path.string(), "case " + id + ": " + e.getDetailMsg());
  }
}

std::optional<ProbabilityMap> CaseStoreReader::read_probability(const std::string& case_id, const std::string& name) const {
  std::lock_guard lock(hdf5_lock());
  try {
    const std::string p = case_path(case_id) + "/prob/" + name;
    if (!impl_->file->nameExists(case_path(case_id)) || !impl_->file->nameExists(p)) return std::nullopt;
    H5::Group g = impl_->file->openGroup(case_path(case_id));
    return get_volume<float>(impl_->file->openGroup(case_path(case_id) + "/prob"), name, get_geometry(g, ""));
  } catch (const H5::Exception& e) {
    throw InputError(impl_->path.string(), "case " + case_id + ", map " + name + ": " + e.getDetailMsg());
  }
}

}  // namespace c2f
