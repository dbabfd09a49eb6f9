#pragma once
// The registered network names, without LibTorch: for command lines and option checks in
// translation units that do not build networks.
#include <string>
#include <vector>

namespace c2f {

// "fcn8s-vgg16" (the paper's network, for GPUs) and "light-unet" (for CPUs).
std::vector<std::string> model_names();
// The check make_model does, without building a network: throws OptionError for unknown names.
void check_model_name(const std::string& name);

}  // namespace c2f
