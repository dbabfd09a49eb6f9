// c2f-candidates-bench: DeepOrgan's candidate stage measured on phantoms. For each superpixel
// method and region size: the DSC upper bound of optimal superpixel labels (paper: 80.5 %),
// superpixels per volume and seconds per volume; then the random-forest cascade trained on one
// phantom cohort and tested on another (hidden seed): sensitivity and DSC of the candidates
// (paper: > 97 % and about 26 %). Prints a table and writes JSON with --json.
#include <chrono>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "../phantom/anatomy.hpp"
#include "../phantom/phantom.hpp"
#include "../pipeline/atomic_file.hpp"
#include "../stages/candidate_regions.hpp"
#include "../stages/superpixels.hpp"
#include "../tools/tool_main.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

struct Prepared {
  std::string id;
  c2f::Volume<float> normalized;
  c2f::Mask label;
};

std::vector<Prepared> cohort(c2f::PhantomOptions o, std::uint64_t seed, int cases) {
  o.seed = seed;
  std::vector<Prepared> out;
  for (int i = 0; i < cases; ++i) {
    const auto p = c2f::make_phantom(o, i);
    out.push_back({fmt::format("seed{}_{}", seed, i), c2f::window_normalize(*p.c.image), *p.c.label});
  }
  return out;
}

