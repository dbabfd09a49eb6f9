#include "dicom.hpp"

#include <gdcmAttribute.h>
#include <gdcmDirectory.h>
#include <gdcmImageReader.h>
#include <gdcmImageWriter.h>
#include <gdcmScanner.h>
#include <gdcmTrace.h>
#include <gdcmTransferSyntax.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "../pipeline/atomic_file.hpp"
#include "../pipeline/errors.hpp"
#include "../pipeline/reorient.hpp"

namespace c2f {
namespace fs = std::filesystem;

namespace {

const gdcm::Tag kSopClassUid(0x0008, 0x0016), kSopInstanceUid(0x0008, 0x0018), kStudyUid(0x0020, 0x000d),
    kFrameOfReferenceUid(0x0020, 0x0052);
const gdcm::Tag kSeriesUid(0x0020, 0x000e), kPosition(0x0020, 0x0032), kOrientation(0x0020, 0x0037),
    kPixelSpacing(0x0028, 0x0030), kModality(0x0008, 0x0060), kRows(0x0028, 0x0010), kColumns(0x0028, 0x0011),
    kSamplesPerPixel(0x0028, 0x0002), kBitsAllocated(0x0028, 0x0100), kBitsStored(0x0028, 0x0101),
    kPixelRepresentation(0x0028, 0x0103), kRescaleIntercept(0x0028, 0x1052), kRescaleSlope(0x0028, 0x1053);

std::vector<double> parse_numbers(const char* s) {
  std::vector<double> v;
  if (!s) return v;
  std::string text(s);
  std::replace(text.begin(), text.end(), '\\', ' ');
  std::istringstream in(text);
  double x;
  while (in >> x) v.push_back(x);
  return v;
}

std::string trimmed(const char* s) {
  if (!s) return {};
  std::string t(s);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\0')) t.pop_back();
  return t;
}

Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

struct SliceInfo {
  fs::path file;
  Vec3 position;
  double along_normal = 0;
  std::string sop_class_uid, sop_instance_uid, study_uid, frame_of_reference_uid;
};

// A series as its headers describe it, slices in position order: everything but the pixels.
struct ScannedSeries {
  std::vector<SliceInfo> slices;
  std::vector<double> orientation, spacing;  // ImageOrientationPatient, PixelSpacing
  double slice_spacing = 1.0;
  std::int64_t rows = -1, cols = -1;
  std::string series_uid, modality;
  Geometry native;
};

template <class S>
void to_hu(const char* raw, std::size_t n, double slope, double inter, float* out) {
  const S* src = reinterpret_cast<const S*>(raw);
  for (std::size_t i = 0; i < n; ++i) out[i] = float(double(src[i]) * slope + inter);
}

// GDCM writes its warnings and errors to stderr; c2f reports problems itself, once, naming the file.
void quiet_gdcm() {
  static std::once_flag once;
  std::call_once(once, [] {
    gdcm::Trace::SetDebug(false);
    gdcm::Trace::SetWarning(false);
    gdcm::Trace::SetError(false);
  });
}

bool has_dicm_preamble(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  char buf[132];
  return f.read(buf, 132) && std::memcmp(buf + 128, "DICM", 4) == 0;
}

// What is wrong with a Part-10 file's meta information group (0002), or "": GDCM asserts (and
// the process aborts) when that group is cut short, e.g. a file that ends inside it or right
// after it (found by fuzzing). Walked here as GDCM reads it: explicit VR, little endian.
std::string file_meta_problem(const fs::path& p) {
  std::error_code ec;
  const std::uintmax_t file_size = fs::file_size(p, ec);
  if (ec) return {};
  std::ifstream f(p, std::ios::binary);
  std::vector<unsigned char> b(std::size_t(1) << 16);
  f.read(reinterpret_cast<char*>(b.data()), std::streamsize(b.size()));
  b.resize(std::size_t(f.gcount()));
  if (b.size() < 132 || std::memcmp(b.data() + 128, "DICM", 4) != 0) return {};  // no meta group: GDCM's other path
  const auto u16 = [&](std::size_t at) { return unsigned(b[at]) | unsigned(b[at + 1]) << 8; };
  constexpr const char* kCut = "the file ends inside (or right after) its file meta information";
  std::uint64_t at = 132;
  for (;;) {
    if (at + 4 > file_size) return kCut;
    if (at + 12 > b.size() && b.size() < file_size) return {};  // past what was read: left to GDCM
    if (u16(at) != 0x0002) return {};
    if (at + 8 > file_size) return kCut;
    // As GDCM reads it: any two bytes are taken as the VR; these have a 4-byte length after two
    // reserved bytes (PS3.5 7.1.2), all others a 2-byte one.
    const std::string_view vr(reinterpret_cast<const char*>(b.data()) + at + 4, 2);
    static constexpr std::string_view kLongForm[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
    if (std::find(std::begin(kLongForm), std::end(kLongForm), vr) == std::end(kLongForm)) {
      at += 8 + u16(at + 6);
      continue;
    }
    if (at + 12 > file_size) return kCut;
    const std::uint32_t length = std::uint32_t(u16(at + 8)) | std::uint32_t(u16(at + 10)) << 16;
    if (length == 0xFFFFFFFF) return {};  // undefined length: GDCM's sequence reader takes it
    at += 12 + std::uint64_t(length);
  }
}

// Whether the file holds all the bytes its (uncompressed) PixelData element declares: GDCM reads
// an element cut short by the end of the file without an error. The element is the file's last.
bool pixel_data_in_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto at = bytes.rfind(std::string("\xE0\x7F\x10\x00", 4));
  if (at == std::string::npos || at + 12 > bytes.size()) return false;
  const bool explicit_vr = bytes.compare(at + 4, 2, "OW") == 0 || bytes.compare(at + 4, 2, "OB") == 0;
  std::uint32_t length = 0;
  std::memcpy(&length, bytes.data() + at + (explicit_vr ? 8 : 4), 4);
  return at + (explicit_vr ? 12 : 8) + std::uint64_t(length) <= bytes.size();
}

// Values GDCM would take without complaint (or assert on while decoding) but that make no CT
// volume: checked from the header, before any pixel is decoded.
template <class Value>
void check_slice_values(const std::string& file, const std::vector<double>& pos, const std::vector<double>& ori,
                        const std::vector<double>& spacing, const Value& value) {
  const auto finite = [](const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
  };
  if (!finite(pos)) throw InputError(file, "ImagePositionPatient is not finite");
  const Vec3 r{ori[0], ori[1], ori[2]}, c{ori[3], ori[4], ori[5]};
  if (!finite(ori) || std::abs(dot(r, r) - 1) > 1e-2 || std::abs(dot(c, c) - 1) > 1e-2 || std::abs(dot(r, c)) > 1e-2)
    throw InputError(file, "ImageOrientationPatient is not two orthogonal unit vectors");
  if (!finite(spacing) || !(spacing[0] > 0) || !(spacing[1] > 0))
    throw InputError(file, fmt::format("PixelSpacing {}\\{} is not positive", spacing[0], spacing[1]));
  const auto integer = [&](const gdcm::Tag& t, long fallback) {
    const char* v = value(t);
    return v && *v ? std::atol(v) : fallback;
  };
  if (const long spp = integer(kSamplesPerPixel, 1); spp != 1)
    throw InputError(file, fmt::format("not a grey-scale image ({} samples per pixel)", spp));
  const long allocated = integer(kBitsAllocated, -1), stored = integer(kBitsStored, allocated);
  if (allocated != 8 && allocated != 16 && allocated != 32)
    throw InputError(file, fmt::format("BitsAllocated is {} (expected 8, 16 or 32)", allocated));
  if (stored < 1 || stored > allocated)
    throw InputError(file, fmt::format("BitsStored {} does not fit BitsAllocated {}", stored, allocated));
  if (const long rep = integer(kPixelRepresentation, 0); rep != 0 && rep != 1)
    throw InputError(file, fmt::format("PixelRepresentation is {} (expected 0 or 1)", rep));
  for (const auto& [tag, name] : {std::pair{kRescaleSlope, "RescaleSlope"}, std::pair{kRescaleIntercept, "RescaleIntercept"}}) {
    const char* v = value(tag);
    if (!v || !*v) continue;
    const auto n = parse_numbers(v);
    if (n.size() != 1 || !std::isfinite(n[0]) || (tag == kRescaleSlope && n[0] == 0))
      throw InputError(file, fmt::format("{} '{}' is not a usable number", name, trimmed(v)));
  }
}

}  // namespace

bool is_dicom_folder(const fs::path& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return false;
  for (const auto& e : fs::directory_iterator(folder, ec))
    if (e.is_regular_file() && has_dicm_preamble(e.path())) return true;
  return false;
}

namespace {

// Lists, checks and orders the series' slices from their headers: every check read_dicom_series
// makes before it decodes a pixel.
ScannedSeries scan_series(const fs::path& folder) {
  quiet_gdcm();
  std::error_code ec;
  if (!fs::exists(folder, ec)) throw InputError(folder.string(), "no such folder");
  if (!fs::is_directory(folder, ec)) throw InputError(folder.string(), "not a folder (expected a DICOM series folder)");

  gdcm::Directory::FilenamesType files;
  for (const auto& e : fs::directory_iterator(folder, ec))
    if (e.is_regular_file()) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw InputError(folder.string(), "empty folder: no DICOM files");
  for (const auto& file : files)
    if (std::string p = file_meta_problem(file); !p.empty()) throw InputError(file, p);

  gdcm::Scanner scanner;
  for (const auto& t : {kSeriesUid, kPosition, kOrientation, kPixelSpacing, kModality, kRows, kColumns, kSamplesPerPixel,
                        kBitsAllocated, kBitsStored, kPixelRepresentation, kRescaleIntercept, kRescaleSlope,
                        kSopClassUid, kSopInstanceUid, kStudyUid, kFrameOfReferenceUid})
    scanner.AddTag(t);
  if (!scanner.Scan(files)) throw InputError(folder.string(), "cannot scan the folder's files");

  ScannedSeries out;
  std::set<std::string> series;
  std::vector<SliceInfo>& slices = out.slices;
  std::vector<double>& orientation = out.orientation;
  std::vector<double>& spacing = out.spacing;
  std::int64_t& rows = out.rows;
  std::int64_t& cols = out.cols;
  for (const auto& f : files) {
    if (!scanner.IsKey(f.c_str())) {  // not DICOM: skipped, unless it claims to be
      if (fs::path(f).extension() == ".dcm" || has_dicm_preamble(f))
        throw InputError(f, "unreadable DICOM file (corrupt or truncated)");
      continue;
    }
    const auto& m = scanner.GetMapping(f.c_str());
    auto value = [&](const gdcm::Tag& t) -> const char* {
      auto it = m.find(t);
      return it == m.end() ? nullptr : it->second;
    };
    if (!value(kRows)) continue;  // not an image (DICOMDIR, structured report, ...)
    series.insert(trimmed(value(kSeriesUid)));
    const auto pos = parse_numbers(value(kPosition));
    const auto ori = parse_numbers(value(kOrientation));
    const auto spc = parse_numbers(value(kPixelSpacing));
    if (pos.size() != 3 || ori.size() != 6 || spc.size() != 2)
      throw InputError(f, "slice lacks ImagePositionPatient, ImageOrientationPatient or PixelSpacing");
    check_slice_values(f, pos, ori, spc, value);
    const std::int64_t r = std::atoll(value(kRows)), c = value(kColumns) ? std::atoll(value(kColumns)) : -1;
    if (slices.empty()) {
      orientation = ori;
      spacing = spc;
      rows = r;
      cols = c;
      out.modality = trimmed(value(kModality));
    } else {
      if (r != rows || c != cols)
        throw InputError(f, fmt::format("slice is {} x {}, the series' first slice is {} x {}", c, r, cols, rows));
      for (int i = 0; i < 6; ++i)
        if (std::abs(ori[i] - orientation[i]) > 1e-3)
          throw InputError(f, "slice orientation differs from the rest of the series");
    }
    slices.push_back({fs::path(f), {pos[0], pos[1], pos[2]}, 0, trimmed(value(kSopClassUid)),
                      trimmed(value(kSopInstanceUid)), trimmed(value(kStudyUid)),
                      trimmed(value(kFrameOfReferenceUid))});
  }
  if (slices.empty()) throw InputError(folder.string(), "no DICOM images in the folder");
  if (slices.size() == 1)
    throw InputError(folder.string(), "a single slice: c2f needs a 3-D series (the spacing between slices is unknown)");
  if (series.size() > 1)
    throw InputError(folder.string(), fmt::format("holds {} series ({}): give c2f a folder with one series",
                                                  series.size(), fmt::join(series, ", ")));
  out.series_uid = *series.begin();

  const Vec3 row_cos{orientation[0], orientation[1], orientation[2]};
  const Vec3 col_cos{orientation[3], orientation[4], orientation[5]};
  const Vec3 normal = cross(row_cos, col_cos);
  for (auto& s : slices) s.along_normal = dot(s.position, normal);
  std::sort(slices.begin(), slices.end(), [](const auto& a, const auto& b) { return a.along_normal < b.along_normal; });

  double& slice_spacing = out.slice_spacing;
  if (slices.size() > 1) {
    std::vector<double> gaps;
    for (std::size_t i = 1; i < slices.size(); ++i) gaps.push_back(slices[i].along_normal - slices[i - 1].along_normal);
    std::vector<double> sorted = gaps;
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    const double median = sorted[sorted.size() / 2];
    for (std::size_t i = 0; i < gaps.size(); ++i) {
      if (gaps[i] < 1e-3)
        throw InputError(folder.string(), fmt::format("two slices at one position ({:.3f} mm along the normal): {} and {}",
                                                      slices[i].along_normal, slices[i].file.filename().string(),
                                                      slices[i + 1].file.filename().string()));
      if (gaps[i] > 1.5 * median)
        throw InputError(folder.string(),
                         fmt::format("missing slice(s): a gap of {:.3f} mm between positions {:.3f} and {:.3f} mm, "
                                     "where slices are {:.3f} mm apart",
                                     gaps[i], slices[i].along_normal, slices[i + 1].along_normal, median));
    }
    slice_spacing = (slices.back().along_normal - slices.front().along_normal) / double(slices.size() - 1);
  }

  // The series' own grid in RAS: DICOM's patient axes are LPS, so x and y change sign.
  Geometry& native = out.native;
  native.dims = {cols, rows, std::int64_t(slices.size())};
  native.spacing_mm = {spacing[1], spacing[0], slice_spacing};  // PixelSpacing is row\column spacing
  const Vec3 lps_axes[3] = {row_cos, col_cos, normal};
  for (int a = 0; a < 3; ++a) {
    native.direction[0][a] = -lps_axes[a][0];
    native.direction[1][a] = -lps_axes[a][1];
    native.direction[2][a] = lps_axes[a][2];
  }
  native.origin_mm = {-slices.front().position[0], -slices.front().position[1], slices.front().position[2]};

  // Before the volume is allocated: headers may claim any size. Even lossless JPEG 2000 of an
  // empty slice stores far more than a byte per 4096 pixels.
  if (std::string p = native.problem(); !p.empty()) throw InputError(folder.string(), p);
  std::uintmax_t stored = 0;
  for (const auto& sl : slices) {
    std::error_code size_ec;
    stored += fs::file_size(sl.file, size_ec);
  }
  if (double(native.voxel_count()) > 4096.0 * double(stored))
    throw InputError(folder.string(), fmt::format("the headers claim {} x {} x {} pixels, the files hold {} bytes",
                                                  cols, rows, slices.size(), stored));
  return out;
}

DicomSource source_of(const fs::path& folder, const ScannedSeries& scan) {
  DicomSource src;
  src.folder = folder;
  const SliceInfo& first = scan.slices.front();
  src.study_uid = first.study_uid;
  src.series_uid = scan.series_uid;
  src.frame_of_reference_uid = first.frame_of_reference_uid;
  std::copy(scan.orientation.begin(), scan.orientation.end(), src.orientation.begin());
  src.pixel_spacing_mm = {scan.spacing[0], scan.spacing[1]};
  src.slice_spacing_mm = scan.slice_spacing;
  src.rows = scan.rows;
  src.columns = scan.cols;
  src.native = scan.native;
  for (const auto& s : scan.slices)
    src.slices.push_back(
        {s.file, s.sop_class_uid, s.sop_instance_uid, s.study_uid, s.frame_of_reference_uid, s.position});
  return src;
}

}  // namespace

DicomSource read_dicom_source(const fs::path& folder) { return source_of(folder, scan_series(folder)); }

DicomSeries read_dicom_series(const fs::path& folder) {
  const ScannedSeries scan = scan_series(folder);
  const std::vector<SliceInfo>& slices = scan.slices;
  const std::int64_t rows = scan.rows, cols = scan.cols;
  DicomSeries out;
  out.series_uid = scan.series_uid;
  out.modality = scan.modality;
  out.layout = canonical_layout(scan.native);
  out.source = source_of(folder, scan);
  const std::size_t per_slice = std::size_t(rows * cols);
  std::vector<float> voxels(per_slice * slices.size());
  std::vector<std::string> syntaxes(slices.size()), pixel_types(slices.size());
  tbb::parallel_for(std::size_t(0), slices.size(), [&](std::size_t k) {
    const std::string name = slices[k].file.string();
    gdcm::ImageReader reader;
    reader.SetFileName(name.c_str());
    if (!reader.Read()) throw InputError(name, "unreadable DICOM image");
    const gdcm::Image& im = reader.GetImage();
    syntaxes[k] = im.GetTransferSyntax().GetString() ? trimmed(im.GetTransferSyntax().GetString()) : "";
    const gdcm::PixelFormat pf = im.GetPixelFormat();
    if (pf.GetSamplesPerPixel() != 1) throw InputError(name, "not a grey-scale image (samples per pixel != 1)");
    pixel_types[k] = pf.GetScalarTypeAsString();
    std::transform(pixel_types[k].begin(), pixel_types[k].end(), pixel_types[k].begin(),
                   [](unsigned char ch) { return char(std::tolower(ch)); });
    if (im.GetDimension(0) != unsigned(cols) || im.GetDimension(1) != unsigned(rows))
      throw InputError(name, "pixel data size differs from Rows/Columns");
    // GDCM reads a slice cut short without complaint; for uncompressed pixel data, check that the
    // element and the file really hold every pixel.
    if (!im.GetTransferSyntax().IsEncapsulated()) {
      const std::size_t expected = per_slice * pf.GetPixelSize();
      const gdcm::DataElement& pd = reader.GetFile().GetDataSet().GetDataElement(gdcm::Tag(0x7fe0, 0x0010));
      const gdcm::ByteValue* bv = pd.GetByteValue();
      std::error_code size_ec;
      const auto file_bytes = fs::file_size(slices[k].file, size_ec);
      if (!bv || bv->GetLength() < expected || size_ec || file_bytes < expected || !pixel_data_in_file(slices[k].file))
        throw InputError(name, fmt::format("truncated pixel data: {} x {} pixels need {} bytes", cols, rows, expected));
    }
    std::vector<char> raw(im.GetBufferLength());
    if (!im.GetBuffer(raw.data()))
      throw InputError(name, "cannot decode pixel data (transfer syntax " + syntaxes[k] + ")");
    float* dst = voxels.data() + k * per_slice;
    const double slope = im.GetSlope(), inter = im.GetIntercept();
    switch (pf.GetScalarType()) {
      case gdcm::PixelFormat::UINT8: to_hu<std::uint8_t>(raw.data(), per_slice, slope, inter, dst); break;
      case gdcm::PixelFormat::INT8: to_hu<std::int8_t>(raw.data(), per_slice, slope, inter, dst); break;
      case gdcm::PixelFormat::UINT12:
      case gdcm::PixelFormat::UINT16: to_hu<std::uint16_t>(raw.data(), per_slice, slope, inter, dst); break;
      case gdcm::PixelFormat::INT12:
      case gdcm::PixelFormat::INT16: to_hu<std::int16_t>(raw.data(), per_slice, slope, inter, dst); break;
      case gdcm::PixelFormat::UINT32: to_hu<std::uint32_t>(raw.data(), per_slice, slope, inter, dst); break;
      case gdcm::PixelFormat::INT32: to_hu<std::int32_t>(raw.data(), per_slice, slope, inter, dst); break;
      default: throw InputError(name, std::string("unsupported pixel format ") + pf.GetScalarTypeAsString());
    }
  });
  out.transfer_syntax = syntaxes.front();
  out.pixel_type = pixel_types.front();
  out.image = to_canonical<float>(voxels.data(), out.layout);
  for (const auto& s : slices) out.files.push_back(s.file);
  return out;
}

namespace {
// What is wrong with a UID as DICOM defines it (PS3.5 9.1: digits and dots, at most 64
// characters, no empty component, no leading zero in a component), or "".
std::string uid_problem(const std::string& uid) {
  if (uid.empty()) return "missing";
  if (uid.size() > 64) return "'" + uid + "' is longer than 64 characters";
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = uid.find('.', start);
    const std::string part = uid.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty() || !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        (part.size() > 1 && part[0] == '0'))
      return "'" + uid + "' is not a valid UID";
    if (dot == std::string::npos) return {};
    start = dot + 1;
  }
}
}  // namespace

