#include "deeporgan_training.hpp"

#include <tbb/flow_graph.h>
#include <tbb/parallel_for.h>

#include <fstream>
#include <mutex>

#include <fmt/format.h>

#include "../evaluation/metrics.hpp"
#include "../model/checkpoint.hpp"
#include "../model/deeporgan_convnet.hpp"
#include "../model/deeporgan_networks.hpp"
#include "../model/train_step.hpp"
#include "../pipeline/atomic_file.hpp"
#include "../pipeline/errors.hpp"
#include "../pipeline/random.hpp"
#include "../stages/threshold.hpp"

namespace c2f {
namespace fs = std::filesystem;

void DeepOrganTrainingOptions::validate() const {
  method.validate();
  candidates.validate();
  tps.validate();
  if (deformations < 1) throw OptionError("at least one deformation (Nt) per draw is needed");
  if (p_iterations < 1 || r_iterations < 1) throw OptionError("each network trains at least one iteration");
  if (batch < 2) throw OptionError("a batch holds at least 2 examples");
  if (patches_per_class < 1 || regions_per_class < 1) throw OptionError("at least one example per case and class is needed");
  if (!(learning_rate > 0)) throw OptionError("learning rate must be positive");
  if (cases_in_flight < 1) throw OptionError("at least one case must be in flight");
  if (out.empty()) throw OptionError("an output folder for the DeepOrgan set is required");
}

namespace {
// A training case on the set's grid, with what each phase adds.
struct TrainingCase {
  std::string name;
  std::shared_ptr<const Volume<float>> normalized;
  std::shared_ptr<const Mask> label;
  std::shared_ptr<const Superpixels> superpixels;
  CandidateRegions candidates;
  std::shared_ptr<const ProbabilityMap> p0;
};

std::uint64_t draw(std::uint64_t seed, std::uint64_t stream, std::uint64_t i) {
  return mix64(seed ^ mix64(stream * 0x9E3779B97F4A7C15ULL + i));
}

class Phases {
 public:
  explicit Phases(DeepOrganTrainingReport& r) : r_(r) {}
  void add(const std::string& name, StageClock::time_point t0) { r_.stage_seconds[name] += seconds_since(t0); }

 private:
  DeepOrganTrainingReport& r_;
};

CheckpointInfo info_for(DeepOrganNet net, const DeepOrganTrainingOptions& o, std::int64_t iterations, const DeepOrganOptions& method) {
  CheckpointInfo info;
  info.method = "deeporgan";
  info.role = deeporgan_role(net);
  info.model = deeporgan_model_name(net);
  info.window = method.window;
  if (method.resample) info.spacing_mm = method.resample->spacing_mm;
  info.iteration = iterations;
  info.hyper = method.settings_json();
  info.hyper["learning_rate"] = o.learning_rate;
  info.hyper["optimizer"] = "adam";
  info.hyper["batch"] = o.batch;
  info.hyper["seed"] = o.seed;
  info.hyper["deformations"] = o.deformations;
  info.hyper["tps"] = {{"grid", o.tps.grid}, {"max_shift_px", o.tps.max_shift_px}};
  return info;
}

// Trains one classifier on batches that make_batch fills; returns the network. Logs every 50 steps.
SegmentationModel train_classifier(DeepOrganNet net, const DeepOrganTrainingOptions& o, std::int64_t iterations,
                                   std::int64_t channels, std::int64_t side,
                                   const std::function<void(std::int64_t it, float* images, std::int64_t* labels)>& make_batch,
                                   DeepOrganTrainingReport& report, std::ofstream& csv, const TrainingLog& log) {
  torch::manual_seed(std::int64_t(o.seed) + std::int64_t(net));
  SegmentationModel m = make_model(deeporgan_model_name(net));
  auto optimizer = make_optimizer(*m, Optimizer::Adam, o.learning_rate);
  std::vector<float> images(std::size_t(o.batch * channels * side * side));
  std::vector<std::int64_t> labels(std::size_t(o.batch));
  std::vector<double> losses;
  double window_sum = 0;
  for (std::int64_t it = 0; it < iterations; ++it) {
    make_batch(it, images.data(), labels.data());
    const double loss = classifier_train_step(*m, *optimizer, {images.data(), labels.data(), o.batch, channels, side, side});
    losses.push_back(loss);
    window_sum += loss;
    if ((it + 1) % 50 == 0 || it + 1 == iterations) {
      const std::int64_t k = (it % 50) + 1;
      csv << fmt::format("{},{},{:.5f}\n", deeporgan_role(net), it + 1, window_sum / double(k)) << std::flush;
      if (log) log(fmt::format("{} iteration {}/{}: cross-entropy {:.4f}", deeporgan_role(net), it + 1, iterations, window_sum / double(k)));
      window_sum = 0;
    }
  }
  const auto mean = [&](std::size_t from, std::size_t to) {
    double s = 0;
    for (std::size_t i = from; i < to; ++i) s += losses[i];
    return s / double(std::max<std::size_t>(1, to - from));
  };
  const std::size_t w = std::min<std::size_t>(20, losses.size());
  report.first_loss[deeporgan_role(net)] = mean(0, w);
  report.last_loss[deeporgan_role(net)] = mean(losses.size() - w, losses.size());
  return m;
}

// Probabilities of many images through a network, in chunks.
std::vector<float> classify_all(SegmentationModelImpl& m, const std::vector<float>& images, std::int64_t channels, std::int64_t side) {
  const std::int64_t per = channels * side * side, n = std::int64_t(images.size()) / per;
  std::vector<float> out(static_cast<std::size_t>(n));
  for (std::int64_t first = 0; first < n; first += 512) {
    const std::int64_t k = std::min<std::int64_t>(512, n - first);
    classifier_probabilities(m, {images.data() + first * per, nullptr, k, channels, side, side}, out.data() + first);
  }
  return out;
}

// The threshold in 0.05 steps that maximises the mean DSC over the cases.
float best_threshold(const std::vector<std::shared_ptr<const ProbabilityMap>>& maps, const std::vector<TrainingCase>& cases) {
  float best = 0.5f;
  double best_dsc = -1;
  for (int k = 1; k < 20; ++k) {
    const float level = 0.05f * float(k);
    double sum = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) sum += dice(threshold(*maps[i], level), *cases[i].label);
    if (sum / double(cases.size()) > best_dsc + 1e-9) {
      best_dsc = sum / double(cases.size());
      best = level;
    }
  }
  return best;
}
}  // namespace

