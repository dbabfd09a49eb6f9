#include "dicom_seg.hpp"

// DCMTK's configuration header must come before its other headers.
#include <dcmtk/config/osconfig.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmiod/iodreferences.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "../pipeline/atomic_file.hpp"
#include "../pipeline/errors.hpp"
#include "../pipeline/reorient.hpp"

#ifndef C2F_VERSION
#error "C2F_VERSION must be defined (io/CMakeLists.txt passes the CMake project version)"
#endif

namespace c2f {
namespace fs = std::filesystem;

std::string c2f_version() { return C2F_VERSION; }

void DicomSegOptions::validate() const {
  if (series_number < 0) throw OptionError(fmt::format("DICOM-SEG series number {} is negative", series_number));
  if (series_description.size() > 64 || series_description.find('\\') != std::string::npos)
    throw OptionError("DICOM-SEG series description must be at most 64 characters without '\\'");
  if (algorithm_version.size() > 64 || algorithm_version.find('\\') != std::string::npos)
    throw OptionError("DICOM-SEG algorithm version must be at most 64 characters without '\\'");
}

namespace {

// DCMTK logs to stderr through oflog; c2f reports a failure once, in the exception it throws.
void quiet_dcmtk() {
  static std::once_flag once;
  std::call_once(once, [] { OFLog::configure(OFLogger::OFF_LOG_LEVEL); });
}

// A fresh UID under the "2.25" root: a random (version 4) UUID as one decimal integer (PS3.5
// B.2, ISO/IEC 9834-8), so no organisation root is needed.
std::string new_uid() {
  static std::mutex mutex;
  static std::mt19937_64 generator{std::random_device{}() ^ (std::uint64_t(std::random_device{}()) << 32)};
  std::uint64_t hi, lo;
  {
    std::lock_guard lock(mutex);
    hi = generator();
    lo = generator();
  }
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                         // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  // The 128-bit number in decimal, by long division of four 32-bit limbs.
  std::array<std::uint32_t, 4> limbs{std::uint32_t(hi >> 32), std::uint32_t(hi), std::uint32_t(lo >> 32),
                                     std::uint32_t(lo)};
  std::string digits;
  while (std::any_of(limbs.begin(), limbs.end(), [](std::uint32_t l) { return l != 0; })) {
    std::uint64_t rest = 0;
    for (auto& l : limbs) {
      const std::uint64_t v = (rest << 32) | l;
      l = std::uint32_t(v / 10);
      rest = v % 10;
    }
    digits.push_back(char('0' + rest));
  }
  std::reverse(digits.begin(), digits.end());
  return "2.25." + digits;
}

// A decimal string (DS) of at most 16 characters: the shortest that reads back as the same double
// where it fits, so a position copied from a source header is written as it was stored.
std::string decimal_string(double v) {
  if (std::abs(v) < 1e-12) v = 0;  // no "-0"
  std::string s = fmt::format("{}", v);
  for (int precision = 15; s.size() > 16 && precision > 0; --precision) s = fmt::format("{:.{}g}", v, precision);
  return s;
}

void check(const OFCondition& c, const fs::path& path, const std::string& what) {
  if (c.bad()) throw OutputError(path.string(), fmt::format("DICOM-SEG: {}: {}", what, c.text()));
}

// DCMTK 3.6.7 packs binary frames wrongly when a frame's pixel count is not a multiple of 8 (frames
// after the first come out shifted and cut short; DCMTK issue 1132, fixed in 3.6.9; the 23 x 19
// tests fail without this). For such frames the Pixel Data value is packed here, as PS3.5 8.1.1
// lays it out: frames back to back without padding, pixel i of the object in bit i % 8 of byte i / 8.
std::vector<Uint8> pack_binary_frames(const std::vector<const std::uint8_t*>& frames, std::size_t pixels_per_frame) {
  std::vector<Uint8> bits((frames.size() * pixels_per_frame + 7) / 8, 0);
  std::size_t i = 0;
  for (const std::uint8_t* frame : frames)
    for (std::size_t p = 0; p < pixels_per_frame; ++p, ++i)
      if (frame[p] != 0) bits[i / 8] |= Uint8(1u << (i % 8));
  return bits;
}

}  // namespace

DicomSegSummary write_dicom_seg(const fs::path& path, const Mask& mask, const NativeLayout& layout,
                                const DicomSource& source, const DicomSegOptions& options) {
  options.validate();
  quiet_dcmtk();
  const std::string folder = source.folder.string();
  if (std::string p = source.problem(); !p.empty())
    throw InputError(folder, "the series cannot be referenced by a DICOM-SEG: " + p);
  // The layout must be this series' grid (columns, rows, slices in position order), and the mask
  // on the canonical grid of that layout: then native slice k is source slice k.
  const Geometry& native = layout.native;
  if (native.dims != Index3{source.columns, source.rows, std::int64_t(source.slices.size())} ||
      !native.same_grid(source.native, 1e-2))
    throw InputError(
        folder,
        fmt::format("the mask's native grid ({} x {} x {}) is not this series' grid ({} x {} x {})", native.dims[0],
                    native.dims[1], native.dims[2], source.columns, source.rows, source.slices.size()));
  if (std::string p = layout.problem(mask.geometry()); !p.empty()) throw std::invalid_argument("write_dicom_seg: " + p);
  if (!canonical_geometry(layout).same_grid(mask.geometry(), 1e-2))
    throw std::invalid_argument("write_dicom_seg: the mask is not on the layout's canonical grid");
  if (!dcmDataDict.isDictionaryLoaded())
    throw OutputError(path.string(),
                      "DCMTK's data dictionary is not loaded (dicom.dic of Debian's libdcmtk17; "
                      "DCMDICTPATH names another)");

  // The mask in the series' own order: native slice k, row r, column c at k * rows * columns +
  // r * columns + c, which is how a DICOM frame stores its pixels.
  const std::vector<std::uint8_t> voxels = to_native(mask, layout);
  const std::size_t per_frame = std::size_t(source.rows * source.columns);
  std::vector<std::size_t> slices;  // source slices that get a frame, in position order
  std::int64_t foreground = 0;
  for (std::size_t k = 0; k < source.slices.size(); ++k) {
    const auto begin = voxels.begin() + std::ptrdiff_t(k * per_frame);
    const auto n = std::count_if(begin, begin + std::ptrdiff_t(per_frame), [](std::uint8_t v) { return v != 0; });
    foreground += n;
    if (n > 0 || options.every_slice) slices.push_back(k);
  }
  if (slices.empty()) slices.push_back(0);  // an empty mask: one empty frame (a SEG needs one)

  // The document: equipment and content identification, then patient, study and frame of
  // reference imported from a source slice (the equipment set again: importing replaces it).
  const std::string version = options.algorithm_version.empty() ? c2f_version() : options.algorithm_version;
  const IODGeneralEquipmentModule::EquipmentInfo equipment("c2f", "c2f", "1", version.c_str());
  ContentIdentificationMacro content;
  check(content.setInstanceNumber("1"), path, "instance number");
  check(content.setContentLabel("PANCREAS"), path, "content label");
  check(content.setContentDescription("Pancreas segmented by c2f"), path, "content description");
  DcmSegmentation* created = nullptr;
  check(DcmSegmentation::createBinarySegmentation(created, Uint16(source.rows), Uint16(source.columns), equipment,
                                                  content),
        path, "create the segmentation");
  const std::unique_ptr<DcmSegmentation> seg(created);
  const std::string header_file = source.slices.front().file.string();
  if (seg->importFromSourceImage(header_file.c_str()).bad())
    throw InputError(header_file, "cannot read the patient and study of the series for its DICOM-SEG");
  check(seg->setEquipmentInfo(equipment), path, "equipment");

  DicomSegSummary summary;
  summary.series_uid = new_uid();
  summary.sop_instance_uid = new_uid();
  check(seg->getSeries().setSeriesInstanceUID(summary.series_uid.c_str()), path, "series UID");
  check(seg->getSeries().setSeriesNumber(std::to_string(options.series_number).c_str()), path, "series number");
  check(seg->getSeries().setSeriesDescription(options.series_description.c_str()), path, "series description");
  check(seg->getSOPCommon().setSOPInstanceUID(summary.sop_instance_uid.c_str()), path, "SOP instance UID");
  // Importing takes these from the source file; set them from the checked series so that the
  // SEG's own header agrees with its references.
  check(seg->getStudy().setStudyInstanceUID(source.study_uid.c_str()), path, "study UID");
  check(seg->getFrameOfReference().setFrameOfReferenceUID(source.frame_of_reference_uid.c_str()), path,
        "frame of reference UID");

  // The segment.
  DcmSegment* created_segment = nullptr;
  check(DcmSegment::create(created_segment, "Pancreas", CodeSequenceMacro("123037004", "SCT", "Anatomical Structure"),
                           CodeSequenceMacro("15776009", "SCT", "Pancreas"), DcmSegTypes::SAT_AUTOMATIC, "c2f"),
        path, "segment");
  std::unique_ptr<DcmSegment> segment(created_segment);
  AlgorithmIdentificationMacro algorithm;
  check(algorithm.getAlgorithmFamilyCode().set("123110", "DCM", "Artificial Intelligence"), path, "algorithm family");
  check(algorithm.setAlgorithmName("c2f"), path, "algorithm name");
  check(algorithm.setAlgorithmVersion(version.c_str()), path, "algorithm version");
  check(segment->setSegmentationAlgorithmIdentification(algorithm), path, "algorithm identification");
  Uint16 segment_number = 0;
  check(seg->addSegment(segment.get(), segment_number), path, "add the segment");
  segment.release();  // the document owns it now

  // Shared functional groups: the series' orientation and pixel measures.
  const auto& o = source.orientation;
  const std::unique_ptr<FGPlaneOrientationPatient> orientation(FGPlaneOrientationPatient::createMinimal(
      decimal_string(o[0]).c_str(), decimal_string(o[1]).c_str(), decimal_string(o[2]).c_str(),
      decimal_string(o[3]).c_str(), decimal_string(o[4]).c_str(), decimal_string(o[5]).c_str()));
  if (!orientation) throw OutputError(path.string(), "DICOM-SEG: cannot create the plane orientation");
  check(seg->addForAllFrames(*orientation), path, "plane orientation");
  FGPixelMeasures measures;
  check(measures.setPixelSpacing(
            (decimal_string(source.pixel_spacing_mm[0]) + "\\" + decimal_string(source.pixel_spacing_mm[1])).c_str()),
        path, "pixel spacing");
  // A SEG voxel is as thick as the series' slices are apart (the mask was computed on that grid).
  check(measures.setSliceThickness(decimal_string(source.slice_spacing_mm).c_str()), path, "slice thickness");
  check(measures.setSpacingBetweenSlices(decimal_string(source.slice_spacing_mm).c_str()), path, "slice spacing");
  check(seg->addForAllFrames(measures), path, "pixel measures");

  // Frames are indexed by segment and by position (their rank along the slice normal).
  const std::string dimension_uid = new_uid();
  check(seg->getDimensions().addDimensionIndex(DCM_ReferencedSegmentNumber, dimension_uid.c_str(),
                                               DCM_SegmentIdentificationSequence, "ReferencedSegmentNumber"),
        path, "segment dimension");
  check(seg->getDimensions().addDimensionIndex(DCM_ImagePositionPatient, dimension_uid.c_str(),
                                               DCM_PlanePositionSequence, "ImagePositionPatient"),
        path, "position dimension");

  IODReferences references;  // every source slice, for the Referenced Series Sequence
  for (const DicomSlice& s : source.slices) {
    auto* ref = new IODImageReference(IODReference::LEVEL_SERIES);
    ref->m_StudyInstanceUID = source.study_uid.c_str();
    ref->m_SeriesInstanceUID = source.series_uid.c_str();
    ref->m_SOPClassUID = s.sop_class_uid.c_str();
    ref->m_SOPInstanceUID = s.sop_instance_uid.c_str();
    if (!references.add(ref)) {
      delete ref;
      throw OutputError(path.string(), "DICOM-SEG: cannot reference slice " + s.file.filename().string());
    }
  }
  if (seg->getCommonInstanceReference().addReferences(references, source.study_uid.c_str()) != source.slices.size())
    throw OutputError(path.string(), "DICOM-SEG: cannot write the Referenced Series Sequence");

  std::vector<const std::uint8_t*> frame_pixels;
  std::vector<Uint8> binary(per_frame);
  for (std::size_t f = 0; f < slices.size(); ++f) {
    const std::size_t k = slices[f];
    const DicomSlice& s = source.slices[k];
    const std::unique_ptr<FGPlanePosPatient> position(FGPlanePosPatient::createMinimal(
        decimal_string(s.position_lps[0]).c_str(), decimal_string(s.position_lps[1]).c_str(),
        decimal_string(s.position_lps[2]).c_str()));
    FGFrameContent frame_content;
    check(frame_content.setDimensionIndexValues(segment_number, 0), path, "frame content");
    check(frame_content.setDimensionIndexValues(Uint32(f + 1), 1), path, "frame content");
    OFVector<ImageSOPInstanceReferenceMacro> derived_from(1);
    check(derived_from[0].setReferencedSOPClassUID(s.sop_class_uid.c_str()), path, "source slice");
    check(derived_from[0].setReferencedSOPInstanceUID(s.sop_instance_uid.c_str()), path, "source slice");
    const std::unique_ptr<FGDerivationImage> derivation(FGDerivationImage::createMinimal(
        derived_from, "Pancreas segmented by c2f", CodeSequenceMacro("113076", "DCM", "Segmentation"),
        CodeSequenceMacro("121322", "DCM", "Source image for image processing operation")));
    if (!position || !derivation) throw OutputError(path.string(), "DICOM-SEG: cannot create a frame's groups");
    OFVector<FGBase*> groups;
    groups.push_back(position.get());
    groups.push_back(&frame_content);
    groups.push_back(derivation.get());
    const std::uint8_t* pixels = voxels.data() + k * per_frame;
    std::transform(pixels, pixels + per_frame, binary.begin(), [](std::uint8_t v) { return Uint8(v != 0); });
    check(seg->addFrame(binary.data(), segment_number, groups), path, fmt::format("frame of slice {}", k));
    frame_pixels.push_back(pixels);
  }

  DcmFileFormat file;
  check(seg->writeDataset(*file.getDataset()), path, "assemble the dataset");
  if (per_frame % 8 != 0 && frame_pixels.size() > 1) {
    const std::vector<Uint8> bits = pack_binary_frames(frame_pixels, per_frame);
    check(file.getDataset()->putAndInsertUint8Array(DCM_PixelData, bits.data(), (unsigned long)bits.size()), path,
          "pixel data");
  }
  write_atomically(
      path, [&](const fs::path& tmp) { check(file.saveFile(tmp.c_str(), EXS_LittleEndianExplicit), path, "write"); });
  summary.frames = std::int64_t(slices.size());
  summary.foreground_pixels = foreground;
  return summary;
}

DicomSegSummary write_dicom_seg(const fs::path& path, const Case& c, const Mask& mask, const DicomSegOptions& options) {
  if (!is_dicom_folder(c.source))
    throw InputError(c.source, "not a DICOM series folder: a DICOM-SEG needs a DICOM source series");
  return write_dicom_seg(path, mask, c.layout, read_dicom_source(c.source), options);
}

}  // namespace c2f
