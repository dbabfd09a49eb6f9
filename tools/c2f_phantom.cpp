// c2f-phantom: writes a synthetic abdominal CT cohort (image + pancreas label) that every c2f tool reads.
#include <algorithm>
#include <chrono>

#include <cstdio>

#include "../phantom/anatomy.hpp"
#include "../phantom/phantom_cohort.hpp"
#include "tool_main.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Write a synthetic abdominal CT phantom cohort (image + pancreas label)", "c2f-phantom"};
  std::string out, size = "128x128x64", phase = "portal-venous", layout = "plain";
  c2f::PhantomCohortOptions o;
  app.add_option("-o,--out", out, "output folder")->required();
  app.add_option("-n,--cases", o.cases, "number of cases")->capture_default_str()->check(c2f::cli::range(1, 10000));
  app.add_option("-s,--seed", o.phantom.seed, "random seed: the same seed writes the same cohort")->capture_default_str();
  app.add_option("--size", size, "voxels WxHxL (NIH size: 512x512x250)")
      ->capture_default_str()
      ->check(c2f::cli::parsed_by([](const std::string& s) {
        c2f::PhantomOptions p;
        p.size = c2f::parse_size(s);
        p.validate();
      }));
  app.add_option("--phase", phase, "contrast phase: native, arterial, portal-venous, or random (drawn per case)")
      ->capture_default_str()
      ->check(c2f::cli::parsed_by([](const std::string& s) {
        if (s != "random") c2f::parse_phase(s);
      }));
  std::vector<std::string> anatomy;
  app.add_option("--anatomy", anatomy,
                 "real anatomy: label-map files or folders, repeatable (FLARE22, WORD, TotalSegmentator sets; 'shipped' "
                 "for the two TotalSegmentator maps shipped with c2f); case i uses map i mod N of the sorted list. "
                 "Without it: the hand-made anatomy at --size");
  app.add_option("--anatomy-set", o.phantom.anatomy_set,
                 "the set of the --anatomy maps (flare22, word, totalseg) where no folder of that name is on their path")
      ->check(c2f::cli::parsed_by([](const std::string& s) {
        if (!c2f::is_anatomy_set(s)) throw c2f::OptionError("unknown label-map set '" + s + "' (expected flare22, word or totalseg)");
      }));
  std::string spacing = "realistic";
  auto* spacing_option =
      app.add_option("--spacing", spacing,
                     "with --anatomy: 'realistic' (512 x 512 at 0.6-1.0 mm, slices 0.6-5 mm, drawn per case) or X,Y,Z mm "
                     "(0 on an axis: drawn per case)")
          ->capture_default_str();
  app.add_option("--layout", layout, "plain (<case>.nii.gz + <case>_label.nii.gz), msd (Decathlon) or nih (DICOM + labelNNNN.nii.gz)")
      ->capture_default_str()
      ->check(c2f::cli::parsed_by([](const std::string& s) { c2f::parse_phantom_layout(s); }));
  app.add_option("--orientation", o.orientation, "axis code of the NIfTI files, e.g. LAS, RAS, LPS")
      ->capture_default_str()
      ->check(c2f::cli::parsed_by([](const std::string& s) { c2f::layout_with_orientation(c2f::Geometry{}, s); }));
  app.add_option("--noise", o.phantom.noise_scale, "noise scale (1 = realistic)")->capture_default_str()->check(c2f::cli::range(0, 10));
  app.add_flag("--tissues", o.write_tissues, "also write <case>_tissues.nii.gz (TotalSegmentator v1 organ codes)");
  app.add_flag("--preview", o.preview, "write preview/<case>_{axial,coronal}.png with the label outlined");
  bool quiet = false;
  app.add_flag("-q,--quiet", quiet, "print nothing but errors");

  return c2f::run_tool(app, argc, argv, [&] {
    o.phantom.size = c2f::parse_size(size);
    o.phantom.random_phase = phase == "random";
    if (!o.phantom.random_phase) o.phantom.phase = c2f::parse_phase(phase);
    for (const auto& a : anatomy) {
      const bool shipped = a == "default" || a == "shipped";
      for (const auto& f : c2f::list_label_maps(shipped ? c2f::shipped_anatomy_folder() : std::filesystem::path(a),
                                                o.phantom.anatomy_set))
        o.phantom.anatomy.push_back(f);
    }
    std::sort(o.phantom.anatomy.begin(), o.phantom.anatomy.end());
    if (anatomy.empty() && spacing_option->count() > 0)
      throw c2f::OptionError("--spacing needs --anatomy (the hand-made anatomy's grid comes from --size)");
    if (spacing != "realistic") {
      double v[3];
      int used = 0;
      if (std::sscanf(spacing.c_str(), "%lf,%lf,%lf%n", &v[0], &v[1], &v[2], &used) != 3 || used != int(spacing.size()))
        throw c2f::OptionError("--spacing: '" + spacing + "' is neither realistic nor X,Y,Z");
      o.phantom.spacing_mm = {v[0], v[1], v[2]};
    }
    o.layout = c2f::parse_phantom_layout(layout);
    const auto t0 = std::chrono::steady_clock::now();
    const auto summaries = c2f::write_phantom_cohort(out, o);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (quiet) return 0;
    fmt::print("c2f-phantom: {} case(s), {} layout, {} phase, seed {}, in {:.1f} s -> {}\n", summaries.size(), layout,
               phase, o.phantom.seed, seconds, out);
    fmt::print("{:<12} {:>13} {:>20} {:>10} {:>9} {:>9} {:>13} {:>14}  {}\n", "case", "voxels", "spacing mm", "pancreas",
               "share %", "mean HU", "extent vox", "phase", "anatomy (set)");
    for (const auto& s : summaries)
      fmt::print("{:<12} {:>13} {:>20} {:>10} {:>9.3f} {:>9.1f} {:>13} {:>14}  {}\n", s.id,
                 fmt::format("{}x{}x{}", s.dims[0], s.dims[1], s.dims[2]),
                 fmt::format("{:.2f}x{:.2f}x{:.2f}", s.spacing_mm[0], s.spacing_mm[1], s.spacing_mm[2]),
                 s.pancreas_voxels, s.pancreas_percent, s.pancreas_mean_hu,
                 fmt::format("{}x{}x{}", s.pancreas_extent[0], s.pancreas_extent[1], s.pancreas_extent[2]), s.phase,
                 s.anatomy.empty() ? std::string("hand-made")
                                   : fmt::format("{} ({})", std::filesystem::path(s.anatomy).filename().string(), s.anatomy_set));
    return 0;
  });
}