std::string DicomSource::problem() const {
  if (slices.empty()) return "no slices";
  const auto name = [](const DicomSlice& s) { return s.file.filename().string(); };
  if (std::string p = uid_problem(series_uid); !p.empty()) return "SeriesInstanceUID " + p;
  // Each slice's own UIDs: a SEG frame names its source slice by them, and the series by the
  // study and frame of reference all slices share.
  std::set<std::string> instances;
  for (const DicomSlice& s : slices) {
    for (const auto& [value, tag] : {std::pair{&s.study_uid, "StudyInstanceUID"},
                                     std::pair{&s.frame_of_reference_uid, "FrameOfReferenceUID"},
                                     std::pair{&s.sop_class_uid, "SOPClassUID"},
                                     std::pair{&s.sop_instance_uid, "SOPInstanceUID"}})
      if (std::string p = uid_problem(*value); !p.empty()) return fmt::format("slice {}: {} {}", name(s), tag, p);
    if (s.study_uid != slices.front().study_uid)
      return fmt::format("slices disagree on StudyInstanceUID: {} has {}, {} has {}", name(slices.front()),
                         slices.front().study_uid, name(s), s.study_uid);
    if (s.frame_of_reference_uid != slices.front().frame_of_reference_uid)
      return fmt::format("slices disagree on FrameOfReferenceUID: {} has {}, {} has {}", name(slices.front()),
                         slices.front().frame_of_reference_uid, name(s), s.frame_of_reference_uid);
    if (!instances.insert(s.sop_instance_uid).second)
      return fmt::format("two slices have SOPInstanceUID {} ({} is one)", s.sop_instance_uid, name(s));
  }
  return {};
}

