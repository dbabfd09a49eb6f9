// c2f-bench: where the time goes. Per-stage throughput beside memcpy, the graph with one case in
// flight against several, seconds per case against slices, and the Python/PyTorch peer side by
// side on the same cases and weights; and the peak memory of the cases-in-flight budget. Every
// figure comes from this one run.
#include <H5Cpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "../graphs/segmentation_graph.hpp"
#include "../io/case_store.hpp"
#include "../io/cohort.hpp"
#include "../io/nifti.hpp"
#include "../model/data_parallel.hpp"
#include "../model/model_registry.hpp"
#include "../model/runtime.hpp"
#include "../phantom/phantom.hpp"
#include "../pipeline/atomic_file.hpp"
#include "../stages/bounding_box.hpp"
#include "../stages/crop_with_frame.hpp"
#include "../evaluation/metrics.hpp"
#include "../stages/resample.hpp"
#include "../stages/threshold.hpp"
#include "../stages/tri_planar.hpp"
#include "../stages/view_fusion.hpp"
#include "../stages/window.hpp"
#include "../tools/inference_cli.hpp"
#include "../tools/tool_main.hpp"
#include "peak_flops.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
using Clock = c2f::StageClock;

struct Timing {
  double min = 0, median = 0;
};

template <class F>
Timing repeat(int n, F&& body) {
  std::vector<double> s;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    body();
    s.push_back(c2f::seconds_since(t0));
  }
  std::sort(s.begin(), s.end());
  return {s.front(), s[s.size() / 2]};
}

// The yardstick of a memory-bound stage: copying the same number of bytes into a fresh buffer,
// as the stage writes its result into a fresh volume.
Timing memcpy_time(std::size_t bytes, int repeats) {
  std::vector<char> src(bytes, 1);
  return repeat(repeats, [&] {
    std::unique_ptr<char[]> dst(new char[bytes]);
    std::memcpy(dst.get(), src.data(), bytes);
    asm volatile("" ::"r"(dst.get()) : "memory");
  });
}

struct StageRow {
  std::string stage;
  double bytes = 0, voxels = 0;
  Timing t, copy;
};

std::vector<StageRow> bench_stages(const c2f::Case& c, int repeats) {
  const c2f::Image& hu = *c.image;
  const double n = double(hu.size());
  std::vector<StageRow> rows;
  const auto add = [&](std::string name, double bytes, auto&& body) {
    StageRow r;
    r.stage = std::move(name);
    r.bytes = bytes;
    r.voxels = n;
    body();  // warm-up: first-touch of caches and allocator
    r.t = repeat(repeats, body);
    r.copy = memcpy_time(std::size_t(bytes), repeats);
    rows.push_back(r);
  };
  // To the networks' grid (2 mm, as the shipped weights) and a map of that grid back again.
  const c2f::Geometry network = c2f::network_grid(hu.geometry(), c2f::ResampleOptions{{2, 2, 2}});
  const double m = double(network.voxel_count());
  c2f::Image on_network;
  add("resample (to 2 mm)", 4 * (n + m), [&] { on_network = c2f::resample(hu, network); });
  c2f::ProbabilityMap back;
  add("resample back", 4 * (n + m), [&] { back = c2f::resample(on_network, hu.geometry()); });
  c2f::Volume<float> normalized;
  add("window", 4 * n, [&] { normalized = c2f::window_normalize(hu); });
  const c2f::Box3 whole = c2f::Box3::whole(hu.dims());
  std::array<c2f::ProbabilityMap, 3> maps;
  for (c2f::View v : c2f::kViews) {
    const auto plan = c2f::plan_slice_batches(whole, v, 8);
    std::vector<c2f::SliceBatch> batches;
    add(fmt::format("slice ({})", c2f::view_name(v)), 12 * n, [&] {
      batches.clear();
      for (const auto& r : plan) batches.push_back(c2f::make_slice_batch(normalized, v, whole, r));
    });
    add(fmt::format("tri-planar average ({})", c2f::view_name(v)), 12 * n, [&] {
      c2f::ViewAccumulator acc(hu.geometry(), whole, v);
      for (const auto& b : batches) acc.add({b.range, b.data});  // stand-in predictions: the slices
      maps[std::size_t(v)] = acc.finish();
    });
  }
  c2f::ProbabilityMap fused;
  add("fusion (mean)", 12 * n, [&] { fused = c2f::fuse_views({&maps[0], &maps[1], &maps[2]}); });
  c2f::Mask mask;
  add("threshold", 4 * n, [&] { mask = c2f::threshold(fused, 0.5f); });
  c2f::Box3 box;
  add("bounding box", n, [&] { box = c2f::bounding_box(*c.label); });
  const c2f::Box3 region = c2f::crop_region(box, hu.dims(), 15).box;
  c2f::Volume<float> part;
  add("crop with frame", 4 * double(region.voxel_count()), [&] { part = c2f::crop(normalized, region); });
  const c2f::Mask part_mask = c2f::crop(*c.label, region);
  c2f::Mask pasted;
  add("paste-back", n, [&] { pasted = c2f::paste_back(part_mask, region, hu.geometry(), std::uint8_t{0}); });
  double d = 0;
  add("convergence (DSC)", 2 * n, [&] { d = c2f::dice(pasted, *c.label); });
  return rows;
}

