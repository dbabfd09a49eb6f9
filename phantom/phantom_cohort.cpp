#include "phantom_cohort.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../io/dicom.hpp"
#include "../io/nifti.hpp"
#include "../io/overlay.hpp"
#include "../pipeline/atomic_file.hpp"
#include "../pipeline/errors.hpp"

namespace c2f {
namespace fs = std::filesystem;

PhantomLayout parse_phantom_layout(std::string_view name) {
  if (name == "plain") return PhantomLayout::Plain;
  if (name == "msd") return PhantomLayout::Msd;
  if (name == "nih") return PhantomLayout::Nih;
  throw OptionError("unknown cohort layout '" + std::string(name) + "' (expected plain, msd or nih)");
}

void PhantomCohortOptions::validate() const {
  phantom.validate();
  if (cases < 1 || cases > 10000) throw OptionError("number of phantom cases must be in [1, 10000]");
  try {
    Geometry g;
    g.dims = {1, 1, 1};
    layout_with_orientation(g, orientation);
  } catch (const std::invalid_argument& e) {
    throw OptionError(e.what());
  }
}

PhantomSummary summarize(const PhantomCase& pc) {
  PhantomSummary s;
  s.id = pc.c.id;
  const Image& im = *pc.c.image;
  const Mask& lab = *pc.c.label;
  s.dims = im.dims();
  s.spacing_mm = im.geometry().spacing_mm;
  double sum = 0;
  Index3 lo{std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::max(),
            std::numeric_limits<std::int64_t>::max()},
      hi{-1, -1, -1};
  for (std::int64_t z = 0; z < im.nz(); ++z)
    for (std::int64_t y = 0; y < im.ny(); ++y)
      for (std::int64_t x = 0; x < im.nx(); ++x)
        if (lab(x, y, z)) {
          ++s.pancreas_voxels;
          sum += im(x, y, z);
          const Index3 p{x, y, z};
          for (int a = 0; a < 3; ++a) {
            lo[a] = std::min(lo[a], p[a]);
            hi[a] = std::max(hi[a], p[a]);
          }
        }
  s.phase = phase_name(pc.phase);
  s.anatomy = pc.anatomy;
  s.anatomy_set = pc.anatomy_set;
  s.pancreas_percent = 100.0 * double(s.pancreas_voxels) / double(im.size());
  s.pancreas_mean_hu = s.pancreas_voxels ? sum / double(s.pancreas_voxels) : 0;
  for (int a = 0; a < 3; ++a) s.pancreas_extent[a] = s.pancreas_voxels ? hi[a] - lo[a] + 1 : 0;
  return s;
}

namespace {

void write_previews(const fs::path& dir, const PhantomCase& pc) {
  const Mask& lab = *pc.c.label;
  // The slices through the pancreas' centre of mass.
  double c[3] = {0, 0, 0};
  std::int64_t n = 0;
  for (std::int64_t z = 0; z < lab.nz(); ++z)
    for (std::int64_t y = 0; y < lab.ny(); ++y)
      for (std::int64_t x = 0; x < lab.nx(); ++x)
        if (lab(x, y, z)) {
          c[0] += double(x);
          c[1] += double(y);
          c[2] += double(z);
          ++n;
        }
  const auto at = [&](int a) { return n ? std::int64_t(c[a] / double(n)) : lab.dims()[a] / 2; };
  OverlayOptions o;
  o.outline = true;
  o.min_height_px = 384;
  fs::create_directories(dir);
  write_png(dir / (pc.c.id + "_axial.png"), render_slice(*pc.c.image, View::Axial, at(2), nullptr, &lab, o));
  write_png(dir / (pc.c.id + "_coronal.png"), render_slice(*pc.c.image, View::Coronal, at(1), nullptr, &lab, o));
}

Volume<std::int16_t> as_int16(const Image& im) {
  Volume<std::int16_t> out(im.geometry());
  std::transform(im.voxels().begin(), im.voxels().end(), out.data(),
                 [](float v) { return std::int16_t(std::clamp(std::lround(v), -32768L, 32767L)); });
  return out;
}

}  // namespace

std::vector<PhantomSummary> write_phantom_cohort(const fs::path& dir, const PhantomCohortOptions& o) {
  o.validate();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw OutputError(dir.string(), "cannot create folder: " + ec.message());
  if (o.layout == PhantomLayout::Msd) {
    fs::create_directories(dir / "imagesTr");
    fs::create_directories(dir / "labelsTr");
  }
  std::vector<PhantomSummary> summaries(std::size_t(o.cases));
  tbb::parallel_for(0, o.cases, [&](int i) {
    const PhantomCase pc = make_phantom(o.phantom, i);
    PhantomSummary s = summarize(pc);
    const Geometry& g = pc.c.image->geometry();
    const NativeLayout layout = layout_with_orientation(g, o.orientation);
    const auto image16 = as_int16(*pc.c.image);
    switch (o.layout) {
      case PhantomLayout::Plain:
        s.image = dir / (pc.c.id + ".nii.gz");
        s.label = dir / (pc.c.id + "_label.nii.gz");
        write_nifti(s.image, image16, layout);
        write_nifti(s.label, *pc.c.label, layout);
        if (o.write_tissues) write_nifti(dir / (pc.c.id + "_tissues.nii.gz"), *pc.tissues, layout);
        break;
      case PhantomLayout::Msd:
        s.image = dir / "imagesTr" / (pc.c.id + ".nii.gz");
        s.label = dir / "labelsTr" / (pc.c.id + ".nii.gz");
        write_nifti(s.image, image16, layout);
        write_nifti(s.label, *pc.c.label, layout);
        break;
      case PhantomLayout::Nih: {
        // PANCREAS_NNNN/<study>/<series>/*.dcm and labels/labelNNNN.nii.gz on the series' own (LPS) grid.
        const std::string number = fmt::format("{:04d}", i + 1);
        s.image = dir / ("PANCREAS_" + number) / "study" / "series";
        s.label = dir / "labels" / ("label" + number + ".nii.gz");
        DicomWriteOptions d;
        d.patient_id = "PANCREAS_" + number;
        d.uid_seed = o.phantom.seed * 100003ULL + std::uint64_t(i);
        d.scramble_order = true;
        write_dicom_series(s.image, *pc.c.image, d);
        fs::create_directories(s.label.parent_path());
        write_nifti(s.label, *pc.c.label, layout_with_orientation(g, "LPS"));
        break;
      }
    }
    if (o.preview) write_previews(dir / "preview", pc);
    summaries[std::size_t(i)] = std::move(s);
  });

  nlohmann::json cohort = {
      {"generator", "c2f-phantom"},
      {"seed", o.phantom.seed},
      {"cases", o.cases},
      {"size", {o.phantom.size[0], o.phantom.size[1], o.phantom.size[2]}},
      {"phase", o.phantom.random_phase ? "random" : phase_name(o.phantom.phase)},
      {"anatomy", nlohmann::json::array()},
      {"spacing_mm", o.phantom.anatomy.empty() ? nlohmann::json("from size")
                     : o.phantom.spacing_mm == Vec3{0, 0, 0}
                         ? nlohmann::json("realistic")
                         : nlohmann::json{o.phantom.spacing_mm[0], o.phantom.spacing_mm[1], o.phantom.spacing_mm[2]}},
      {"orientation", o.orientation},
      {"layout", o.layout == PhantomLayout::Plain ? "plain" : o.layout == PhantomLayout::Msd ? "msd" : "nih"},
      {"summaries", nlohmann::json::array()}};
  for (const auto& f : o.phantom.anatomy) cohort["anatomy"].push_back(f.string());
  nlohmann::json training = nlohmann::json::array();
  for (const auto& s : summaries) {
    cohort["summaries"].push_back({{"id", s.id},
                                   {"pancreas_voxels", s.pancreas_voxels},
                                   {"pancreas_percent", s.pancreas_percent},
                                   {"pancreas_mean_hu", s.pancreas_mean_hu},
                                   {"spacing_mm", {s.spacing_mm[0], s.spacing_mm[1], s.spacing_mm[2]}},
                                   {"dims", {s.dims[0], s.dims[1], s.dims[2]}},
                                   {"phase", s.phase},
                                   {"anatomy", s.anatomy.empty() ? "hand-made" : s.anatomy},
                                   {"anatomy_set", s.anatomy_set}});
    training.push_back({{"image", "./imagesTr/" + s.id + ".nii.gz"}, {"label", "./labelsTr/" + s.id + ".nii.gz"}});
  }
  if (o.layout == PhantomLayout::Msd) {
    const nlohmann::json dataset = {{"name", "c2f phantom pancreas"},
                                    {"description", "Synthetic abdominal CT phantoms written by c2f-phantom"},
                                    {"modality", {{"0", "CT"}}},
                                    {"labels", {{"0", "background"}, {"1", "pancreas"}, {"2", "cancer"}}},
                                    {"numTraining", o.cases},
                                    {"numTest", 0},
                                    {"training", training},
                                    {"test", nlohmann::json::array()}};
    write_text_atomically(dir / "dataset.json", dataset.dump(2) + "\n");
  }
  write_text_atomically(dir / "cohort.json", cohort.dump(2) + "\n");
  return summaries;
}

}  // namespace c2f