namespace {
std::string uid(std::uint64_t seed, std::uint64_t a, std::uint64_t b) {
  // "2.25." + a decimal integer is a valid UID root for generated identifiers (ISO/IEC 9834-8).
  std::uint64_t h = seed * 0x9E3779B97F4A7C15ULL ^ (a + 0x632BE59BD9B4E019ULL) * 0xBF58476D1CE4E5B9ULL ^ (b + 1) * 0x94D049BB133111EBULL;
  h ^= h >> 31;
  return fmt::format("2.25.{}{}", h % 1000000000000000ULL + 1, a * 10000 + b);
}
}  // namespace

void write_dicom_series(const fs::path& folder, const Image& hu, const DicomWriteOptions& o) {
  quiet_gdcm();
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) throw OutputError(folder.string(), "cannot create folder: " + ec.message());
  const Geometry& g = hu.geometry();
  const std::int64_t nx = hu.nx(), ny = hu.ny(), nz = hu.nz();
  // Scanner convention: head first, column c = nx-1-x runs towards the patient's left (-x in RAS),
  // so its LPS cosine is (d00, d10, -d20); feet first, c = x runs towards the right. Row r = ny-1-y
  // runs towards posterior, cosine (d01, d11, -d21).
  const bool ff = o.feet_first;
  const double column_sign = ff ? 1.0 : -1.0;  // canonical x axis to the column direction
  const double cosines[6] = {-column_sign * g.direction[0][0], -column_sign * g.direction[1][0],
                             column_sign * g.direction[2][0], g.direction[0][1],
                             g.direction[1][1], -g.direction[2][1]};
  const auto x_of_column = [&](std::int64_t c) { return ff ? c : nx - 1 - c; };
  const std::string study = uid(o.uid_seed, 1, 0), series = uid(o.uid_seed, 2, 0);
  const std::string frame_of_reference = uid(o.uid_seed, 4, 0);
  // One study and series date and time for all slices, as a scanner writes them (GDCM would
  // stamp each file with the moment it is written). UTC: gmtime_r reads no time zone state
  // (see the lock around the writer below).
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char date[16], time[16];
  std::strftime(date, sizeof date, "%Y%m%d", &utc);
  std::strftime(time, sizeof time, "%H%M%S", &utc);

  std::vector<std::int64_t> order(nz);
  std::iota(order.begin(), order.end(), 0);
  if (o.scramble_order) std::shuffle(order.begin(), order.end(), std::mt19937_64(o.uid_seed));

  std::vector<std::uint16_t> pixels(std::size_t(nx * ny));
  for (std::int64_t k = 0; k < nz; ++k) {
    // Voxel (x_of_column(c), ny-1-r) of canonical slice k goes to column c, row r.
    for (std::int64_t r = 0; r < ny; ++r)
      for (std::int64_t c = 0; c < nx; ++c) {
        const double stored = std::round(double(hu(x_of_column(c), ny - 1 - r, k)) - o.rescale_intercept);
        pixels[std::size_t(r * nx + c)] = std::uint16_t(std::clamp(stored, 0.0, 65535.0));
      }
    const Vec3 corner_ras = g.to_world({double(x_of_column(0)), double(ny - 1), double(k)});
    const Vec3 position_lps{-corner_ras[0], -corner_ras[1], corner_ras[2]};

    gdcm::ImageWriter writer;
    gdcm::Image& im = writer.GetImage();
    im.SetNumberOfDimensions(2);
    im.SetDimension(0, unsigned(nx));
    im.SetDimension(1, unsigned(ny));
    im.SetPixelFormat(gdcm::PixelFormat::UINT16);
    im.SetPhotometricInterpretation(gdcm::PhotometricInterpretation::MONOCHROME2);
    im.SetSpacing(0, g.spacing_mm[0]);
    im.SetSpacing(1, g.spacing_mm[1]);
    im.SetSpacing(2, g.spacing_mm[2]);
    // SetOrigin(const double*) keeps only NumberOfDimensions (2) values; z must be set by index.
    for (unsigned a = 0; a < 3; ++a) im.SetOrigin(a, position_lps[a]);
    im.SetDirectionCosines(cosines);
    im.SetIntercept(o.rescale_intercept);
    im.SetSlope(1.0);
    gdcm::DataElement pixel_data(gdcm::Tag(0x7fe0, 0x0010));
    pixel_data.SetByteValue(reinterpret_cast<const char*>(pixels.data()), std::uint32_t(pixels.size() * 2));
    im.SetDataElement(pixel_data);

    gdcm::DataSet& ds = writer.GetFile().GetDataSet();
    const std::string sop = uid(o.uid_seed, 3, std::uint64_t(k));
    auto put = [&](auto attribute) { ds.Replace(attribute.GetAsDataElement()); };
    put(gdcm::Attribute<0x0008, 0x0016>{"1.2.840.10008.5.1.4.1.1.2"});  // CT Image Storage
    put(gdcm::Attribute<0x0008, 0x0018>{sop.c_str()});
    put(gdcm::Attribute<0x0008, 0x0060>{"CT"});
    put(gdcm::Attribute<0x0028, 0x0004>{"MONOCHROME2"});
    put(gdcm::Attribute<0x0010, 0x0020>{o.patient_id.c_str()});
    put(gdcm::Attribute<0x0020, 0x000d>{study.c_str()});
    put(gdcm::Attribute<0x0020, 0x000e>{series.c_str()});
    put(gdcm::Attribute<0x0020, 0x0052>{frame_of_reference.c_str()});
    put(gdcm::Attribute<0x0008, 0x0020>{date});
    put(gdcm::Attribute<0x0008, 0x0030>{time});
    put(gdcm::Attribute<0x0008, 0x0021>{date});
    put(gdcm::Attribute<0x0008, 0x0031>{time});
    put(gdcm::Attribute<0x0018, 0x5100>{ff ? "FFS" : "HFS"});
    put(gdcm::Attribute<0x0020, 0x0013>{std::int32_t(order[std::size_t(k)] + 1)});
    put(gdcm::Attribute<0x0018, 0x0050>{g.spacing_mm[2]});
    writer.GetFile().GetHeader().SetDataSetTransferSyntax(gdcm::TransferSyntax::ExplicitVRLittleEndian);

    const std::string name = o.scramble_order ? "CT." + sop : fmt::format("1-{:03d}.dcm", k + 1);
    const fs::path final_path = folder / name;
    write_atomically(final_path, [&](const fs::path& tmp) {
      writer.SetFileName(tmp.c_str());
      // GDCM's writer stamps the file with the date through localtime() and the process's time
      // zone state, which are not thread-safe (TSan: a race in tzset from two series written at
      // once); one writer at a time.
      static std::mutex gdcm_write;
      std::lock_guard lock(gdcm_write);
      if (!writer.Write()) throw OutputError(final_path.string(), "GDCM could not write the slice");
    });
  }
}

}  // namespace c2f
