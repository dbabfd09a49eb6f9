#include "nifti.hpp"

#include <nifti2_io.h>
#include <zlib.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>
#include <mutex>

#include <fmt/format.h>

#include "../pipeline/atomic_file.hpp"
#include "../pipeline/errors.hpp"
#include "../pipeline/reorient.hpp"

namespace c2f {
namespace fs = std::filesystem;

namespace {

// libnifti reports problems on stderr; c2f reports them itself, once, with the file's name.
void quiet_libnifti() {
  static std::once_flag once;
  std::call_once(once, [] { nifti_set_debug_level(0); });
}

struct NimFree {
  void operator()(nifti_image* nim) const { nifti_image_free(nim); }
};
using NimPtr = std::unique_ptr<nifti_image, NimFree>;

constexpr std::int64_t kMaxDim = 16384;          // no CT axis comes near this
constexpr std::int64_t kMaxVoxels = kMaxVolumeVoxels;

std::string datatype_name(int dt) {
  switch (dt) {
    case DT_UINT8: return "uint8";
    case DT_INT8: return "int8";
    case DT_INT16: return "int16";
    case DT_UINT16: return "uint16";
    case DT_INT32: return "int32";
    case DT_UINT32: return "uint32";
    case DT_INT64: return "int64";
    case DT_UINT64: return "uint64";
    case DT_FLOAT32: return "float32";
    case DT_FLOAT64: return "float64";
    default: return fmt::format("unsupported (NIfTI datatype code {})", dt);
  }
}

// Bits per voxel of the datatypes c2f reads; 0 for any other.
int datatype_bits(int dt) {
  switch (dt) {
    case DT_UINT8: case DT_INT8: return 8;
    case DT_INT16: case DT_UINT16: return 16;
    case DT_INT32: case DT_UINT32: case DT_FLOAT32: return 32;
    case DT_INT64: case DT_UINT64: case DT_FLOAT64: return 64;
    default: return 0;
  }
}

// A little- or big-endian integer from header bytes.
template <class Int>
Int read_int(const unsigned char* p, bool swap) {
  using U = std::make_unsigned_t<Int>;
  U v;
  std::memcpy(&v, p, sizeof v);
  if (swap) {
    if constexpr (sizeof v == 2) v = __builtin_bswap16(v);
    else if constexpr (sizeof v == 4) v = __builtin_bswap32(v);
    else v = __builtin_bswap64(v);
  }
  return static_cast<Int>(v);
}

// Checks that the file exists and starts with a sane NIfTI-1 or NIfTI-2 header, so that the
// error says what is wrong (libnifti would print its own complaints and return nothing).
// Returns the NIfTI version.
int check_header_bytes(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path.string(), "no such file");
  if (!fs::is_regular_file(path, ec)) throw InputError(path.string(), "not a regular file");
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InputError(path.string(), std::string("cannot open: ") + std::strerror(errno));
  unsigned char buf[544] = {};
  const int n = gzread(f, buf, sizeof buf);
  gzclose(f);
  if (n < 0) throw InputError(path.string(), "corrupt compressed data (gzip stream unreadable)");
  if (n < 348) throw InputError(path.string(), fmt::format("not a NIfTI file: only {} bytes, a header needs 348", n));
  const std::int32_t size_le = read_int<std::int32_t>(buf, false);
  const bool swap = !(size_le == 348 || size_le == 540);
  const std::int32_t size = read_int<std::int32_t>(buf, swap);
  std::int64_t dim[8];
  int version = 0;
  if (size == 348) {
    if (std::memcmp(buf + 344, "n+1\0", 4) != 0 && std::memcmp(buf + 344, "ni1\0", 4) != 0)
      throw InputError(path.string(), "not a NIfTI-1 file: bad magic (expected \"n+1\")");
    for (int i = 0; i < 8; ++i) dim[i] = read_int<std::int16_t>(buf + 40 + 2 * i, swap);
    version = 1;
  } else if (size == 540) {
    if (n < 540) throw InputError(path.string(), "truncated NIfTI-2 header");
    if (std::memcmp(buf + 4, "n+2\0", 4) != 0 && std::memcmp(buf + 4, "ni2\0", 4) != 0)
      throw InputError(path.string(), "not a NIfTI-2 file: bad magic (expected \"n+2\")");
    for (int i = 0; i < 8; ++i) dim[i] = read_int<std::int64_t>(buf + 16 + 8 * i, swap);
    version = 2;
  } else {
    throw InputError(path.string(), fmt::format("not a NIfTI file: header size field is {}, expected 348 or 540", size_le));
  }
  // The fields libnifti would accept silently or complain about on stderr.
  const bool v1 = version == 1;
  const int datatype = read_int<std::int16_t>(buf + (v1 ? 70 : 12), swap);
  const int bitpix = read_int<std::int16_t>(buf + (v1 ? 72 : 14), swap);
  const auto real = [&](int v1_offset, int v2_offset) {
    if (v1) {
      const std::uint32_t bits = read_int<std::uint32_t>(buf + v1_offset, swap);
      float f;
      std::memcpy(&f, &bits, sizeof f);
      return double(f);
    }
    const std::uint64_t bits = read_int<std::uint64_t>(buf + v2_offset, swap);
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  };
  const int bits = datatype_bits(datatype);
  if (bits == 0) throw InputError(path.string(), "unsupported datatype: " + datatype_name(datatype));
  if (bitpix != bits)
    throw InputError(path.string(), fmt::format("corrupt header: bitpix {} does not match datatype {} ({} bits)", bitpix,
                                                datatype_name(datatype), bits));
  for (int i = 1; i <= 3; ++i)
    if (const double p = real(76 + 4 * i, 104 + 8 * i); !std::isfinite(p))
      throw InputError(path.string(), fmt::format("corrupt header: voxel size pixdim[{}] = {}", i, p));
  // libnifti turns non-finite transform values into 0 and zero voxel sizes into 1: refuse both.
  const int qform_code = v1 ? read_int<std::int16_t>(buf + 252, swap) : read_int<std::int32_t>(buf + 344, swap);
  const int sform_code = v1 ? read_int<std::int16_t>(buf + 254, swap) : read_int<std::int32_t>(buf + 348, swap);
  for (int i = 0; i < 6 && qform_code > 0; ++i)  // quatern_b, c, d, qoffset_x, y, z
    if (const double q = real(256 + 4 * i, 352 + 8 * i); !std::isfinite(q))
      throw InputError(path.string(), fmt::format("corrupt header: qform parameter {} is {}", i, q));
  for (int i = 0; i < 12 && sform_code > 0; ++i)  // srow_x, srow_y, srow_z
    if (const double r = real(280 + 4 * i, 400 + 8 * i); !std::isfinite(r))
      throw InputError(path.string(), fmt::format("corrupt header: sform entry {} is {}", i, r));
  for (int i = 1; i <= 3 && qform_code <= 0 && sform_code <= 0; ++i)
    if (const double p = real(76 + 4 * i, 104 + 8 * i); !(p != 0))
      throw InputError(path.string(), fmt::format("no orientation and voxel size pixdim[{}] = {}", i, p));
  const double vox_offset = v1 ? real(108, 0) : double(read_int<std::int64_t>(buf + 168, swap));
  const bool single_file = v1 ? buf[345] == '+' : buf[5] == '+';
  if (single_file && !(vox_offset >= (v1 ? 352 : 544)))
    throw InputError(path.string(), fmt::format("corrupt header: voxel data offset {} lies inside the header", vox_offset));
  // NaN or 0 slope means "not scaled" (nibabel writes NaN); an infinite one is corruption.
  const double slope = real(112, 176), inter = real(116, 184);
  if (std::isinf(slope) || (slope != 0 && std::isfinite(slope) && !std::isfinite(inter)))
    throw InputError(path.string(), fmt::format("corrupt header: intensity scaling {} * x + {}", slope, inter));
  if (dim[0] < 1 || dim[0] > 7) throw InputError(path.string(), fmt::format("corrupt header: dim[0] = {}", dim[0]));
  for (int a = 1; a <= 3; ++a) {
    const std::int64_t d = a <= dim[0] ? dim[a] : 1;
    if (d <= 0) throw InputError(path.string(), fmt::format("dimension {} is {}: empty image", a - 1, d));
    if (d > kMaxDim) throw InputError(path.string(), fmt::format("absurd dimension {} = {}", a - 1, d));
  }
  for (int a = 4; a <= dim[0]; ++a)
    if (dim[a] > 1)
      throw InputError(path.string(), fmt::format("{}-D image with {} volumes: c2f reads one 3-D volume", dim[0], dim[a]));
  return version;
}


NimPtr open_header(const fs::path& path, int* version = nullptr) {
  quiet_libnifti();
  const int v = check_header_bytes(path);
  if (version) *version = v;
  NimPtr nim(nifti_image_read(path.c_str(), 0));
  if (!nim) throw InputError(path.string(), "corrupt NIfTI header (libnifti rejected it)");
  // libnifti's own reading of the dimensions (it does not set those past dim[0] to 1).
  if (nim->nx < 1 || nim->ny < 1 || nim->nz < 1)
    throw InputError(path.string(), fmt::format("{} x {} x {} voxels: empty image", nim->nx, nim->ny, nim->nz));
  if (nim->nx * nim->ny * nim->nz > kMaxVoxels) throw InputError(path.string(), "absurd size: more than 2^31 voxels");
  return nim;
}

Geometry grid_of(const nifti_image& nim, const fs::path& path) {
  nifti_dmat44 m{};
  if (nim.sform_code > 0) {
    m = nim.sto_xyz;
  } else if (nim.qform_code > 0) {
    m = nim.qto_xyz;
  } else {  // NIfTI "method 1": voxel sizes only, axes taken as RAS
    m.m[0][0] = std::abs(nim.dx);  // nonzero: checked in the header bytes
    m.m[1][1] = std::abs(nim.dy);
    m.m[2][2] = std::abs(nim.dz);
    m.m[3][3] = 1;
  }

  Geometry g;
  g.dims = {nim.nx, nim.ny, nim.nz};
  for (int c = 0; c < 3; ++c) {
    double norm = 0;
    for (int r = 0; r < 3; ++r) norm += m.m[r][c] * m.m[r][c];
    norm = std::sqrt(norm);
    if (!(norm > 0) || !std::isfinite(norm))
      throw InputError(path.string(), fmt::format("degenerate voxel-to-world matrix (axis {} has length {})", c, norm));
    g.spacing_mm[c] = norm;
    for (int r = 0; r < 3; ++r) g.direction[r][c] = m.m[r][c] / norm;
  }
  for (int r = 0; r < 3; ++r) g.origin_mm[r] = m.m[r][3];
  return g;
}

NiftiHeader header_of(const nifti_image& nim, const fs::path& path, int version) {
  NiftiHeader h;
  h.version = version;
  h.datatype = nim.datatype;
  h.datatype_name = datatype_name(nim.datatype);
  const bool scaled = nim.scl_slope != 0 && std::isfinite(nim.scl_slope);
  h.scl_slope = scaled ? nim.scl_slope : 1.0;
  h.scl_inter = scaled && std::isfinite(nim.scl_inter) ? nim.scl_inter : 0.0;
  h.qform_code = nim.qform_code;
  h.sform_code = nim.sform_code;
  h.grid = grid_of(nim, path);
  return h;
}

template <class S>
Image canonical_from(const void* data, const NativeLayout& layout, const fs::path& path) {
  const S* src = static_cast<const S*>(data);
  if constexpr (std::is_floating_point_v<S>) {
    const std::int64_t n = layout.native.voxel_count();
    for (std::int64_t i = 0; i < n; ++i)
      if (!std::isfinite(src[i])) {
        const auto& d = layout.native.dims;
        throw InputError(path.string(), fmt::format("{} at voxel ({}, {}, {})", std::isnan(src[i]) ? "NaN" : "Inf",
                                                    i % d[0], (i / d[0]) % d[1], i / (d[0] * d[1])));
      }
  }
  return to_canonical<float>(src, layout);
}

}  // namespace

