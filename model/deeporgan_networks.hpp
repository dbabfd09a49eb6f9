#pragma once
// A trained DeepOrgan set in one folder, and running it:
//   candidates.yml.gz   the random-forest cascade (stages/candidate_regions.hpp)
//   p-convnet.pt        P-ConvNet; its checkpoint's "hyper" holds the method's settings (the
//                       superpixels, n, patch size, scales, thresholds) that training used
//   r2-convnet.pt       R2-ConvNet (the paper's final map G(P2))
//   r1-convnet.pt       R1-ConvNet, optional
// Each checkpoint must say method "deeporgan" and its role: a coarse-to-fine folder or file is
// refused in one line naming it.
#include <array>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "../pipeline/geometry.hpp"
#include "../stages/deeporgan_inference.hpp"
#include "../stages/window.hpp"

namespace c2f {

inline constexpr const char* kCandidateCascadeFile = "candidates.yml.gz";

// The checkpoint file of a network in a set folder: <folder>/<model name>.pt.
std::filesystem::path deeporgan_checkpoint_path(const std::filesystem::path& folder, DeepOrganNet net);

struct DeepOrganSetInfo {
  std::filesystem::path folder;
  WindowOptions window;             // the training window (P-ConvNet's, checked the same in all)
  std::optional<Vec3> spacing_mm;   // the grid the set was trained at
  nlohmann::json settings = nlohmann::json::object();  // P-ConvNet's "hyper": the method's settings
  bool has_r1 = false;
};

// Reads the set's checkpoints' info without weights. Throws InputError naming the folder or file.
DeepOrganSetInfo read_deeporgan_set(const std::filesystem::path& folder);

class DeepOrganNetworks : public DeepOrganInference {
 public:
  explicit DeepOrganNetworks(const std::filesystem::path& folder);  // CPU; throws InputError
  ~DeepOrganNetworks() override;
  bool has(DeepOrganNet net) const override;
  void classify(DeepOrganNet net, const float* images, std::int64_t n, std::int64_t channels, std::int64_t side,
                float* out) override;
  const DeepOrganSetInfo& info() const { return info_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  DeepOrganSetInfo info_;
};

}  // namespace c2f
