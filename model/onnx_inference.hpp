#pragma once
// OnnxInference: the six networks of a model set as ONNX graphs (c2f-models --export-onnx), run
// by OpenCV's DNN module on the CPU, the second back end beside LibTorch (--backend opencv).
// Free of torch headers.
//
// OpenCV 4.6 folds every shape when it imports a graph (a Shape node on a free axis is refused),
// so each network is imported once per input shape [n, 3, h, w], with the graph's free axes set
// to those numbers, and kept for the next batch of that shape. The graphs themselves keep free
// axes, so any ONNX runtime runs the same files.
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../stages/view_inference.hpp"

namespace c2f {

// <folder>/<scale>_<view>.onnx, beside <scale>_<view>.pt.
inline std::filesystem::path onnx_network_path(const std::filesystem::path& folder, Scale scale, View view) {
  return folder / (std::string(scale_name(scale)) + "_" + view_name(view) + ".onnx");
}

// The metadata_props of an ONNX model (serialised ModelProto). Throws InputError naming `source`
// if the bytes are not an ONNX model.
std::map<std::string, std::string> onnx_metadata(const std::string& model, const std::string& source);

// The model with its first graph input's dimensions set to `shape` (free axes made fixed).
// Throws InputError naming `source` if the model has no such input or its rank differs.
std::string onnx_with_input_shape(const std::string& model, const std::vector<std::int64_t>& shape,
                                  const std::string& source);

// One network's graph (<scale>_<view>.onnx), imported once per input shape.
class OnnxNetwork {
 public:
  // Reads the graph; its c2f_info metadata must equal `checkpoint_record` (read_checkpoint_record
  // of the checkpoint it is to stand for: same network, scale, view, window, iteration and
  // weights CRC). Throws InputError naming the file.
  OnnxNetwork(std::filesystem::path path, const nlohmann::json& checkpoint_record);
  OnnxNetwork(OnnxNetwork&&) noexcept;
  ~OnnxNetwork();
  // Sigmoid probabilities [n][3][h][w] of `slices` [n][3][h][w].
  void predict(std::int64_t n, std::int64_t h, std::int64_t w, const float* slices, std::vector<float>& probabilities);
  const std::string& model() const;     // "light-unet", "fcn8s-vgg16"
  std::int64_t multiply_adds() const;   // of the batches run so far
  std::size_t imported_shapes() const;  // imports so far

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class OnnxInference final : public ViewInference {
 public:
  // Reads the six graphs from `folder`. `checkpoint_info[scale * 3 + view]` is the c2f_info of
  // the checkpoint each must have been exported from (the graph's c2f_info metadata must equal
  // it: same network, scale, view, window, iteration and weights CRC). `threads` <= 0: OpenCV's
  // default. Throws InputError naming the file.
  OnnxInference(const std::filesystem::path& folder, const std::array<nlohmann::json, 6>& checkpoint_info, int threads);
  ~OnnxInference() override;

  void predict(Scale scale, const SliceBatch& batch, std::vector<float>& probabilities) override;
  std::string describe() const override;
  // Counted by OpenCV per imported shape (Net::getFLOPS, 2 FLOP per multiply-add): convolutions
  // and the small element-wise layers beside them.
  std::int64_t multiply_adds() const override;

 private:
  std::vector<OnnxNetwork> networks_;  // [scale * 3 + view]
};

}  // namespace c2f
