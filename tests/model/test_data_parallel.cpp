// The collectives of data-parallel training, two ranks as two threads of this process meeting
// over a file store (and a TCP store), each with its own Gloo process group.
#include <doctest/doctest.h>

#include <thread>

#include "../../model/data_parallel.hpp"
#include "../../model/torch_pch.hpp"
#include "free_port.hpp"
#include "test_support.hpp"

using namespace c2f;
namespace fs = std::filesystem;

namespace {
// Runs body(rank) on two threads; the first exception, if any, is rethrown here.
template <class F>
void on_two_ranks(F body) {
  std::exception_ptr failed[2];
  std::thread ranks[2];
  for (int r = 0; r < 2; ++r)
    ranks[r] = std::thread([&, r] {
      try {
        body(r);
      } catch (...) {
        failed[r] = std::current_exception();
      }
    });
  for (auto& t : ranks) t.join();
  for (auto& f : failed)
    if (f) std::rethrow_exception(f);
}
}  // namespace

TEST_CASE("data parallel: rank 0's weights reach every rank and gradients come back summed, extras with them") {
  test::ScratchDir dir("dp-collectives");
  torch::Tensor weights[2], grads[2], bias_grads[2];
  std::vector<double> extras[2], sums[2], maxima[2];
  on_two_ranks([&](int rank) {
    auto dp = DataParallel::over_file(rank, 2, dir / "store", "cpu", std::chrono::seconds(60));
    CHECK(dp->rank() == rank);
    CHECK(dp->world_size() == 2);
    CHECK(dp->backend() == "gloo");
    torch::nn::Linear layer(3, 2);
    {
      torch::NoGradGuard no_grad;
      layer->weight.fill_(float(rank + 1));  // each rank starts elsewhere
    }
    dp->broadcast_parameters(*layer);
    weights[rank] = layer->weight.detach().clone();
    // Rank 0 computes a gradient; rank 1 none at all (a rank without samples in a step).
    if (rank == 0) {
      const auto x = torch::ones({1, 3});
      layer->forward(x).sum().backward();
    }
    extras[rank] = dp->sum_gradients(*layer, {1.5 + rank, 10.0 * rank});
    grads[rank] = layer->weight.grad().clone();
    bias_grads[rank] = layer->bias.grad().clone();
    sums[rank] = dp->sum({double(rank), 2.0});
    maxima[rank] = dp->max({double(rank), -double(rank)});
    dp->barrier();
    CHECK(dp->last_allreduce_bytes() == (6 + 2 + 2) * 4);  // 8 parameters and 2 extras, as float
  });
  CHECK(torch::equal(weights[0], torch::ones({2, 3})));
  CHECK(torch::equal(weights[1], weights[0]));
  // d(sum(W x + b))/dW = x^T = ones, from rank 0 alone; rank 1's missing gradient counted as zero.
  CHECK(torch::equal(grads[0], torch::ones({2, 3})));
  CHECK(torch::equal(grads[1], grads[0]));
  CHECK(torch::equal(bias_grads[1], torch::ones({2})));
  for (int r = 0; r < 2; ++r) {
    CHECK(extras[r] == std::vector<double>{4.0, 10.0});
    CHECK(sums[r] == std::vector<double>{1.0, 4.0});
    CHECK(maxima[r] == std::vector<double>{1.0, 0.0});
  }
}

TEST_CASE("data parallel: ranks meet over TCP, and a rank outside the world or a bad port is refused") {
  // A port the kernel hands out, free a moment ago.
  const int port = test::free_tcp_port();
  double summed[2] = {0, 0};
  on_two_ranks([&](int rank) {
    auto dp = DataParallel::over_tcp(rank, 2, "127.0.0.1", port, "cpu", std::chrono::seconds(60));
    summed[rank] = dp->sum({double(rank + 1)})[0];
  });
  CHECK(summed[0] == 3.0);
  CHECK(summed[1] == 3.0);
  CHECK_THROWS_WITH(DataParallel::over_tcp(2, 2, "127.0.0.1", port), doctest::Contains("rank 2 is not in [0, 2)"));
  CHECK_THROWS_WITH(DataParallel::over_tcp(0, 2, "127.0.0.1", 0), doctest::Contains("port 0"));
}
