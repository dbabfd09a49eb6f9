#include "network_inference.hpp"

#include <array>

#include <fmt/format.h>

#include "checkpoint.hpp"
#include "mac_counting.hpp"
#include "onnx_inference.hpp"
#include "runtime.hpp"
#include "torch_pch.hpp"
#include "autocast.hpp"

#include "../pipeline/errors.hpp"

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
        throw InputError(path.string(), "missing (a model folder holds coarse_* and fine_* for coronal, sagittal "
                                        "and axial, as c2f-train writes them)");
      const CheckpointInfo info = read_checkpoint_info(path);
      if (info.scale != scale_name(scale) || info.view != view_name(view))
        throw InputError(path.string(), fmt::format("holds the {} {} network, not what its name says", info.scale, info.view));
      if (first) {
        set.model = info.model;
        set.window = info.window;
        set.spacing_mm = info.spacing_mm;
        first = false;
      } else if (info.model != set.model) {
        throw InputError(path.string(), fmt::format("is a {} network, the others are {}", info.model, set.model));
      } else if (info.window != set.window) {
        throw InputError(path.string(), fmt::format("was trained on HU window [{}, {}], the others on [{}, {}]",
                                                    info.window.lower_hu, info.window.upper_hu, set.window.lower_hu,
                                                    set.window.upper_hu));
      } else if (info.spacing_mm != set.spacing_mm) {
        const auto text = [](const std::optional<Vec3>& s) {
          return s ? fmt::format("{:g}x{:g}x{:g} mm", (*s)[0], (*s)[1], (*s)[2]) : std::string("no recorded spacing");
        };
        throw InputError(path.string(), fmt::format("was trained at {}, the others at {}: the six networks of a set "
                                                    "must share one grid", text(info.spacing_mm), text(set.spacing_mm)));
      }
    }
  return set;
}

InferenceBackend parse_inference_backend(const std::string& name) {
  if (name == "torch") return InferenceBackend::Torch;
  if (name == "opencv") return InferenceBackend::OpenCV;
  throw OptionError("unknown inference back end '" + name + "' (expected torch or opencv)");
}

const char* inference_backend_name(InferenceBackend backend) {
  return backend == InferenceBackend::OpenCV ? "opencv" : "torch";
}

void InferenceOptions::validate() const {
  if (backend == InferenceBackend::OpenCV) {
#ifndef C2F_HAVE_OPENCV_DNN
    throw OptionError("this build has no OpenCV DNN back end (configure with libopencv-dev's dnn module and libprotobuf-dev)");
#endif
    if (!torch::Device(check_device_name(device)).is_cpu())
      throw OptionError("the OpenCV back end runs on the CPU; use --backend torch for " + device);
    if (precision != "auto" && precision != "fp32") throw OptionError("the OpenCV back end runs fp32, not " + precision);
    if (channels_last) throw OptionError("--channels-last is for the torch back end");
  }
  resolve_precision(device, precision);
}

std::string InferenceOptions::resolved_precision() const { return resolve_precision(device, precision); }

struct NetworkInference::Impl {
  NetworkSetInfo info;
  torch::Device device{torch::kCPU};
  c10::ScalarType autocast_type = torch::kFloat32;  // kFloat32: no autocast
  bool channels_last = false;
  torch::Tensor staging;                            // pinned host memory (CUDA)
  std::int64_t macs = 0;
  std::array<SegmentationModel, 6> networks;  // [scale * 3 + view]
  std::unique_ptr<ViewInference> onnx;        // the OpenCV back end, when chosen
  SegmentationModel& network(Scale scale, View view) { return networks[std::size_t(scale) * 3 + std::size_t(view)]; }
};