std::string stage_table(const std::vector<StageRow>& rows) {
  std::string out = fmt::format("{:<28} {:>10} {:>10} {:>12} {:>10} {:>10}\n", "stage", "min s", "median s", "Mvoxel/s",
                                "memcpy s", "vs memcpy");
  for (const auto& r : rows)
    out += fmt::format("{:<28} {:>10.4f} {:>10.4f} {:>12.1f} {:>10.4f} {:>10.2f}\n", r.stage, r.t.min, r.t.median,
                       r.voxels / r.t.min * 1e-6, r.copy.min, r.copy.min / r.t.min);
  return out;
}

json stage_json(const std::vector<StageRow>& rows) {
  json j = json::array();
  for (const auto& r : rows)
    j.push_back({{"stage", r.stage}, {"bytes", r.bytes}, {"voxels", r.voxels}, {"min_s", r.t.min},
                 {"median_s", r.t.median}, {"voxels_per_s", r.voxels / r.t.min}, {"memcpy_min_s", r.copy.min},
                 {"ratio_to_memcpy", r.copy.min / r.t.min}});
  return j;
}

// Phantom cases written as NIfTI files, so the graph reads them from disk as a user's would.
std::vector<c2f::CaseSource> write_cohort(const fs::path& dir, const c2f::Index3& size, int count, std::uint64_t seed) {
  fs::create_directories(dir);
  std::vector<c2f::CaseSource> out;
  c2f::PhantomOptions o;
  o.size = size;
  o.seed = seed;
  for (int i = 0; i < count; ++i) {
    const auto p = c2f::make_phantom(o, i);
    const fs::path image = dir / (p.c.id + ".nii.gz"), label = dir / (p.c.id + "_label.nii.gz");
    c2f::write_nifti(image, *p.c.image);
    c2f::write_nifti(label, *p.c.label);
    out.push_back({p.c.id, image, label});
  }
  return out;
}

struct GraphRun {
  c2f::SegmentationReport report;
  double model_seconds = 0;
  double macs = 0;  // multiply-adds the networks did in this run
  std::vector<c2f::Mask> masks;  // by case index
};

GraphRun run_graph(const std::vector<c2f::CaseSource>& cases, c2f::ViewInference& net, c2f::SegmentationOptions o) {
  GraphRun g;
  g.masks.resize(cases.size());
  const auto macs0 = net.multiply_adds();
  g.report = c2f::segment_cases(
      cases.size(), [&](std::size_t i) { return c2f::load_case(cases[i]); }, net, o,
      [&](c2f::CaseResult&& r) {
        if (!r.error.empty()) throw c2f::InputError(cases[r.index].image.string(), r.error);
        // What c2f-segment writes per case, so the graph's output stage costs what it costs.
        g.masks[r.index] = std::move(r.mask);
      });
  for (const auto& s : g.report.stages)
    if (s.stage == "infer") g.model_seconds = s.busy_seconds;
  g.macs = double(net.multiply_adds() - macs0);
  return g;
}

// The worst case of the cases-in-flight budget: a stand-in network that holds the device until
// `wait_for` cases are loaded, so that that many cases are in memory at once, then answers at
// once (probability 1 where the input is above 0.5). Memory, not accuracy, is measured with it.
class HoldingNetwork : public c2f::ViewInference {
 public:
  explicit HoldingNetwork(std::size_t wait_for) : wait_for_(wait_for) {}
  void loaded() {
    std::lock_guard lock(m_);
    ++loaded_;
    cv_.notify_all();
  }
  void predict(c2f::Scale, const c2f::SliceBatch& b, std::vector<float>& p) override {
    if (!released_) {
      std::unique_lock lock(m_);
      cv_.wait(lock, [&] { return loaded_ >= wait_for_; });
      released_ = true;
    }
    p.resize(b.data.size());
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = b.data[i] > 0.5f ? 1.f : 0.f;
  }
  std::string describe() const override { return "stand-in (holds until the budget is full)"; }

 private:
  std::size_t wait_for_, loaded_ = 0;
  bool released_ = false;  // only the device thread reads and writes it
  std::mutex m_;
  std::condition_variable cv_;
};

// One memory run, in a process of its own so that its peak RSS is its own: `cases` cases of the
// cohort with `in_flight` in flight. Prints {"peak_rss_bytes", "wall_s"} as JSON.
int memory_child(const fs::path& cohort_dir, std::size_t cases, std::size_t in_flight) {
  const auto cohort = c2f::discover_cohort(cohort_dir).cases;
  if (cohort.size() < cases) throw c2f::InputError(cohort_dir.string(), "holds fewer cases than asked for");
  HoldingNetwork net(std::min(cases, in_flight));
  c2f::SegmentationOptions o;
  o.cases_in_flight = in_flight;
  o.convergence.max_iterations = 3;
  const auto t0 = Clock::now();
  c2f::segment_cases(
      cases,
      [&](std::size_t i) {
        auto c = c2f::load_case(cohort[i]);
        net.loaded();
        return c;
      },
      net, o, [&](c2f::CaseResult&& r) {
        if (!r.error.empty()) throw c2f::InputError(cohort[r.index].image.string(), r.error);
      });
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  fmt::print("{}\n", json{{"peak_rss_bytes", double(u.ru_maxrss) * 1024}, {"wall_s", c2f::seconds_since(t0)}}.dump());
  return 0;
}

