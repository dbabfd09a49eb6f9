#pragma once
// What c2f-train and c2f-segment do with --method deeporgan (Roth et al. 2015): the options of
// DeepOrgan's graphs from the command line and the trained set, kept here so that the two tools
// only branch on the method.
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "../graphs/deeporgan_graph.hpp"
#include "../model/deeporgan_networks.hpp"
#include "../pipeline/errors.hpp"

namespace c2f {

// --method: which wiring of the engine runs.
inline void add_method_option(CLI::App& app, std::string& method) {
  app.add_option("--method", method,
                 "coarse-to-fine (Zhou et al. 2016) or deeporgan (Roth et al. 2015: superpixel candidates, P-, R1- and "
                 "R2-ConvNet, Gaussian smoothing)")
      ->capture_default_str()
      ->check(CLI::IsMember({"coarse-to-fine", "deeporgan"}));
}

// A trained DeepOrgan set opened for segmentation: its networks, its cascade, and the graph's
// options as training stored them (the command line's output map and thresholds over them).
struct DeepOrganRun {
  std::unique_ptr<DeepOrganNetworks> networks;
  CandidateCascade cascade;
  DeepOrganOptions options;
  std::string describe() const {
    return fmt::format("DeepOrgan set (P-ConvNet, R2-ConvNet{}, random-forest candidates) on cpu",
                       networks->has(DeepOrganNet::R1) ? ", R1-ConvNet" : "");
  }
};

inline DeepOrganRun open_deeporgan(const std::filesystem::path& folder) {
  DeepOrganRun run;
  run.networks = std::make_unique<DeepOrganNetworks>(folder);
  run.cascade = CandidateCascade::load(folder / kCandidateCascadeFile);
  const DeepOrganSetInfo& set = run.networks->info();
  run.options.window = set.window;
  if (set.spacing_mm) run.options.resample = ResampleOptions{*set.spacing_mm};
  try {
    run.options.read_settings(set.settings);
  } catch (const std::exception& e) {
    throw InputError(deeporgan_checkpoint_path(folder, DeepOrganNet::P).string(), std::string("bad DeepOrgan settings: ") + e.what());
  }
  return run;
}

}  // namespace c2f