NetworkInference::NetworkInference(const fs::path& folder, const InferenceOptions& options)
    : impl_(std::make_unique<Impl>()) {
  options.validate();
  impl_->info = read_network_set(folder);
  impl_->info.device = check_device_name(options.device);
  impl_->info.precision = options.resolved_precision();
  impl_->device = torch::Device(impl_->info.device);
  impl_->autocast_type = impl_->info.precision == "bf16"   ? torch::kBFloat16
                         : impl_->info.precision == "fp16" ? torch::kFloat16
                                                           : torch::kFloat32;
  impl_->channels_last = options.channels_last || impl_->device.is_cuda();
  if (options.backend == InferenceBackend::OpenCV) {
#ifdef C2F_HAVE_OPENCV_DNN
    // The checkpoints still name the set (window, grid); the graphs must be exported from them.
    std::array<nlohmann::json, 6> records;
    for (Scale scale : kScales)
      for (View view : kViews)
        records[std::size_t(scale) * 3 + std::size_t(view)] = read_checkpoint_record(checkpoint_path(folder, scale, view));
    impl_->onnx = std::make_unique<OnnxInference>(options.onnx_folder.empty() ? folder : options.onnx_folder, records,
                                                  torch::get_num_threads());
#endif
    return;
  }
  if (impl_->device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);  // slice sizes repeat
  for (Scale scale : kScales)
    for (View view : kViews) {
      LoadedCheckpoint loaded =
          load_checkpoint(checkpoint_path(folder, scale, view), {impl_->info.model, view_name(view), scale_name(scale)});
      loaded.model->eval();
      loaded.model->to(impl_->device);
      if (impl_->channels_last)
        for (auto& p : loaded.model->parameters())
          if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
      impl_->network(scale, view) = std::move(loaded.model);
    }
}

NetworkInference::~NetworkInference() = default;

void NetworkInference::predict(Scale scale, const SliceBatch& batch, std::vector<float>& probabilities) {
  if (impl_->onnx) return impl_->onnx->predict(scale, batch, probabilities);
  const std::int64_t n = batch.range.count(), h = batch.height(), w = batch.width();
  if (std::int64_t(batch.data.size()) != n * 3 * h * w) throw std::invalid_argument("NetworkInference: batch size mismatch");
  torch::InferenceMode inference;
  Impl& m = *impl_;
  // from_blob does not copy; the batch outlives the call.
  torch::Tensor x = torch::from_blob(const_cast<float*>(batch.data.data()), {n, 3, h, w}, torch::kFloat32);
  if (m.device.is_cuda()) {
    // Stage in pinned memory so the copy to the device is asynchronous on the current stream.
    if (!m.staging.defined() || m.staging.numel() < x.numel())
      m.staging = torch::empty({x.numel()}, torch::TensorOptions().dtype(torch::kFloat32).pinned_memory(true));
    torch::Tensor pinned = m.staging.narrow(0, 0, x.numel()).view({n, 3, h, w});
    pinned.copy_(x);
    x = pinned.to(m.device, /*non_blocking=*/true);
  }
  if (m.channels_last) x = x.contiguous(at::MemoryFormat::ChannelsLast);
  torch::Tensor logits;
  if (m.autocast_type != torch::kFloat32) {
    // Autocast as torch.autocast does: matrix products in the low precision, the rest in fp32.
    const AutocastScope autocast(m.device.is_cuda(), m.autocast_type);
    logits = m.network(scale, batch.view)->forward(x);
  } else {
    logits = m.network(scale, batch.view)->forward(x);
  }
  m.macs += last_forward_macs(*m.network(scale, batch.view));
  // One device-to-host copy per batch, in fp32 and the plain layout the accumulator reads.
  torch::Tensor p = torch::sigmoid(logits.to(torch::kFloat32)).to(torch::kCPU).contiguous();
  if (p.sizes() != torch::IntArrayRef{n, 3, h, w})
    throw std::logic_error(fmt::format("NetworkInference: {} returned a map of another size", m.info.model));
  probabilities.resize(std::size_t(n * 3 * h * w));
  std::memcpy(probabilities.data(), p.data_ptr<float>(), probabilities.size() * sizeof(float));
}

std::string NetworkInference::describe() const {
  if (impl_->onnx) return impl_->onnx->describe();
  return fmt::format("{} on {} ({})", impl_->info.model, impl_->info.device, impl_->info.precision);
}

std::int64_t NetworkInference::multiply_adds() const {
  return impl_->onnx ? impl_->onnx->multiply_adds() : impl_->macs;
}

const NetworkSetInfo& NetworkInference::info() const { return impl_->info; }

}  // namespace c2f