NiftiHeader read_nifti_header(const fs::path& path) {
  int version = 1;
  NimPtr nim = open_header(path, &version);
  return header_of(*nim, path, version);
}

namespace {
// The voxel bytes, read through zlib (plain files too). Not nifti_image_load: it silently
// replaces NaN and Inf by 0, and c2f must refuse such volumes instead.
std::vector<char> read_voxel_bytes(const nifti_image& nim, const fs::path& path) {
  const std::size_t bytes = std::size_t(nim.nvox) * std::size_t(nim.nbyper);
  const auto truncated = [&] {
    return InputError(path.string(), fmt::format("truncated or corrupt voxel data (expected {} bytes at offset {})", bytes,
                                                 nim.iname_offset));
  };
  std::vector<char> data(bytes);
  const std::string data_file = nim.iname ? nim.iname : path.string();
  gzFile f = gzopen(data_file.c_str(), "rb");
  if (!f) throw InputError(data_file, std::string("cannot open: ") + std::strerror(errno));
  gzbuffer(f, 1 << 20);
  bool ok = gzseek(f, z_off_t(nim.iname_offset), SEEK_SET) == z_off_t(nim.iname_offset);
  for (std::size_t done = 0; ok && done < bytes;) {
    const unsigned chunk = unsigned(std::min<std::size_t>(bytes - done, 1u << 30));
    const int got = gzread(f, data.data() + done, chunk);
    ok = got == int(chunk);
    done += chunk;
  }
  gzclose(f);
  if (!ok) throw truncated();
  if (nim.byteorder != nifti_short_order() && nim.swapsize > 1)
    nifti_swap_Nbytes(std::int64_t(nim.nvox), nim.swapsize, data.data());
  return data;
}
}  // namespace

