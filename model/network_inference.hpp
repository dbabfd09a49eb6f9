#pragma once
// NetworkInference: the six networks of a trained c2f model set (coarse and fine, one per view),
// run on batches of 3-slice images on a device. Free of torch headers: graphs and tools include it.
//
// A model folder holds <scale>_<view>.pt for scale coarse/fine and view coronal/sagittal/axial,
// as c2f-train writes them. All six must name the same network and the same HU window; each must
// be what its file name says (checkpoint.hpp checks). All six must have been trained at the same
// voxel spacing, which is the grid inputs are resampled to.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "../stages/view_inference.hpp"
#include "../stages/window.hpp"

namespace c2f {

struct NetworkSetInfo {
  std::filesystem::path folder;
  std::string model;  // "light-unet", "fcn8s-vgg16"
  WindowOptions window;  // the HU window the six were trained with (all the same)
  std::optional<Vec3> spacing_mm;  // the grid the six were trained at (all the same), if recorded
  std::string device;     // "cpu", "cuda:0"
  std::string precision;  // "fp32", "bf16", "fp16"
};

// Reads the six checkpoints' info without loading weights. Throws InputError naming the folder
// or file: a missing checkpoint, a mismatched one, networks or windows that differ.
NetworkSetInfo read_network_set(const std::filesystem::path& folder);

// Who runs the networks: LibTorch (the checkpoints themselves), or OpenCV's DNN module (their
// ONNX exports, CPU only: onnx_inference.hpp).
enum class InferenceBackend { Torch, OpenCV };
InferenceBackend parse_inference_backend(const std::string& name);  // "torch", "opencv"; throws OptionError
const char* inference_backend_name(InferenceBackend backend);

// How the networks run. On a GPU: "bf16" autocast (the default there), channels-last memory,
// cuDNN autotuning, inputs staged in pinned host memory and copied without blocking; a batch's
// result is fetched once, when the batch is done (no host sync inside the network).
struct InferenceOptions {
  std::string device = "cpu";     // "cpu", "cuda", "cuda:N"
  std::string precision = "auto"; // "fp32", "bf16", "fp16" (bf16, fp16: CUDA only); "auto": bf16 on CUDA, fp32 on CPU
  bool channels_last = false;     // also the default on CUDA (set there whatever this says)
  InferenceBackend backend = InferenceBackend::Torch;
  std::filesystem::path onnx_folder;  // OpenCV: <scale>_<view>.onnx (default: the model folder)
  void validate() const;          // throws OptionError
  std::string resolved_precision() const;
};

class NetworkInference final : public ViewInference {
 public:
  // Loads the six networks onto the device (checked).
  NetworkInference(const std::filesystem::path& folder, const InferenceOptions& options = {});
  NetworkInference(const std::filesystem::path& folder, const std::string& device)
      : NetworkInference(folder, options_on(device)) {}
  ~NetworkInference() override;

  void predict(Scale scale, const SliceBatch& batch, std::vector<float>& probabilities) override;
  std::string describe() const override;
  std::int64_t multiply_adds() const override;  // counted by the convolutions themselves, exact
  const NetworkSetInfo& info() const;

 private:
  static InferenceOptions options_on(const std::string& device) {
    InferenceOptions o;
    o.device = device;
    return o;
  }
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace c2f