DeepOrganTrainingReport train_deeporgan(std::size_t count, const CaseLoader& load, const DeepOrganTrainingOptions& o,
                                        const TrainingLog& log) {
  o.validate();
  if (count == 0) throw OptionError("DeepOrgan needs at least one training case");
  DeepOrganTrainingReport report;
  report.cases = count;
  Phases phases(report);
  DeepOrganOptions method = o.method;
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) throw OutputError(o.out.string(), "cannot create the DeepOrgan set's folder: " + ec.message());
  std::ofstream csv(o.out / "training_log.csv");
  csv << "network,iteration,cross_entropy\n";

  // Prepare: every case on the set's grid, windowed, cut into superpixels.
  auto t0 = StageClock::now();
  std::vector<TrainingCase> cases(count);
  {
    namespace flow = tbb::flow;
    flow::graph g;
    std::size_t next = 0;
    flow::input_node<std::size_t> source(g, [&](tbb::flow_control& fc) -> std::size_t {
      if (next < count) return next++;
      fc.stop();
      return 0;
    });
    flow::limiter_node<std::size_t, int> in_flight(g, o.cases_in_flight);
    flow::function_node<std::size_t, int> prepare(g, flow::unlimited, [&](std::size_t i) {
      Case c = load(i);
      const std::string name = !c.source.empty() ? c.source : c.id;
      if (!c.label) throw InputError(name, "a DeepOrgan training case needs its label");
      if (method.resample) c = resample_case(c, *method.resample);
      TrainingCase& t = cases[i];
      t.name = name;
      t.normalized = std::make_shared<const Volume<float>>(WindowNormalize{method.window}(*c.image));
      t.label = c.label;
      t.superpixels = std::make_shared<const Superpixels>(AxialSuperpixels{method.superpixels}(*t.normalized));
      if (log) log(fmt::format("prepared {} ({} superpixels)", name, t.superpixels->count));
      return 1;
    });
    flow::make_edge(source, in_flight);
    flow::make_edge(in_flight, prepare);
    flow::make_edge(prepare, in_flight.decrementer());
    source.activate();
    g.wait_for_all();  // a throw in a body is rethrown here: training stops at a bad case
  }
  phases.add("prepare", t0);

  // 1. The cascade, and every training case's candidates.
  t0 = StageClock::now();
  std::vector<CandidateTrainingCase> borrowed;
  for (const auto& t : cases) borrowed.push_back({t.normalized.get(), t.superpixels.get(), t.label.get()});
  const CandidateCascade cascade = CandidateCascade::train(borrowed, o.candidates);
  cascade.save(o.out / kCandidateCascadeFile);
  tbb::parallel_for(std::size_t(0), count, [&](std::size_t i) {
    cases[i].candidates = cascade.candidates(*cases[i].normalized, *cases[i].superpixels);
  });
  {
    std::int64_t kept = 0, truth = 0;
    double dsc = 0;
    for (const auto& t : cases) {
      const Overlap ov = overlap(t.candidates.mask, *t.label);
      kept += ov.both;
      truth += ov.b;
      dsc += ov.dice();
    }
    report.candidate_sensitivity = truth ? double(kept) / double(truth) : 1.0;
    report.candidate_dsc = dsc / double(count);
    if (log)
      log(fmt::format("candidate cascade: sensitivity {:.3f}, mean DSC {:.3f} on the training cases",
                      report.candidate_sensitivity, report.candidate_dsc));
  }
  phases.add("cascade", t0);

  // 2. P-ConvNet on lattice voxels of S_RF, classes balanced per case.
  t0 = StageClock::now();
  struct PatchRef {
    std::size_t c;
    Index3 v;
    std::int64_t label;
  };
  std::vector<PatchRef> patch_refs;
  std::array<std::vector<std::size_t>, 2> patch_by_class;
  for (std::size_t i = 0; i < count; ++i) {
    const PatchExamples ex = patch_examples(cases[i].candidates.mask, *cases[i].label, method.patches.every_n,
                                            o.patches_per_class, draw(o.seed, 1, i));
    for (std::size_t k = 0; k < ex.voxels.size(); ++k) {
      patch_by_class[std::size_t(ex.labels[k])].push_back(patch_refs.size());
      patch_refs.push_back({i, ex.voxels[k], ex.labels[k]});
    }
  }
  if (patch_by_class[0].empty() || patch_by_class[1].empty())
    throw InputError(o.out.string(), "the training cases' candidate regions hold no pancreas or no background voxel: "
                                     "nothing to train P-ConvNet on");
  const std::int64_t pp = method.patches.patch_px, patch_plane = 3 * pp * pp;
  const auto p_batch = [&](std::int64_t it, float* images, std::int64_t* labels) {
    for (std::int64_t j = 0; j < o.batch; ++j) {  // half of each class
      const auto& pool = patch_by_class[std::size_t(j % 2)];
      const PatchRef& r = patch_refs[pool[draw(o.seed, 2, std::uint64_t(it * o.batch + j)) % pool.size()]];
      extract_patch_25d(*cases[r.c].normalized, r.v, int(pp), images + j * patch_plane);
      labels[j] = r.label;
    }
  };
  SegmentationModel p_convnet = train_classifier(DeepOrganNet::P, o, o.p_iterations, 3, pp, p_batch, report, csv, log);
  phases.add("P-ConvNet", t0);

  // 3. P0 of every training case.
  t0 = StageClock::now();
  for (auto& t : cases) {
    const auto lattice = sample_voxels(t.candidates.mask, method.patches.every_n);
    std::vector<float> images(lattice.size() * std::size_t(patch_plane));
    for (std::size_t k = 0; k < lattice.size(); ++k)
      extract_patch_25d(*t.normalized, lattice[k], int(pp), images.data() + k * std::size_t(patch_plane));
    const auto p = classify_all(*p_convnet, images, 3, pp);
    t.p0 = std::make_shared<const ProbabilityMap>(nearest_fill(t.candidates.mask, lattice, p));
  }
  phases.add("P0", t0);

  // 4. R2- and R1-ConvNet on candidate superpixels, Ns scales x Nt deformations.
  struct RegionRef {
    std::size_t c;
    std::int32_t id;
    std::int64_t label;
  };
  std::vector<RegionRef> region_refs;
  std::array<std::vector<std::size_t>, 2> region_by_class;
  for (std::size_t i = 0; i < count; ++i) {
    const auto fraction = superpixel_label_fraction(*cases[i].superpixels, *cases[i].label);
    std::array<std::vector<std::int32_t>, 2> ids;
    for (std::int32_t id : cases[i].candidates.ids) ids[fraction[std::size_t(id)] > 0.5f ? 1 : 0].push_back(id);
    for (int cls : {0, 1}) {
      auto& pool = ids[std::size_t(cls)];
      const std::size_t take = std::min<std::size_t>(pool.size(), std::size_t(o.regions_per_class));
      for (std::size_t k = 0; k < take; ++k) {  // partial Fisher-Yates, as patch_examples
        std::swap(pool[k], pool[k + draw(o.seed, 3 + std::uint64_t(cls), i * 1'000'003 + k) % (pool.size() - k)]);
        region_by_class[std::size_t(cls)].push_back(region_refs.size());
        region_refs.push_back({i, pool[k], cls});
      }
    }
  }
  if (region_by_class[0].empty() || region_by_class[1].empty())
    throw InputError(o.out.string(), "the training cases' candidate superpixels hold no pancreas or no background one: "
                                     "nothing to train the R-ConvNets on");
  std::vector<TpsWarp> warps;
  for (int t = 0; t < o.deformations; ++t) warps.push_back(random_thin_plate_spline(method.regions.out_px, o.tps, draw(o.seed, 5, std::uint64_t(t))));
  const std::int64_t side = method.regions.out_px;
  const auto r_batch = [&](bool with_p0, std::uint64_t stream) {
    return [&, with_p0, stream](std::int64_t it, float* images, std::int64_t* labels) {
      const std::int64_t channels = with_p0 ? 2 : 1, per = channels * side * side;
      for (std::int64_t j = 0; j < o.batch; ++j) {
        const std::uint64_t key = std::uint64_t(it * o.batch + j);
        const auto& pool = region_by_class[std::size_t(j % 2)];
        const RegionRef& r = region_refs[pool[draw(o.seed, stream, key) % pool.size()]];
        const TrainingCase& t = cases[r.c];
        const Box3& box = t.superpixels->boxes[std::size_t(r.id)];
        const double factor = method.regions.zoom_out[draw(o.seed, stream + 1, key) % method.regions.zoom_out.size()];
        std::vector<const Volume<float>*> channels_of{t.normalized.get()};
        if (with_p0) channels_of.push_back(t.p0.get());
        float* x = images + j * per;
        warp_region(channels_of, box.lo[2], zoom_out_region(box, factor, method.regions.min_side_px), int(side), x);
        apply_warp(warps[draw(o.seed, stream + 2, key) % warps.size()], x, int(channels), int(side));
        labels[j] = r.label;
      }
    };
  };
  t0 = StageClock::now();
  SegmentationModel r2 = train_classifier(DeepOrganNet::R2, o, o.r_iterations, 2, side, r_batch(true, 10), report, csv, log);
  phases.add("R2-ConvNet", t0);
  SegmentationModel r1;
  if (o.train_r1) {
    t0 = StageClock::now();
    r1 = train_classifier(DeepOrganNet::R1, o, o.r_iterations, 1, side, r_batch(false, 20), report, csv, log);
    phases.add("R1-ConvNet", t0);
  }

  // 5. Thresholds on the training cases: G(P0) and G(P2).
  if (o.choose_thresholds) {
    t0 = StageClock::now();
    std::vector<std::shared_ptr<const ProbabilityMap>> g0, g2;
    for (const auto& t : cases) {
      const auto& ids = t.candidates.ids;
      std::vector<float> images;
      for (std::int32_t id : ids) {
        const auto in = region_inputs(*t.normalized, t.p0.get(), t.superpixels->boxes[std::size_t(id)], method.regions);
        images.insert(images.end(), in.begin(), in.end());
      }
      const auto per_scale = classify_all(*r2, images, 2, side);
      const auto p2 = superpixel_probability_map(t.superpixels->labels, ids, average_over_scales(per_scale, method.regions.scales()));
      g0.push_back(std::make_shared<const ProbabilityMap>(gaussian_smooth(*t.p0, method.smoothing)));
      g2.push_back(std::make_shared<const ProbabilityMap>(gaussian_smooth(p2, method.smoothing)));
    }
    method.p0 = best_threshold(g0, cases);
    method.p2 = best_threshold(g2, cases);
    if (log) log(fmt::format("thresholds chosen on the training cases: p0 = {:.2f}, p2 = {:.2f}", method.p0, method.p2));
    phases.add("thresholds", t0);
  }
  report.p0 = method.p0;
  report.p2 = method.p2;

  save_checkpoint(deeporgan_checkpoint_path(o.out, DeepOrganNet::P), *p_convnet, info_for(DeepOrganNet::P, o, o.p_iterations, method));
  save_checkpoint(deeporgan_checkpoint_path(o.out, DeepOrganNet::R2), *r2, info_for(DeepOrganNet::R2, o, o.r_iterations, method));
  if (r1) save_checkpoint(deeporgan_checkpoint_path(o.out, DeepOrganNet::R1), *r1, info_for(DeepOrganNet::R1, o, o.r_iterations, method));
  return report;
}

}  // namespace c2f