NiftiVolume read_nifti(const fs::path& path) {
  int version = 1;
  NimPtr nim = open_header(path, &version);
  NiftiVolume out;
  out.header = header_of(*nim, path, version);
  out.layout = canonical_layout(out.header.grid);
  const std::vector<char> voxels = read_voxel_bytes(*nim, path);
  const void* data = voxels.data();
  switch (nim->datatype) {
    case DT_UINT8: out.image = canonical_from<std::uint8_t>(data, out.layout, path); break;
    case DT_INT8: out.image = canonical_from<std::int8_t>(data, out.layout, path); break;
    case DT_INT16: out.image = canonical_from<std::int16_t>(data, out.layout, path); break;
    case DT_UINT16: out.image = canonical_from<std::uint16_t>(data, out.layout, path); break;
    case DT_INT32: out.image = canonical_from<std::int32_t>(data, out.layout, path); break;
    case DT_UINT32: out.image = canonical_from<std::uint32_t>(data, out.layout, path); break;
    case DT_INT64: out.image = canonical_from<std::int64_t>(data, out.layout, path); break;
    case DT_UINT64: out.image = canonical_from<std::uint64_t>(data, out.layout, path); break;
    case DT_FLOAT32: out.image = canonical_from<float>(data, out.layout, path); break;
    case DT_FLOAT64: out.image = canonical_from<double>(data, out.layout, path); break;
    default: throw InputError(path.string(), "unsupported datatype: " + out.header.datatype_name);
  }
  if (out.header.scl_slope != 1.0 || out.header.scl_inter != 0.0) {
    const float slope = float(out.header.scl_slope), inter = float(out.header.scl_inter);
    for (float& v : out.image.voxels()) v = v * slope + inter;
  }
  return out;
}

