#include <doctest/doctest.h>

#include "../../model/dsc_loss.hpp"

using namespace c2f;

TEST_CASE("the DSC loss matches a hand computation, and an empty pair counts as perfect") {
  // Image 1: sum(p y) = 0.5 + 1 = 1.5, sum p = 1.75, sum y = 2 -> DSC = 3 / 3.75 = 0.8, loss 0.2.
  // Image 2: all zeros -> loss 0. Batch loss = mean = 0.1.
  auto p = torch::tensor({0.5, 1.0, 0.0, 0.25, 0.0, 0.0, 0.0, 0.0}, torch::kDouble).view({2, 1, 2, 2}).requires_grad_();
  const auto y = torch::tensor({1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0}, torch::kDouble).view({2, 1, 2, 2});
  const auto loss = dsc_loss(p, y);
  CHECK(loss.item<double>() == doctest::Approx(0.1));
  loss.backward();
  // dL/dp_i = -(2 y_i S - 2 I) / S^2 with S = 3.75, I = 1.5, halved by the batch mean. Image 2 has
  // no truth: its loss sum(p) / (1 + sum(p)) has gradient 1 / (1 + 0)^2 = 1, halved: any
  // probability there is pushed down.
  const auto g = p.grad().flatten();
  CHECK(g[0].item<double>() == doctest::Approx(-0.5 * 4.5 / 14.0625));
  CHECK(g[2].item<double>() == doctest::Approx(0.5 * 3.0 / 14.0625));
  CHECK(g[5].item<double>() == doctest::Approx(0.5));
  CHECK_FALSE(torch::isnan(g).any().item<bool>());
  CHECK(dsc(y, y)[0].item<double>() == doctest::Approx(1.0));
}

TEST_CASE("on an image without truth the loss grows with the false positives, so it teaches") {
  // sum p = 0.5 + 0.25 = 0.75 -> loss 0.75 / 1.75; dL/dp_i = 1 / 1.75^2 for every pixel.
  auto p = torch::tensor({0.5, 0.0, 0.25, 0.0}, torch::kDouble).view({1, 1, 2, 2}).requires_grad_();
  const auto y = torch::zeros({1, 1, 2, 2}, torch::kDouble);
  const auto loss = dsc_loss(p, y);
  CHECK(loss.item<double>() == doctest::Approx(0.75 / 1.75));
  loss.backward();
  CHECK(p.grad().flatten()[1].item<double>() == doctest::Approx(1 / (1.75 * 1.75)));
  CHECK(dsc(p.detach(), y)[0].item<double>() == 0.0);  // the measure itself is unchanged
}

TEST_CASE("the DSC loss gradient agrees with finite differences") {
  torch::manual_seed(3);
  const auto p0 = torch::rand({2, 3, 4, 5}, torch::kDouble) * 0.9 + 0.05;
  const auto y = (torch::rand({2, 3, 4, 5}, torch::kDouble) > 0.6).to(torch::kDouble);
  auto p = p0.clone().requires_grad_();
  dsc_loss(p, y).backward();
  const auto analytic = p.grad().flatten();
  const double h = 1e-6;
  auto flat = p0.flatten();
  for (std::int64_t i = 0; i < flat.numel(); i += 7) {
    auto plus = flat.clone(), minus = flat.clone();
    plus[i] += h;
    minus[i] -= h;
    const double numeric = (dsc_loss(plus.view_as(p0), y).item<double>() - dsc_loss(minus.view_as(p0), y).item<double>()) / (2 * h);
    CAPTURE(i);
    CHECK(analytic[i].item<double>() == doctest::Approx(numeric).epsilon(1e-5));
  }
}
