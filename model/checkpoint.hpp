#pragma once
// Checkpoints: a network's weights with what they are for, and the training state to resume.
//
// A checkpoint names its model (registry name), view, scale (coarse/fine), the HU window its
// inputs were normalised with, its hyper-parameters and iteration; loading checks these against
// what the caller expects, so fine axial weights never silently run as coarse coronal ones, nor
// light-unet weights as fcn8s-vgg16. Files are LibTorch archives, written atomically.
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "segmentation_model.hpp"
#include "../pipeline/geometry.hpp"
#include "../stages/window.hpp"

namespace c2f {

struct CheckpointInfo {
  // The method whose wiring the network belongs to: "coarse-to-fine", or "deeporgan" (then the
  // network's role is "P-ConvNet", "R1-ConvNet" or "R2-ConvNet", and view and scale are empty).
  // Files from before the field existed are coarse-to-fine.
  std::string method = "coarse-to-fine";
  std::string role;              // DeepOrgan's name of the network; empty for coarse-to-fine
  std::string model;             // "light-unet", "fcn8s-vgg16", "p-convnet", ...
  std::string view;              // "coronal", "sagittal", "axial"
  std::string scale;             // "coarse" or "fine"
  WindowOptions window;          // the HU window of the training inputs (file: "window_hu": [lower, upper])
  // The voxel spacing of the grid the training cases were resampled to; absent in checkpoints
  // from before resampling existed (their inputs are then used on their own grid).
  std::optional<Vec3> spacing_mm;
  std::int64_t iteration = 0;
  nlohmann::json hyper = nlohmann::json::object();  // learning rate, optimiser, seed, ...

  nlohmann::json to_json() const;
  static CheckpointInfo from_json(const nlohmann::json& j);
};

// What a caller requires of a checkpoint; empty fields are not checked, except that a caller
// asking for a view or a scale asks for a coarse-to-fine network. The method is checked first, so
// a checkpoint of the other method gets one clear line ("holds a deeporgan network (P-ConvNet),
// expected a coarse-to-fine one").
struct CheckpointExpectation {
  std::string model, view, scale;
  std::string method, role;
};

// Writes model weights with their info, atomically. With an optimiser (a training checkpoint),
// its state and the CPU random generator's state (dropout) are stored too, so a resumed run
// continues exactly where this one stopped.
void save_checkpoint(const std::filesystem::path& path, SegmentationModelImpl& model, const CheckpointInfo& info,
                     torch::optim::Optimizer* optimizer = nullptr);

// Reads only the info. Throws InputError naming the file if it is not a c2f checkpoint.
CheckpointInfo read_checkpoint_info(const std::filesystem::path& path);
// The info record as stored, with the weights' CRC-32 ("weights_crc32"): what an exported copy
// of the network (ONNX metadata c2f_info) carries to name its checkpoint.
nlohmann::json read_checkpoint_record(const std::filesystem::path& path);

// Builds the model the checkpoint names and loads its weights (and the optimiser's state into
// `optimizer`, if given and stored). Throws InputError naming the file and the mismatch.
struct LoadedCheckpoint {
  SegmentationModel model;
  CheckpointInfo info;
  nlohmann::json record;  // the info as stored (read_checkpoint_record)
};
LoadedCheckpoint load_checkpoint(const std::filesystem::path& path, const CheckpointExpectation& expect = {});
// Restores the optimiser's state and the CPU random generator's from a training checkpoint.
void load_optimizer_state(const std::filesystem::path& path, torch::optim::Optimizer& optimizer);

}  // namespace c2f