NiftiMask read_nifti_mask(const fs::path& path, int label_value) {
  NiftiVolume v = read_nifti(path);
  NiftiMask m{Mask(v.image.geometry()), v.layout, v.header};
  const float* src = v.image.data();
  std::uint8_t* dst = m.mask.data();
  if (label_value == 0) {
    for (std::int64_t i = 0; i < v.image.size(); ++i) dst[i] = src[i] > 0.5f ? 1 : 0;
  } else {
    const float want = float(label_value);
    for (std::int64_t i = 0; i < v.image.size(); ++i) dst[i] = std::abs(src[i] - want) < 0.5f ? 1 : 0;
  }
  return m;
}

std::array<std::array<double, 4>, 4> affine_of(const Geometry& g) {
  std::array<std::array<double, 4>, 4> a{};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) a[r][c] = g.direction[r][c] * g.spacing_mm[c];
    a[r][3] = g.origin_mm[r];
  }
  a[3][3] = 1;
  return a;
}

namespace {

template <class T>
constexpr int nifti_datatype() {
  if constexpr (std::is_same_v<T, std::uint8_t>) return DT_UINT8;
  else if constexpr (std::is_same_v<T, std::int16_t>) return DT_INT16;
  else if constexpr (std::is_same_v<T, std::int32_t>) return DT_INT32;
  else if constexpr (std::is_same_v<T, float>) return DT_FLOAT32;
  else if constexpr (std::is_same_v<T, double>) return DT_FLOAT64;
  else static_assert(sizeof(T) == 0, "write_nifti: unsupported voxel type");
}

// The header bytes (with the 4-byte extension flag after them) for a grid and datatype.
std::string header_bytes(const Geometry& grid, int datatype, const NiftiWriteOptions& o) {
  quiet_libnifti();
  int version = o.version;
  for (auto d : grid.dims)
    if (d > 32767) version = 2;
  const int64_t dims[8] = {3, grid.dims[0], grid.dims[1], grid.dims[2], 1, 1, 1, 1};
  NimPtr nim(nifti_make_new_nim(dims, datatype, 0));
  if (!nim) throw Error("libnifti could not make a header");
  nim->nifti_type = version == 2 ? NIFTI_FTYPE_NIFTI2_1 : NIFTI_FTYPE_NIFTI1_1;
  const auto a = affine_of(grid);
  nifti_dmat44 R{};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) R.m[r][c] = a[r][c];
  double dx, dy, dz, qfac;
  nifti_dmat44_to_quatern(R, &nim->quatern_b, &nim->quatern_c, &nim->quatern_d, &nim->qoffset_x, &nim->qoffset_y,
                          &nim->qoffset_z, &dx, &dy, &dz, &qfac);
  nim->qfac = qfac;
  nim->dx = nim->pixdim[1] = grid.spacing_mm[0];
  nim->dy = nim->pixdim[2] = grid.spacing_mm[1];
  nim->dz = nim->pixdim[3] = grid.spacing_mm[2];
  nim->pixdim[0] = qfac;
  nim->qto_xyz = R;
  nim->sto_xyz = R;
  nim->qform_code = o.qform_code;
  nim->sform_code = o.sform_code;
  nim->xyz_units = NIFTI_UNITS_MM;
  nim->scl_slope = 1.0;
  nim->scl_inter = 0.0;
  std::snprintf(nim->descrip, sizeof nim->descrip, "%s", o.description.c_str());
  nim->iname_offset = version == 2 ? 544 : 352;  // header + 4-byte extension flag, single file
  std::string bytes;
  if (version == 2) {
    nifti_2_header h{};
    if (nifti_convert_nim2n2hdr(nim.get(), &h) != 0) throw Error("libnifti could not make a NIfTI-2 header");
    bytes.assign(reinterpret_cast<const char*>(&h), sizeof h);
  } else {
    nifti_1_header h{};
    if (nifti_convert_nim2n1hdr(nim.get(), &h) != 0) throw Error("libnifti could not make a NIfTI-1 header");
    bytes.assign(reinterpret_cast<const char*>(&h), sizeof h);
  }
  bytes.resize(static_cast<std::size_t>(nim->iname_offset), '\0');  // extension flag = 0, padding
  return bytes;
}