// A folder under the system's temporary folder, removed with everything in it.
struct ScratchFolder {
  fs::path path;
  explicit ScratchFolder(const std::string& name) : path(fs::temp_directory_path() / fmt::format("{}-{}", name, ::getpid())) {
    fs::create_directories(path);
  }
  ~ScratchFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string default_python() { return fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3"; }

fs::path reference_script() {
  return c2f::shipped_file("bench/c2f_reference.py", fs::path(C2F_SOURCE_DIR) / "bench" / "python" / "c2f_reference.py");
}

c2f::Mask read_reference_mask(const fs::path& file, const std::string& id, const c2f::Geometry& g) {
  H5::H5File f(file.string(), H5F_ACC_RDONLY);
  H5::DataSet ds = f.openDataSet("masks/" + id);
  hsize_t dims[3] = {0, 0, 0};
  if (ds.getSpace().getSimpleExtentNdims() != 3) throw c2f::InputError(file.string(), id + ": mask is not 3-D");
  ds.getSpace().getSimpleExtentDims(dims);
  if (std::int64_t(dims[0]) != g.dims[2] || std::int64_t(dims[1]) != g.dims[1] || std::int64_t(dims[2]) != g.dims[0])
    throw c2f::InputError(file.string(), id + ": mask of another size");
  c2f::Mask m(g);
  ds.read(m.data(), H5::PredType::NATIVE_UINT8);
  return m;
}
}  // namespace

// Peak RSS against the cases-in-flight budget on a cohort of `size` volumes (links to one
// phantom file: the reading and decoding cost is real, the disk space is not spent 50 times).
int memory_bench(const c2f::Index3& size, const std::vector<int>& budgets, int cases, const std::string& out) {
  if (budgets.empty() || *std::min_element(budgets.begin(), budgets.end()) < 1)
    throw c2f::OptionError("--memory-in-flight needs budgets of at least 1");
  const int largest = *std::max_element(budgets.begin(), budgets.end());
  if (cases == 0) cases = largest + 2;
  if (cases < largest) throw c2f::OptionError("--memory-cases must be at least the largest budget");
  const ScratchFolder folder("c2f-bench-memory");
  const fs::path& scratch = folder.path;
  const auto one = write_cohort(scratch / "one", size, 1, 21);
  fs::create_directories(scratch / "cohort");
  for (int i = 0; i < cases; ++i) {
    fs::create_symlink(one[0].image, scratch / "cohort" / fmt::format("case_{:03}.nii.gz", i));
    fs::create_symlink(one[0].label, scratch / "cohort" / fmt::format("case_{:03}_label.nii.gz", i));
  }
  const double case_bytes = 4.0 * double(size[0] * size[1] * size[2]);  // the float image of one case
  fmt::print("peak memory against the cases-in-flight budget, {} volumes (one float image: {:.0f} MiB):\n"
             "{:>10} {:>7} {:>14} {:>10} {:>18}\n",
             fmt::format("{}x{}x{}", size[0], size[1], size[2]), case_bytes / (1 << 20), "in flight", "cases",
             "peak RSS GiB", "wall s", "RSS / float image");
  json rows = json::array();
  for (int k : budgets) {
    const fs::path result = scratch / fmt::format("memory-{}.json", k);
    const std::string cmd = fmt::format("'{}' --memory-child '{}' {} {} > '{}'", fs::canonical("/proc/self/exe").string(),
                                        (scratch / "cohort").string(), cases, k, result.string());
    if (std::system(cmd.c_str()) != 0) throw c2f::Error("the memory run with " + std::to_string(k) + " in flight failed");
    std::ifstream in(result);
    const json r = json::parse(in);
    const double rss = r["peak_rss_bytes"];
    fmt::print("{:>10} {:>7} {:>14.2f} {:>10.1f} {:>18.1f}\n", k, cases, rss / double(1 << 30), r["wall_s"].get<double>(),
               rss / case_bytes);
    rows.push_back({{"in_flight", k}, {"cases", cases}, {"peak_rss_bytes", rss}, {"wall_s", r["wall_s"]}});
  }
  json report{{"memory", {{"size", fmt::format("{}x{}x{}", size[0], size[1], size[2])}, {"runs", rows}}}};
  c2f::write_text_atomically(out, report.dump(2) + "\n");
  fmt::print("report: {}\n", out);
  return 0;
}

// One rank of a data-parallel timing (or the single process, world 1), in its own process:
// prints its DataParallelTiming as JSON.
int allreduce_child(const std::vector<std::string>& a) {
  // MODEL RANK WORLD STORE_FILE IMAGES SIDE STEPS THREADS
  const std::string& model = a[0];
  const int rank = std::stoi(a[1]), world = std::stoi(a[2]), images = std::stoi(a[4]), side = std::stoi(a[5]),
            steps = std::stoi(a[6]);
  c2f::set_intra_op_threads(std::stoi(a[7]));
  std::shared_ptr<c2f::DataParallel> dp;
  if (world > 1) dp = c2f::DataParallel::over_file(rank, world, a[3]);
  const auto t = c2f::time_data_parallel_steps(model, dp.get(), images, side, steps);
  if (rank == 0)
    fmt::print("{}\n", json{{"parameters", t.parameters},
                            {"allreduce_bytes", t.allreduce_bytes},
                            {"allreduce_s", t.allreduce_seconds},
                            {"step_s", t.step_seconds}}
                           .dump());
  return 0;
}

// The data-parallel step against one process with the same batch, and the allreduce's cost, for
// every coarse-to-fine network (DeepOrgan's train in one process): 2 ranks on this machine (each
// with half the cores), one image each, against one process (all cores) training on both images.
int allreduce_bench(int side_light, int side_fcn, int steps, bool quick, const fs::path& out) {
  const ScratchFolder folder("c2f-bench-allreduce");
  const std::string self = fs::canonical("/proc/self/exe").string();
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  const int ranks = 2;
  json rows = json::array();
  fmt::print("data-parallel training step, batch of {} images, {} cores: 1 process against {} ranks of one image each "
             "(Gloo over TCP on this host)\n{:<13} {:>11} {:>6} {:>13} {:>13} {:>12} {:>13} {:>13} {:>10}\n",
             ranks, cores, ranks, "network", "parameters", "side", "1 process s", "2 ranks s", "speed-up",
             "allreduce MB", "allreduce s", "GB/s");
  for (const auto& model : c2f::model_names("coarse-to-fine")) {
    if (quick && model == "fcn8s-vgg16") continue;  // 134 M parameters: minutes on 2 cores
    const int side = model == "fcn8s-vgg16" ? side_fcn : side_light;
    const auto run = [&](int world, int images, int threads) {
      const fs::path store = folder.path / fmt::format("{}-{}.store", model, world);
      std::vector<fs::path> results;
      std::string cmd = "";
      for (int r = 0; r < world; ++r) {
        results.push_back(folder.path / fmt::format("{}-{}-{}.json", model, world, r));
        cmd += fmt::format("'{}' --allreduce-child {} {} {} '{}' {} {} {} {} > '{}' & ", self, model, r, world,
                           store.string(), images, side, steps, threads, results.back().string());
      }
      cmd += "wait";
      // `wait` returns the last child's status only: every rank's result is checked below.
      std::system(cmd.c_str());
      std::ifstream in(results[0]);
      if (!in || in.peek() == std::ifstream::traits_type::eof())
        throw c2f::Error(fmt::format("the {}-rank timing of {} failed", world, model));
      return json::parse(in);
    };
    const json one = run(1, ranks, cores);
    const json two = run(ranks, 1, std::max(1, cores / ranks));
    const double bytes = two["allreduce_bytes"], ar = two["allreduce_s"];
    const double one_s = one["step_s"], two_s = two["step_s"];
    fmt::print("{:<13} {:>11} {:>6} {:>13.3f} {:>13.3f} {:>12.2f} {:>13.1f} {:>13.4f} {:>10.2f}\n", model,
               two["parameters"].get<std::int64_t>(), side, one_s, two_s, one_s / two_s, bytes / 1e6, ar,
               ar > 0 ? bytes / ar / 1e9 : 0.0);
    rows.push_back({{"model", model}, {"parameters", two["parameters"]}, {"side", side}, {"batch", ranks},
                    {"one_process_step_s", one_s}, {"ranks", ranks}, {"data_parallel_step_s", two_s},
                    {"allreduce_bytes", bytes}, {"allreduce_s", ar}});
  }
  fmt::print("(allreduce s: the median time in the gradient allreduce alone, after a barrier, per step; bytes: the "
             "float32 gradients and the loss, summed in place)\n");
  c2f::write_text_atomically(out, json{{"allreduce", {{"cores", cores}, {"steps", steps}, {"runs", rows}}}}.dump(2) + "\n");
  fmt::print("report: {}\n", out.string());
  return 0;
}

// How the network grid's spacing was chosen: for each candidate, how well the grid can hold a real
// pancreas (each label map's pancreas taken to the grid and back: the DSC is the ceiling of any
// network there) against how many voxels the networks see in a NIH-size volume, and what the
// two resampling passes cost there.
int resampling_bench(const std::vector<std::string>& maps, const std::vector<double>& spacings, int repeats,
                     const fs::path& out) {
  std::vector<c2f::Mask> pancreas;
  for (const auto& spec : maps) {  // FILE or FILE:VALUE
    const auto colon = spec.rfind(':');
    const bool valued = colon != std::string::npos && colon + 1 < spec.size() &&
                        spec.find_first_not_of("0123456789", colon + 1) == std::string::npos;
    const std::string file = valued ? spec.substr(0, colon) : spec;
    pancreas.push_back(c2f::read_nifti_mask(file, valued ? std::stoi(spec.substr(colon + 1)) : 0).mask);
    if (c2f::count_foreground(pancreas.back()) == 0) throw c2f::InputError(file, "holds no voxel of that label");
  }
  c2f::Geometry nih;
  nih.dims = {512, 512, 250};
  nih.spacing_mm = {0.82, 0.82, 1.0};
  const c2f::Image volume(nih, 40.f);
  fmt::print("network grid spacing: pancreas kept through the grid and back ({} label maps), and a 512x512x250 "
             "volume at 0.82x0.82x1.0 mm there\n{:>10} {:>12} {:>10} {:>16} {:>12} {:>14}\n",
             pancreas.size(), "spacing mm", "mean DSC", "min DSC", "network voxels", "share", "resample s");
  json rows = json::array();
  for (double s : spacings) {
    const c2f::ResampleOptions o{{s, s, s}};
    double sum = 0, low = 1;
    for (const c2f::Mask& p : pancreas) {
      const c2f::Mask there = c2f::resample_mask(p, c2f::network_grid(p.geometry(), o));
      const double d = c2f::dice(c2f::resample_mask(there, p.geometry()), p);
      sum += d;
      low = std::min(low, d);
    }
    const c2f::Geometry g = c2f::network_grid(nih, o);
    const Timing t = repeat(repeats, [&] {
      const c2f::Image down = c2f::resample(volume, g);
      const c2f::Image up = c2f::resample(down, nih);
      asm volatile("" ::"r"(up.data()) : "memory");
    });
    const double mean = sum / double(pancreas.size()), share = double(g.voxel_count()) / double(nih.voxel_count());
    fmt::print("{:>10.2f} {:>12.4f} {:>10.4f} {:>16} {:>12.3f} {:>14.3f}\n", s, mean, low,
               fmt::format("{}x{}x{}", g.dims[0], g.dims[1], g.dims[2]), share, t.median);
    rows.push_back({{"spacing_mm", s}, {"mean_dsc", mean}, {"min_dsc", low}, {"network_voxels", g.voxel_count()},
                    {"share_of_nih_voxels", share}, {"resample_median_s", t.median}});
  }
  c2f::write_text_atomically(out, json{{"resampling", rows}}.dump(2) + "\n");
  fmt::print("report: {}\n", out.string());
  return 0;
}

int main(int argc, char** argv) {
  CLI::App app{"Benchmarks of c2f: stages vs memcpy, cases in flight, scaling, and the Python/PyTorch peer", "c2f-bench"};
  std::string large = "512x512x250", small = "128x128x64", models, out = "bench.json", python;
  int repeats = 5, cases = 6, in_flight = 3;
  bool do_stages = false, do_graph = false, do_scaling = false, do_peer = false, do_volume = false, quick = false;
  bool do_peak = false;
  int fine_rounds = 3;
  double peak_tflops = 0;
  std::vector<int> slices{32, 64, 128, 256};
  app.add_flag("--peak", do_peak, "this CPU's measured fp32 peak (FMA chains, SGEMM) and each network's share of it");
  app.add_flag("--stages", do_stages, "per-stage throughput beside memcpy");
  app.add_flag("--graph", do_graph, "the graph on a cohort: 1 case in flight vs --in-flight");
  app.add_flag("--scaling", do_scaling, "seconds per case against the number of slices");
  app.add_flag("--peer", do_peer, "the Python/PyTorch reference on the same cases and weights");
  app.add_flag("--volume", do_volume, "one --large volume, NIfTI file to NIfTI mask: seconds, model busy share, FLOP/s");
  app.add_option("--fine-rounds", fine_rounds, "--volume: fine rounds run (the paper averaged about 3); 0: the stop rule")
      ->capture_default_str();
  app.add_option("--peak-tflops", peak_tflops, "--volume: the device's peak (H100 SXM dense bf16: 989) for the fraction");
  app.add_flag("--quick", quick, "small sizes and few repeats (a smoke run)");
  app.add_option("--large", large, "NIH-size volume for the stage bench")->capture_default_str();
  app.add_option("--small", small, "small volume (stages), cohort volume (graph, peer)")->capture_default_str();
  app.add_option("--slices", slices, "slice counts for --scaling (at --small's in-plane size)");
  app.add_option("--repeats", repeats, "repeats per stage (min and median are reported)")->capture_default_str()->check(c2f::cli::at_least(1));
  app.add_option("--cases", cases, "cases for --graph and --peer")->capture_default_str()->check(c2f::cli::at_least(1));
  app.add_option("--in-flight", in_flight, "cases in flight for the overlapped --graph run")->capture_default_str()->check(c2f::cli::at_least(1));
  app.add_option("--models", models, "model folder (default: the shipped phantom weights)");
  c2f::InferenceCli inference;
  inference.add_to(app);
  // The settings of the graph runs (--graph, --scaling, --volume); the peer always runs the
  // paper's, the only ones the Python reference implements.
  c2f::PresetCli preset;
  preset.add_to(app);
  app.add_option("--python", python, "python3 with numpy, h5py and torch (default: /usr/bin/python3)");
  app.add_option("-o,--out", out, "JSON report")->capture_default_str();
  bool do_memory = false;
  std::vector<int> memory_in_flight{1, 10, 50};
  int memory_cases = 0;
  app.add_flag("--memory", do_memory, "peak RSS of a --large cohort for each --memory-in-flight budget (not in the default set)");
  app.add_option("--memory-in-flight", memory_in_flight, "--memory: the cases-in-flight budgets measured")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--memory-cases", memory_cases, "--memory: cases in the cohort of every run (0: the largest budget + 2)")
      ->capture_default_str()
      ->check(c2f::cli::at_least(0));
  std::vector<std::string> resampling_maps;
  std::vector<double> resampling_spacings{1.0, 1.5, 2.0, 2.5, 3.0};
  app.add_option("--resampling", resampling_maps,
                 "label maps (FILE or FILE:PANCREAS_VALUE): pancreas DSC through each network spacing and back, and the "
                 "cost at NIH size (not in the default set)");
  app.add_option("--resampling-spacings", resampling_spacings, "--resampling: the isotropic spacings compared, mm")
      ->delimiter(',')
      ->capture_default_str();
  bool do_allreduce = false;
  int allreduce_steps = 3, allreduce_fcn_side = 48;
  app.add_flag("--allreduce", do_allreduce,
               "data-parallel training: the step of 2 ranks (one image each) against 1 process (a batch of 2), and the "
               "gradient allreduce's time and bytes, for every network (not in the default set)");
  app.add_option("--allreduce-steps", allreduce_steps, "--allreduce: timed steps per run (after one warm-up)")
      ->capture_default_str()
      ->check(c2f::cli::at_least(1));
  app.add_option("--allreduce-fcn-side", allreduce_fcn_side,
                 "--allreduce: image side for fcn8s-vgg16 (it pads by 100 pixels: its cost barely falls below this)")
      ->capture_default_str()
      ->check(c2f::cli::at_least(8));
  std::vector<std::string> allreduce_child_args;
  app.add_option("--allreduce-child", allreduce_child_args)->expected(8)->group("");
  std::vector<std::string> memory_child_args;  // COHORT CASES IN_FLIGHT: one run, in its own process
  app.add_option("--memory-child", memory_child_args)->expected(3)->group("");

  return c2f::run_tool(app, argc, argv, [&] {
    if (!memory_child_args.empty())
      return memory_child(memory_child_args[0], std::stoul(memory_child_args[1]), std::stoul(memory_child_args[2]));
    if (!allreduce_child_args.empty()) return allreduce_child(allreduce_child_args);
    if (do_allreduce) return allreduce_bench(quick ? 64 : 160, allreduce_fcn_side, quick ? 2 : allreduce_steps, quick, out);
    if (do_memory) return memory_bench(c2f::parse_size(large), memory_in_flight, memory_cases, out);
    if (!resampling_maps.empty()) return resampling_bench(resampling_maps, resampling_spacings, repeats, out);
    if (!do_peak && !do_stages && !do_graph && !do_scaling && !do_peer && !do_volume)
      do_peak = do_stages = do_graph = do_scaling = do_peer = do_volume = true;
    if (quick) {
      large = "128x128x64", small = "64x64x32", repeats = std::min(repeats, 2), cases = std::min(cases, 2);
      slices = {8, 16, 24, 32};
    }
    if (repeats < 1 || cases < 1 || in_flight < 1) throw c2f::OptionError("repeats, cases and in-flight must be at least 1");
    if (python.empty()) python = default_python();
    const int used_threads = inference.apply();
    const fs::path model_dir = models.empty() ? fs::path(C2F_SOURCE_DIR) / "weights" / "phantom-light-unet" : fs::path(models);
    const ScratchFolder folder("c2f-bench");
    const fs::path& scratch = folder.path;

    json report{{"device", inference.options.device}, {"threads", used_threads}, {"cores", std::thread::hardware_concurrency()},
                {"preset", preset.preset}};
    // The CPU's peak, measured once: the --peak section and the --volume share use it.
    std::optional<c2f::bench::FmaPeak> cpu_peak;
    const auto measured_peak = [&]() -> const c2f::bench::FmaPeak& {
      if (!cpu_peak) cpu_peak = c2f::bench::measure_fma_peak(used_threads, quick ? 0.2 : 0.5);
      return *cpu_peak;
    };
    if (do_peak) {
      const auto one = c2f::bench::measure_fma_peak(1, quick ? 0.2 : 0.5);
      const auto& all = measured_peak();
      const int n = quick ? 512 : 2048;
      const double sgemm = c2f::sgemm_gflops(n, quick ? 2 : 5);
      const auto rt = c2f::torch_runtime();
      fmt::print("CPU peak, fp32 ({}): 1 thread {:.1f} GFLOP/s, {} threads {:.1f} GFLOP/s\n"
                 "SGEMM {}x{} through LibTorch ({} threads): {:.1f} GFLOP/s, {:.1f} % of the peak\n"
                 "LibTorch {}: oneDNN {}, MKL {}, {} intra-op threads\n",
                 all.fma ? "AVX2 FMA chains" : "scalar chains, no AVX2 FMA: a lower bound", one.gflops, all.threads,
                 all.gflops, n, n, rt.intra_op_threads, sgemm, 100 * sgemm / all.gflops, rt.version,
                 rt.mkldnn ? "yes" : "no", rt.mkl ? "yes" : "no", rt.intra_op_threads);
      json networks = json::array();
      const int side = quick ? 96 : 192, batch = 8;  // about an axial slice of the 2 mm grid
      for (const auto& name : c2f::model_names("coarse-to-fine")) {
        if (name == "fcn8s-vgg16" && quick) continue;  // 134 M parameters: minutes on 2 cores
        const auto speed = c2f::forward_speed(name, batch, side, side, quick ? 1 : 3);
        fmt::print("  {:<14} forward {}x3x{}x{}: {:.3f} s, {:.1f} GFLOP/s, {:.1f} % of the peak\n", name, batch, side,
                   side, speed.seconds, speed.gflops(), 100 * speed.gflops() / all.gflops);
        networks.push_back({{"model", name}, {"batch", batch}, {"side", side}, {"seconds", speed.seconds},
                            {"gflops", speed.gflops()}, {"share_of_peak", speed.gflops() / all.gflops}});
      }
      fmt::print("\n");
      report["peak"] = {{"fma", all.fma},
                        {"gflops_one_thread", one.gflops},
                        {"gflops_all_threads", all.gflops},
                        {"threads", all.threads},
                        {"sgemm", {{"n", n}, {"gflops", sgemm}, {"share_of_peak", sgemm / all.gflops}}},
                        {"libtorch", {{"version", rt.version}, {"onednn", rt.mkldnn}, {"mkl", rt.mkl}}},
                        {"networks", networks}};
    }
    if (do_stages) {
      json stages = json::object();
      for (const std::string& size : {large, small}) {
        c2f::PhantomOptions o;
        o.size = c2f::parse_size(size);
        const auto p = c2f::make_phantom(o, 0);
        const auto rows = bench_stages(p.c, repeats);
        fmt::print("stages on {} ({} repeats; 'vs memcpy' = memcpy time / stage time, 1 = as fast as a copy)\n{}\n", size,
                   repeats, stage_table(rows));
        stages[size] = stage_json(rows);
      }
      report["stages"] = stages;
    }

    std::unique_ptr<c2f::NetworkInference> net;
    if (do_graph || do_scaling || do_peer || do_volume) {
      net = std::make_unique<c2f::NetworkInference>(model_dir, inference.options);
    }
    c2f::SegmentationOptions so = preset.apply({});
    if (net) so.window = net->info().window;
    if (net) c2f::use_network_grid(so, net->info());
    std::vector<c2f::CaseSource> cohort;
    if (do_graph || do_peer) cohort = write_cohort(scratch / "cohort", c2f::parse_size(small), cases, 4242);

    if (do_graph) {
      c2f::SegmentationOptions one = so, many = so;
      one.cases_in_flight = 1;
      many.cases_in_flight = std::size_t(in_flight);
      const GraphRun a = run_graph(cohort, *net, one), b = run_graph(cohort, *net, many);
      fmt::print("graph on {} cases of {} ({}):\n{:<22} {:>9} {:>9} {:>14}\n", cases, small, net->describe(),
                 "cases in flight", "wall s", "model s", "wall / model");
      for (const auto* g : {&a, &b})
        fmt::print("{:<22} {:>9.2f} {:>9.2f} {:>14.3f}\n", g == &a ? 1 : in_flight, g->report.seconds, g->model_seconds,
                   g->report.seconds / g->model_seconds);
      fmt::print("wall time with {} in flight / with 1: {:.3f}; the networks ran at {:.1f} GFLOP/s while busy\n\n",
                 in_flight, b.report.seconds / a.report.seconds, 2 * b.macs / b.model_seconds * 1e-9);
      report["graph"] = {{"cases", cases},
                         {"size", small},
                         {"one_in_flight", {{"wall_s", a.report.seconds}, {"model_s", a.model_seconds}}},
                         {"in_flight", in_flight},
                         {"many_in_flight", {{"wall_s", b.report.seconds}, {"model_s", b.model_seconds}}},
                         {"wall_ratio_many_to_one", b.report.seconds / a.report.seconds},
                         {"wall_to_model_many", b.report.seconds / b.model_seconds}};
    }

    if (do_scaling) {
      const c2f::Index3 plane = c2f::parse_size(small);
      json rows = json::array();
      fmt::print("seconds per case against slices ({}x{} in-plane, 1 case, fixed 3 fine iterations):\n{:>8} {:>10} {:>10}\n",
                 plane[0], plane[1], "slices", "seconds", "s/slice");
      for (int n : slices) {
        const auto one = write_cohort(scratch / fmt::format("scale{}", n), {plane[0], plane[1], n}, 1, 77);
        c2f::SegmentationOptions o = so;
        o.cases_in_flight = 1;
        o.convergence.max_iterations = 3;
        o.convergence.stop_dsc = 1.0;  // the same work at every size: 3 fine rounds
        // On the networks' grid every one of these volumes (one field of view) would have the same
        // slices: the engine's cost per slice is measured on each volume's own grid.
        o.resample.reset();
        const GraphRun g = run_graph(one, *net, o);
        fmt::print("{:>8} {:>10.2f} {:>10.4f}\n", n, g.report.seconds, g.report.seconds / n);
        rows.push_back({{"slices", n}, {"seconds", g.report.seconds}, {"model_s", g.model_seconds}});
      }
      fmt::print("\n");
      report["scaling"] = rows;
    }

    if (do_volume) {
      // What a user's run costs: read a NIfTI file, segment, write the mask file.
      const auto one = write_cohort(scratch / "volume", c2f::parse_size(large), 1, 11);
      c2f::SegmentationOptions o = so;
      o.cases_in_flight = 1;
      if (fine_rounds > 0) {
        o.convergence.max_iterations = fine_rounds;
        o.convergence.stop_dsc = 1.0;  // exactly fine_rounds rounds, whatever the weights
      }
      const auto macs0 = net->multiply_adds();
      const auto t0 = Clock::now();
      c2f::SegmentationReport rep = c2f::segment_cases(
          1, [&](std::size_t) { return c2f::load_case(one[0]); }, *net, o,
          [&](c2f::CaseResult&& r) {
            if (!r.error.empty()) throw c2f::InputError(one[0].image.string(), r.error);
            c2f::write_nifti(scratch / "volume" / "mask.nii.gz", r.mask, r.input.layout);
          });
      const double wall = c2f::seconds_since(t0), macs = double(net->multiply_adds() - macs0);
      double model_s = 0;
      for (const auto& st : rep.stages)
        if (st.stage == "infer") model_s = st.busy_seconds;
      const double tflops = 2 * macs / model_s * 1e-12;
      // On the CPU the peak is this machine's, measured; on a GPU the one given.
      const bool cpu = inference.options.device == "cpu";
      const double peak = cpu ? measured_peak().gflops * 1e-3 : peak_tflops;
      fmt::print("one {} volume, file to mask ({}, {} fine rounds): {:.2f} s; networks busy {:.2f} s ({:.1f} % of the "
                 "wall time), {:.1f} GMAC, {:.3f} TFLOP/s while busy{}\n\n",
                 large, net->describe(), fine_rounds > 0 ? std::to_string(fine_rounds) : std::string("stop-rule"), wall,
                 model_s, 100 * model_s / wall, macs * 1e-9, tflops,
                 peak > 0 ? fmt::format(", {:.1f} % of the {:.3f} TFLOP/s {} peak", 100 * tflops / peak, peak,
                                        cpu ? "measured" : "given")
                          : std::string());
      json stages = json::array();
      for (const auto& st : rep.stages) stages.push_back({{"stage", st.stage}, {"busy_s", st.busy_seconds}, {"calls", st.calls}});
      report["volume"] = {{"size", large},           {"model", net->describe()}, {"fine_rounds", fine_rounds},
                          {"wall_s", wall},          {"model_busy_s", model_s},  {"model_busy_share", model_s / wall},
                          {"multiply_adds", macs},   {"tflops_while_busy", tflops}, {"stages", stages},
                          {"peak_tflops", peak},     {"share_of_peak", peak > 0 ? tflops / peak : 0.0}};
    }

    if (do_peer) {
      // Both read the same HDF5 case store and use the same six checkpoints.
      const fs::path store = scratch / "cases.h5", ref_out = scratch / "reference.h5";
      {
        c2f::CaseStoreWriter w(store, 1);
        for (const auto& c : cohort) w.add(c2f::load_case(c));
        w.commit();
      }
      c2f::SegmentationOptions o = c2f::apply_preset(c2f::SegmentationPreset::Paper, so);
      o.cases_in_flight = std::size_t(in_flight);
      // The reference runs the networks on each case's own grid (it has no resampling): the
      // comparison is of the same arithmetic on the same voxels, so c2f does the same here.
      o.resample.reset();
      const auto t_cpp = Clock::now();
      c2f::CaseStoreReader reader(store);
      const auto ids = reader.case_ids();
      std::vector<c2f::Mask> cpp(ids.size());
      const auto rep = c2f::segment_cases(
          ids.size(), [&](std::size_t i) { return reader.read_case(ids[i]); }, *net, o,
          [&](c2f::CaseResult&& r) { cpp[r.index] = std::move(r.mask); });
      const double cpp_s = c2f::seconds_since(t_cpp);
      const std::string cmd = fmt::format("{} {} {} {} {} --threads {} > {}", python, reference_script().string(),
                                          store.string(), model_dir.string(), ref_out.string(), used_threads,
                                          (scratch / "reference.json").string());
      const auto t_py = Clock::now();
      if (std::system(cmd.c_str()) != 0) throw c2f::Error("the Python reference failed: " + cmd);
      const double py_s = c2f::seconds_since(t_py);
      std::ifstream in(scratch / "reference.json");
      const json py = json::parse(in);
      double worst = 1, sum = 0;
      for (std::size_t i = 0; i < ids.size(); ++i) {
        const double d = c2f::dice(cpp[i], read_reference_mask(ref_out, ids[i], cpp[i].geometry()));
        worst = std::min(worst, d);
        sum += d;
      }
      fmt::print("peer on {} cases of {}: C++ graph {:.2f} s (store to masks), Python/PyTorch {:.2f} s (process; {:.2f} s "
                 "in its loop)\nPython / C++ wall time: {:.2f}x; mask agreement DSC mean {:.4f}, min {:.4f}\n\n",
                 ids.size(), small, cpp_s, py_s, py["seconds"].get<double>(), py_s / cpp_s, sum / double(ids.size()), worst);
      report["peer"] = {{"cases", ids.size()},       {"cpp_s", cpp_s},         {"python_process_s", py_s},
                        {"python_loop_s", py["seconds"]}, {"ratio_python_to_cpp", py_s / cpp_s},
                        {"dsc_mean", sum / double(ids.size())}, {"dsc_min", worst}, {"python", py},
                        {"cpp_model_s", [&] {
                           for (const auto& s : rep.stages)
                             if (s.stage == "infer") return s.busy_seconds;
                           return 0.0;
                         }()}};
    }
    c2f::write_text_atomically(out, report.dump(2) + "\n");
    fmt::print("report: {}\n", out);
    return 0;
  });
}
