// c2f-models: the registered networks with their parameter counts and cost per slice.
#include "c2f/model/segmentation_model.hpp"
#include "tool_main.hpp"

int main(int argc, char** argv) {
  CLI::App app{"List c2f's segmentation networks with parameters and multiply-adds per slice", "c2f-models"};
  std::string size = "512x512";
  app.add_option("--slice", size, "slice size HxW the cost is measured at")->capture_default_str();
  return c2f::run_tool(app, argc, argv, [&] {
    const auto s = c2f::parse_size(size + "x1");
    fmt::print("{:<14} {:>14} {:>16} {:>10}\n", "model", "parameters", fmt::format("GMAC @{}", size), "GFLOP");
    for (const auto& name : c2f::model_names()) {
      auto m = c2f::make_model(name);
      const double gmac = double(c2f::forward_macs(*m, s[0], s[1])) / 1e9;
      fmt::print("{:<14} {:>14} {:>16.2f} {:>10.2f}\n", name, c2f::parameter_count(*m), gmac, 2 * gmac);
    }
    return 0;
  });
}