void write_file(const fs::path& final_path, const std::string& header, const void* data, std::size_t bytes,
                int level) {
  const std::string name = final_path.filename().string();
  const bool gz = name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0;
  write_atomically(final_path, [&](const fs::path& tmp) {
    if (gz) {
      const std::string mode = "wb" + std::to_string(std::clamp(level, 1, 9));
      gzFile f = gzopen(tmp.c_str(), mode.c_str());
      if (!f) throw OutputError(final_path.string(), std::string("cannot create: ") + std::strerror(errno));
      gzbuffer(f, 1 << 20);
      bool ok = gzwrite(f, header.data(), unsigned(header.size())) == int(header.size());
      const char* p = static_cast<const char*>(data);
      for (std::size_t done = 0; ok && done < bytes;) {
        const unsigned chunk = unsigned(std::min<std::size_t>(bytes - done, 1u << 30));
        ok = gzwrite(f, p + done, chunk) == int(chunk);
        done += chunk;
      }
      const int err = errno;
      if (gzclose(f) != Z_OK || !ok)
        throw OutputError(final_path.string(), std::string("write failed: ") + std::strerror(err ? err : EIO));
    } else {
      std::FILE* f = std::fopen(tmp.c_str(), "wb");
      if (!f) throw OutputError(final_path.string(), std::string("cannot create: ") + std::strerror(errno));
      bool ok = std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
                std::fwrite(data, 1, bytes, f) == bytes && std::fflush(f) == 0;
      const int err = errno;
      ok = (std::fclose(f) == 0) && ok;
      if (!ok) throw OutputError(final_path.string(), std::string("write failed: ") + std::strerror(err ? err : EIO));
    }
  });
}

}  // namespace

