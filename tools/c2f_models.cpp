// c2f-models: the registered networks with their parameter counts and cost per slice; and
// stripping a training checkpoint down to the weights and their info, for shipping.
#include "c2f/model/checkpoint.hpp"
#include "c2f/model/segmentation_model.hpp"
#include "tool_main.hpp"

int main(int argc, char** argv) {
  CLI::App app{"List c2f's segmentation networks with parameters and multiply-adds per slice", "c2f-models"};
  std::string size = "512x512";
  std::vector<std::string> strip;
  app.add_option("--slice", size, "slice size HxW the cost is measured at")->capture_default_str();
  app.add_option("--strip", strip, "IN OUT: copy checkpoint IN to OUT without its optimiser state")->expected(2);
  return c2f::run_tool(app, argc, argv, [&] {
    if (!strip.empty()) {
      const auto c = c2f::load_checkpoint(strip[0]);
      c2f::save_checkpoint(strip[1], *c.model, c.info);
      fmt::print("{} -> {} ({} {} {}, iteration {})\n", strip[0], strip[1], c.info.model, c.info.scale, c.info.view,
                 c.info.iteration);
      return 0;
    }
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
