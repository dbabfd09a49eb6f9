#pragma once
// How DeepOrgan's graph sees its three ConvNets (Roth et al. 2015): batches of images in, the
// probability of pancreas of each out. model/deeporgan_networks.hpp runs the trained networks
// with LibTorch; tests plug in fixed functions. No torch here, so the graph builds without it.
#include <cstdint>

namespace c2f {

enum class DeepOrganNet { P, R1, R2 };
// The paper's names: "P-ConvNet", "R1-ConvNet", "R2-ConvNet".
const char* deeporgan_role(DeepOrganNet net);
// The registry's names: "p-convnet", "r1-convnet", "r2-convnet".
const char* deeporgan_model_name(DeepOrganNet net);

class DeepOrganInference {
 public:
  virtual ~DeepOrganInference() = default;
  // Whether the set holds that network (R1-ConvNet is optional: the method's result is G(P2)).
  virtual bool has(DeepOrganNet net) const = 0;
  // images: [n][channels][side][side] in [0, 1]; writes n probabilities of pancreas to out.
  // Called from one thread at a time (the graph's model node is serial).
  virtual void classify(DeepOrganNet net, const float* images, std::int64_t n, std::int64_t channels, std::int64_t side,
                        float* out) = 0;
};

inline const char* deeporgan_role(DeepOrganNet net) {
  return net == DeepOrganNet::P ? "P-ConvNet" : net == DeepOrganNet::R1 ? "R1-ConvNet" : "R2-ConvNet";
}
inline const char* deeporgan_model_name(DeepOrganNet net) {
  return net == DeepOrganNet::P ? "p-convnet" : net == DeepOrganNet::R1 ? "r1-convnet" : "r2-convnet";
}

}  // namespace c2f