template <class T>
void write_nifti(const fs::path& path, const Volume<T>& canonical, const NativeLayout& layout,
                 const NiftiWriteOptions& options) {
  if (canonical.dims() != canonical_geometry(layout).dims)
    throw OutputError(path.string(), "volume does not match the grid it is written onto");
  const std::string header = header_bytes(layout.native, nifti_datatype<T>(), options);
  if (layout.is_identity()) {
    write_file(path, header, canonical.data(), canonical.size() * sizeof(T), options.compression_level);
  } else {
    const std::vector<T> native = to_native(canonical, layout);
    write_file(path, header, native.data(), native.size() * sizeof(T), options.compression_level);
  }
}

template <class T>
void write_nifti(const fs::path& path, const Volume<T>& volume, const NiftiWriteOptions& options) {
  NativeLayout self;
  self.native = volume.geometry();
  write_nifti(path, volume, self, options);
}

#define C2F_INSTANTIATE_WRITE(T)                                                                         \
  template void write_nifti<T>(const fs::path&, const Volume<T>&, const NativeLayout&, const NiftiWriteOptions&); \
  template void write_nifti<T>(const fs::path&, const Volume<T>&, const NiftiWriteOptions&);
C2F_INSTANTIATE_WRITE(std::uint8_t)
C2F_INSTANTIATE_WRITE(std::int16_t)
C2F_INSTANTIATE_WRITE(std::int32_t)
C2F_INSTANTIATE_WRITE(float)
C2F_INSTANTIATE_WRITE(double)
#undef C2F_INSTANTIATE_WRITE

}  // namespace c2f