double dsc(const c2f::Mask& a, const c2f::Mask& b) {
  double both = 0, na = 0, nb = 0;
  for (std::int64_t i = 0; i < a.size(); ++i)
    na += a.data()[i] != 0, nb += b.data()[i] != 0, both += a.data()[i] && b.data()[i];
  return na + nb == 0 ? 1.0 : 2 * both / (na + nb);
}
double sensitivity(const c2f::Mask& found, const c2f::Mask& truth) {
  double hit = 0, all = 0;
  for (std::int64_t i = 0; i < truth.size(); ++i)
    all += truth.data()[i] != 0, hit += truth.data()[i] && found.data()[i];
  return all == 0 ? 1.0 : hit / all;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"DeepOrgan's candidate stage on phantoms: superpixel upper bound, then the random-forest cascade",
               "c2f-candidates-bench"};
  std::string size = "128x128x64", spacing, methods = "slico", regions_mm = "6", anatomy, json_path, cascade_path;
  std::uint64_t train_seed = 1, test_seed = 9001;
  int train_cases = 6, test_cases = 4;
  float ruler = 10.0f;
  bool no_cascade = false;
  c2f::SuperpixelOptions cascade_sp;
  c2f::CandidateOptions co;
  app.add_option("--size", size, "phantom voxels WxHxL (hand-made anatomy)")->capture_default_str();
  app.add_option("--anatomy", anatomy, "real anatomy: label-map file or folder ('shipped' for c2f's two maps)");
  std::string test_anatomy;
  app.add_option("--test-anatomy", test_anatomy, "real anatomy of the held-out phantoms (default: --anatomy's)");
  app.add_option("--spacing", spacing, "with --anatomy: X,Y,Z mm (0: drawn per case)");
  app.add_option("--train-seed", train_seed, "cohort seed of the training phantoms")->capture_default_str();
  app.add_option("--train-cases", train_cases, "training phantoms")->capture_default_str();
  app.add_option("--test-seed", test_seed, "cohort seed of the held-out phantoms")->capture_default_str();
  app.add_option("--test-cases", test_cases, "held-out phantoms")->capture_default_str();
  app.add_option("--methods", methods, "superpixel methods to compare: slic,slico,mslic,seeds,lsc")
      ->capture_default_str();
  app.add_option("--region-mm", regions_mm, "region sizes to compare, mm (comma-separated)")->capture_default_str();
  app.add_option("--ruler", ruler, "SLIC compactness (LSC ratio x 100)")->capture_default_str();
  std::string cascade_method = c2f::superpixel_method_name(cascade_sp.method);
  app.add_option("--cascade-method", cascade_method, "superpixel method of the cascade run")->capture_default_str();
  app.add_option("--cascade-region-mm", cascade_sp.region_size_mm, "superpixel region of the cascade run, mm")
      ->capture_default_str();
  app.add_option("--trees", co.trees, "trees per forest")->capture_default_str();
  app.add_option("--depth", co.max_depth, "tree depth")->capture_default_str();
  app.add_option("--negatives", co.negatives_per_case, "sampled non-pancreas superpixels per training case")
      ->capture_default_str();
  app.add_option("--folds", co.calibration_folds, "cross-fitting folds that choose the cuts")->capture_default_str();
  app.add_option("--level1-sensitivity", co.level1_sensitivity, "training pancreas share level 1 keeps")
      ->capture_default_str();
  app.add_option("--level2-sensitivity", co.level2_sensitivity, "training pancreas share the cascade keeps")
      ->capture_default_str();
  app.add_option("--forest-seed", co.seed, "seed of the forests and of the training sample")->capture_default_str();
  app.add_flag("--no-cascade", no_cascade, "measure the superpixels only");
  app.add_option("--save-cascade", cascade_path, "write the trained cascade here");
  app.add_option("--json", json_path, "write the measurements as JSON");

  return c2f::run_tool(app, argc, argv, [&] {
    c2f::PhantomOptions po;
    po.size = c2f::parse_size(size);
    auto maps = [](const std::string& a) {
      auto v = c2f::list_label_maps(a == "shipped" ? c2f::shipped_anatomy_folder() : std::filesystem::path(a), "");
      std::sort(v.begin(), v.end());
      return v;
    };
    if (!anatomy.empty()) {
      po.anatomy = maps(anatomy);
      if (!spacing.empty()) {
        double v[3];
        if (std::sscanf(spacing.c_str(), "%lf,%lf,%lf", &v[0], &v[1], &v[2]) != 3)
          throw c2f::OptionError("--spacing: '" + spacing + "' is not X,Y,Z");
        po.spacing_mm = {v[0], v[1], v[2]};
      }
    }
    po.validate();
    co.validate();
    cascade_sp.method = c2f::parse_superpixel_method(cascade_method);
    nlohmann::json report;
    auto t0 = Clock::now();
    c2f::PhantomOptions test_po = po;
    if (!test_anatomy.empty()) test_po.anatomy = maps(test_anatomy);
    const auto test = cohort(test_po, test_seed, test_cases);
    fmt::print("{} held-out phantoms (seed {}) in {:.1f} s, first {}x{}x{} at {:.2f}x{:.2f}x{:.2f} mm\n", test.size(),
               test_seed, seconds_since(t0), test[0].normalized.nx(), test[0].normalized.ny(), test[0].normalized.nz(),
               test[0].normalized.geometry().spacing_mm[0], test[0].normalized.geometry().spacing_mm[1],
               test[0].normalized.geometry().spacing_mm[2]);

    // Superpixels: upper bound, count and time per volume, on the held-out phantoms.
    fmt::print("{:<7} {:>9} {:>9} {:>12} {:>12} {:>10}\n", "method", "region mm", "region px", "upper bound",
               "superpixels", "s/volume");
    for (const auto& m : split(methods))
      for (const auto& r : split(regions_mm)) {
        c2f::SuperpixelOptions so;
        so.method = c2f::parse_superpixel_method(m);
        so.region_size_mm = std::stod(r);
        so.ruler = ruler;
        double bound = 0, count = 0, secs = 0;
        std::vector<double> bounds;
        for (const auto& c : test) {
          const auto t = Clock::now();
          const auto sp = c2f::axial_superpixels(c.normalized, so);
          secs += seconds_since(t);
          bounds.push_back(c2f::superpixel_upper_bound_dsc(sp, c.label));
          bound += bounds.back();
          count += double(sp.count);
        }
        const double n = double(test.size());
        fmt::print("{:<7} {:>9} {:>9} {:>11.1f}% {:>12.0f} {:>10.2f}\n", m, r,
                   so.region_px(test[0].normalized.geometry()), 100 * bound / n, count / n, secs / n);
        report["superpixels"].push_back({{"method", m},
                                         {"region_mm", so.region_size_mm},
                                         {"ruler", ruler},
                                         {"upper_bound_dsc", bound / n},
                                         {"upper_bound_per_case", bounds},
                                         {"superpixels_per_volume", count / n},
                                         {"seconds_per_volume", secs / n}});
        std::fflush(stdout);
      }
    if (no_cascade) {
      if (!json_path.empty()) c2f::write_text_atomically(json_path, report.dump(2) + "\n");
      return 0;
    }

    // The cascade: trained on the training cohort, tested on the held-out one.
    t0 = Clock::now();
    const auto train = cohort(po, train_seed, train_cases);
    fmt::print("{} training phantoms (seed {}) made in {:.1f} s\n", train.size(), train_seed, seconds_since(t0));
    std::vector<c2f::Superpixels> train_sp;
    t0 = Clock::now();
    for (const auto& c : train) train_sp.push_back(c2f::axial_superpixels(c.normalized, cascade_sp));
    fmt::print("their superpixels in {:.1f} s\n", seconds_since(t0));
    std::vector<c2f::CandidateTrainingCase> cases;
    for (std::size_t i = 0; i < train.size(); ++i)
      cases.push_back({&train[i].normalized, &train_sp[i], &train[i].label});
    t0 = Clock::now();
    const auto cascade = c2f::CandidateCascade::train(cases, co);
    const double train_seconds = seconds_since(t0);
    fmt::print("cascade trained in {:.1f} s: level-1 cut {:.3f}, level-2 cut {:.3f}\n", train_seconds,
               cascade.level1_cut(), cascade.level2_cut());
    if (!cascade_path.empty()) cascade.save(cascade_path);
    report["cascade"] = {{"train_seed", train_seed},
                         {"train_cases", train_cases},
                         {"trees", co.trees},
                         {"max_depth", co.max_depth},
                         {"level1_cut", cascade.level1_cut()},
                         {"level2_cut", cascade.level2_cut()},
                         {"train_seconds", train_seconds},
                         {"superpixel_method", c2f::superpixel_method_name(cascade_sp.method)},
                         {"superpixel_region_mm", cascade_sp.region_size_mm}};
    fmt::print("{:<14} {:>12} {:>12} {:>8} {:>12} {:>12} {:>9} {:>9}\n", "case", "sensitivity", "DSC", "level-1",
               "candidates", "of sp", "bound", "s");
    double sum_sens = 0, sum_dsc = 0, min_sens = 1;
    for (const auto& c : test) {
      const auto t = Clock::now();
      const auto sp = c2f::axial_superpixels(c.normalized, cascade_sp);
      const auto r = cascade.candidates(c.normalized, sp);
      const double secs = seconds_since(t);
      const double sens = sensitivity(r.mask, c.label), d = dsc(r.mask, c.label);
      std::int64_t level1 = 0;
      for (float p : r.level1_probability) level1 += p >= cascade.level1_cut();
      const double bound = c2f::superpixel_upper_bound_dsc(sp, c.label);
      fmt::print("{:<14} {:>11.1f}% {:>11.1f}% {:>8} {:>12} {:>12} {:>8.1f}% {:>9.1f}\n", c.id, 100 * sens, 100 * d,
                 level1, r.ids.size(), sp.count, 100 * bound, secs);
      report["cascade"]["test"].push_back({{"case", c.id},
                                           {"sensitivity", sens},
                                           {"dsc", d},
                                           {"level1_survivors", level1},
                                           {"candidates", r.ids.size()},
                                           {"superpixels", sp.count},
                                           {"upper_bound_dsc", bound},
                                           {"seconds", secs}});
      sum_sens += sens, sum_dsc += d, min_sens = std::min(min_sens, sens);
    }
    const double n = double(test.size());
    fmt::print("mean sensitivity {:.1f}% (min {:.1f}%), mean DSC {:.1f}% (paper: > 97 %, about 26 %)\n",
               100 * sum_sens / n, 100 * min_sens, 100 * sum_dsc / n);
    report["cascade"]["mean_sensitivity"] = sum_sens / n;
    report["cascade"]["min_sensitivity"] = min_sens;
    report["cascade"]["mean_dsc"] = sum_dsc / n;
    if (!json_path.empty()) c2f::write_text_atomically(json_path, report.dump(2) + "\n");
    return 0;
  });
}
