#include "c2f/model/network_inference.hpp"

#include <array>

#include <fmt/format.h>

#include "c2f/model/checkpoint.hpp"
#include "c2f/model/runtime.hpp"
#include "c2f/model/torch_pch.hpp"
#include "c2f/pipeline/errors.hpp"

namespace fs = std::filesystem;

namespace c2f {

namespace {
fs::path checkpoint_path(const fs::path& folder, Scale scale, View view) {
  return folder / fmt::format("{}_{}.pt", scale_name(scale), view_name(view));
}

constexpr std::array<Scale, 2> kScales{Scale::Coarse, Scale::Fine};
}  // namespace

NetworkSetInfo read_network_set(const fs::path& folder) {
  if (!fs::is_directory(folder)) throw InputError(folder.string(), "is not a folder of model checkpoints");
  NetworkSetInfo set;
  set.folder = folder;
  bool first = true;
  for (Scale scale : kScales)
    for (View view : kViews) {
      const fs::path path = checkpoint_path(folder, scale, view);
      if (!fs::exists(path))
        throw InputError(folder.string(), fmt::format("has no {} (a model folder holds coarse_* and fine_* for "
                                                      "coronal, sagittal and axial, as c2f-train writes them)",
                                                      path.filename().string()));
      const CheckpointInfo info = read_checkpoint_info(path);
      if (info.scale != scale_name(scale) || info.view != view_name(view))
        throw InputError(path.string(), fmt::format("holds the {} {} network, not what its name says", info.scale, info.view));
      if (first) {
        set.model = info.model;
        set.window_lower_hu = info.window_lower_hu;
        set.window_upper_hu = info.window_upper_hu;
        first = false;
      } else if (info.model != set.model) {
        throw InputError(path.string(), fmt::format("is a {} network, the others are {}", info.model, set.model));
      } else if (info.window_lower_hu != set.window_lower_hu || info.window_upper_hu != set.window_upper_hu) {
        throw InputError(path.string(), fmt::format("was trained on HU window [{}, {}], the others on [{}, {}]",
                                                    info.window_lower_hu, info.window_upper_hu, set.window_lower_hu,
                                                    set.window_upper_hu));
      }
    }
  return set;
}

struct NetworkInference::Impl {
  NetworkSetInfo info;
  torch::Device device{torch::kCPU};
  std::array<SegmentationModel, 6> networks;  // [scale * 3 + view]
  SegmentationModel& network(Scale scale, View view) { return networks[std::size_t(scale) * 3 + std::size_t(view)]; }
};

NetworkInference::NetworkInference(const fs::path& folder, const std::string& device) : impl_(std::make_unique<Impl>()) {
  impl_->info = read_network_set(folder);
  impl_->info.device = check_device_name(device);
  impl_->device = torch::Device(impl_->info.device);
  for (Scale scale : kScales)
    for (View view : kViews) {
      LoadedCheckpoint loaded =
          load_checkpoint(checkpoint_path(folder, scale, view), {impl_->info.model, view_name(view), scale_name(scale)});
      loaded.model->eval();
      loaded.model->to(impl_->device);
      impl_->network(scale, view) = std::move(loaded.model);
    }
}

NetworkInference::~NetworkInference() = default;

void NetworkInference::predict(Scale scale, const SliceBatch& batch, std::vector<float>& probabilities) {
  const std::int64_t n = batch.range.count(), h = batch.height(), w = batch.width();
  if (std::int64_t(batch.data.size()) != n * 3 * h * w) throw std::invalid_argument("NetworkInference: batch size mismatch");
  torch::InferenceMode inference;
  // from_blob does not copy; the batch outlives the call.
  torch::Tensor x = torch::from_blob(const_cast<float*>(batch.data.data()), {n, 3, h, w}, torch::kFloat32);
  if (!impl_->device.is_cpu()) x = x.to(impl_->device, /*non_blocking=*/false);
  torch::Tensor p = torch::sigmoid(impl_->network(scale, batch.view)->forward(x));
  if (!impl_->device.is_cpu()) p = p.to(torch::kCPU);
  p = p.contiguous();
  if (p.sizes() != torch::IntArrayRef{n, 3, h, w})
    throw std::logic_error(fmt::format("NetworkInference: {} returned a map of another size", impl_->info.model));
  probabilities.resize(std::size_t(n * 3 * h * w));
  std::memcpy(probabilities.data(), p.data_ptr<float>(), probabilities.size() * sizeof(float));
}

std::string NetworkInference::describe() const { return fmt::format("{} on {}", impl_->info.model, impl_->info.device); }

const NetworkSetInfo& NetworkInference::info() const { return impl_->info; }

}  // namespace c2f
