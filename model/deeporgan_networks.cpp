#include "deeporgan_networks.hpp"

#include <fmt/format.h>

#include "checkpoint.hpp"
#include "deeporgan_convnet.hpp"
#include "../pipeline/errors.hpp"

namespace c2f {
namespace fs = std::filesystem;

fs::path deeporgan_checkpoint_path(const fs::path& folder, DeepOrganNet net) {
  return folder / (std::string(deeporgan_model_name(net)) + ".pt");
}

namespace {
CheckpointExpectation expectation(DeepOrganNet net) {
  return {.model = deeporgan_model_name(net), .method = "deeporgan", .role = deeporgan_role(net)};
}

void check_info(const fs::path& path, const CheckpointInfo& info, DeepOrganNet net) {
  if (info.method != "deeporgan")
    throw InputError(path.string(), fmt::format("holds a {} network, expected a deeporgan one", info.method));
  if (info.role != deeporgan_role(net) || info.model != deeporgan_model_name(net))
    throw InputError(path.string(), fmt::format("holds {} ({}), expected {}", info.role, info.model, deeporgan_role(net)));
}
}  // namespace

DeepOrganSetInfo read_deeporgan_set(const fs::path& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) throw InputError(folder.string(), "no such DeepOrgan model folder");
  if (!fs::exists(deeporgan_checkpoint_path(folder, DeepOrganNet::P), ec) && fs::exists(folder / "coarse_axial.pt", ec))
    throw InputError(folder.string(), "holds coarse-to-fine checkpoints, not a DeepOrgan set (no p-convnet.pt)");
  DeepOrganSetInfo set;
  set.folder = folder;
  for (DeepOrganNet net : {DeepOrganNet::P, DeepOrganNet::R2, DeepOrganNet::R1}) {
    const fs::path path = deeporgan_checkpoint_path(folder, net);
    if (net == DeepOrganNet::R1 && !fs::exists(path, ec)) continue;
    const CheckpointInfo info = read_checkpoint_info(path);
    check_info(path, info, net);
    if (net == DeepOrganNet::P) {
      set.window = info.window;
      set.spacing_mm = info.spacing_mm;
      set.settings = info.hyper;
    } else if (info.window != set.window || info.spacing_mm != set.spacing_mm) {
      throw InputError(path.string(), "was trained with another window or grid than p-convnet.pt");
    }
    if (net == DeepOrganNet::R1) set.has_r1 = true;
  }
  if (!fs::exists(folder / kCandidateCascadeFile, ec))
    throw InputError((folder / kCandidateCascadeFile).string(), "no such file (the set's candidate cascade)");
  return set;
}

struct DeepOrganNetworks::Impl {
  std::array<SegmentationModel, 3> networks;  // DeepOrganNet order; R1 may be null
};

DeepOrganNetworks::DeepOrganNetworks(const fs::path& folder) : impl_(std::make_unique<Impl>()), info_(read_deeporgan_set(folder)) {
  for (DeepOrganNet net : {DeepOrganNet::P, DeepOrganNet::R1, DeepOrganNet::R2}) {
    if (net == DeepOrganNet::R1 && !info_.has_r1) continue;
    LoadedCheckpoint c = load_checkpoint(deeporgan_checkpoint_path(folder, net), expectation(net));
    c.model->eval();
    impl_->networks[std::size_t(net)] = std::move(c.model);
  }
}

DeepOrganNetworks::~DeepOrganNetworks() = default;

bool DeepOrganNetworks::has(DeepOrganNet net) const { return impl_->networks[std::size_t(net)] != nullptr; }

void DeepOrganNetworks::classify(DeepOrganNet net, const float* images, std::int64_t n, std::int64_t channels,
                                 std::int64_t side, float* out) {
  auto& m = impl_->networks[std::size_t(net)];
  if (!m) throw std::invalid_argument(fmt::format("the DeepOrgan set has no {}", deeporgan_role(net)));
  if (n == 0) return;
  classifier_probabilities(*m, {images, nullptr, n, channels, side, side}, out);
}

}  // namespace c2f
