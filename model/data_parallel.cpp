#include "data_parallel.hpp"

#include "torch_pch.hpp"

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef C2F_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>

#include <fmt/format.h>

#include "runtime.hpp"
#include "segmentation_model.hpp"
#include "train_step.hpp"
#include "../pipeline/errors.hpp"
#include "../pipeline/stage_time.hpp"

namespace c2f {

struct DataParallel::State {
  int rank = 0, world_size = 1;
  torch::Device device = torch::kCPU;
  bool nccl = false;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  std::int64_t last_bytes = 0;
  double last_seconds = 0;

  // Where the collectives' tensors must live: the device with NCCL, the CPU with Gloo.
  torch::Device wire() const { return nccl ? device : torch::Device(torch::kCPU); }

  void run(c10::intrusive_ptr<c10d::Work> work) {
    if (!work->wait()) throw Error("data parallel: a collective over the ranks did not complete");
  }
  std::vector<double> reduce(const std::vector<double>& values, c10d::ReduceOp op);
};

DataParallel::DataParallel(std::unique_ptr<State> state) : s_(std::move(state)) {}
DataParallel::~DataParallel() = default;

namespace {
c10::intrusive_ptr<c10d::ProcessGroup> gloo_group(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                  std::chrono::seconds timeout) {
  auto options = c10d::ProcessGroupGloo::Options::create(std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
  // GLOO_SOCKET_IFNAME picks the network interface, as in PyTorch; else the address this host's
  // name resolves to (or the loopback).
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface && *interface)
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
  else
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  options->threads = 2;
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
}

void check_world(int rank, int world_size) {
  if (world_size < 1 || rank < 0 || rank >= world_size)
    throw OptionError(fmt::format("data parallel: rank {} is not in [0, {})", rank, world_size));
}
}  // namespace

std::shared_ptr<DataParallel> DataParallel::attach(std::unique_ptr<State> s, std::chrono::seconds timeout) {
  s->store->setTimeout(std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
#ifdef C2F_HAVE_NCCL
  if (s->device.is_cuda()) {
    s->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(s->store, s->rank, s->world_size,
                                                           c10d::ProcessGroupNCCL::Options::create());
    s->nccl = true;
  }
#endif
  if (!s->group) s->group = gloo_group(s->store, s->rank, s->world_size, timeout);
  return std::shared_ptr<DataParallel>(new DataParallel(std::move(s)));
}

std::shared_ptr<DataParallel> DataParallel::over_tcp(int rank, int world_size, const std::string& master_addr,
                                                     int master_port, const std::string& device,
                                                     std::chrono::seconds timeout) {
  check_world(rank, world_size);
  if (master_port < 1 || master_port > 65535)
    throw OptionError(fmt::format("data parallel: port {} is not in [1, 65535]", master_port));
  auto s = std::make_unique<State>();
  s->rank = rank;
  s->world_size = world_size;
  s->device = torch::Device(check_device_name(device));
  try {
    c10d::TCPStoreOptions o;
    o.port = std::uint16_t(master_port);
    o.isServer = rank == 0;
    o.numWorkers = std::size_t(world_size);
    o.waitWorkers = true;
    o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
    s->store = c10::make_intrusive<c10d::TCPStore>(master_addr, o);
  } catch (const std::exception& e) {
    throw Error(fmt::format("data parallel: rank {} of {} could not meet the others at {}:{}: {}", rank, world_size,
                            master_addr, master_port, e.what()));
  }
  return attach(std::move(s), timeout);
}

std::shared_ptr<DataParallel> DataParallel::over_file(int rank, int world_size, const std::filesystem::path& file,
                                                      const std::string& device, std::chrono::seconds timeout) {
  check_world(rank, world_size);
  auto s = std::make_unique<State>();
  s->rank = rank;
  s->world_size = world_size;
  s->device = torch::Device(check_device_name(device));
  s->store = c10::make_intrusive<c10d::FileStore>(file.string(), world_size);
  return attach(std::move(s), timeout);
}

int DataParallel::rank() const { return s_->rank; }
int DataParallel::world_size() const { return s_->world_size; }
std::string DataParallel::backend() const { return s_->nccl ? "nccl" : "gloo"; }
std::int64_t DataParallel::last_allreduce_bytes() const { return s_->last_bytes; }
double DataParallel::last_allreduce_seconds() const { return s_->last_seconds; }

void DataParallel::broadcast_parameters(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors;
  for (const auto& p : module.parameters()) tensors.push_back(p);
  for (const auto& b : module.buffers()) tensors.push_back(b);
  if (tensors.empty()) return;
  std::vector<torch::Tensor> flat;
  for (const auto& t : tensors) flat.push_back(t.detach().to(s_->wire(), torch::kFloat).reshape({-1}));
  std::vector<torch::Tensor> buffer{torch::cat(flat)};
  c10d::BroadcastOptions o;
  o.rootRank = 0;
  s_->run(s_->group->broadcast(buffer, o));
  std::int64_t at = 0;
  for (auto& t : tensors) {
    const auto n = t.numel();
    t.copy_(buffer[0].narrow(0, at, n).view(t.sizes()).to(t.device(), t.scalar_type()));
    at += n;
  }
}

std::vector<double> DataParallel::sum_gradients(torch::nn::Module& module, const std::vector<double>& extra) {
  std::vector<torch::Tensor> params;
  for (const auto& p : module.parameters())
    if (p.requires_grad()) params.push_back(p);
  std::vector<torch::Tensor> flat;
  flat.reserve(params.size() + 1);
  for (auto& p : params) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);  // a rank without samples this step
    flat.push_back(p.grad().to(s_->wire(), torch::kFloat).reshape({-1}));
  }
  // The extras in float64 would need a second buffer; as float they keep 7 digits, enough for a
  // logged loss.
  flat.push_back(torch::tensor(std::vector<float>(extra.begin(), extra.end()), torch::kFloat).to(s_->wire()));
  std::vector<torch::Tensor> buffer{torch::cat(flat)};
  const auto t0 = StageClock::now();
  s_->run(s_->group->allreduce(buffer));  // ReduceOp::SUM
  s_->last_seconds = seconds_since(t0);
  s_->last_bytes = buffer[0].numel() * std::int64_t(sizeof(float));
  std::int64_t at = 0;
  torch::NoGradGuard no_grad;
  for (auto& p : params) {
    const auto n = p.numel();
    p.mutable_grad().copy_(buffer[0].narrow(0, at, n).view(p.sizes()));
    at += n;
  }
  const auto tail = buffer[0].narrow(0, at, std::int64_t(extra.size())).to(torch::kCPU, torch::kDouble);
  return std::vector<double>(tail.data_ptr<double>(), tail.data_ptr<double>() + extra.size());
}

std::vector<double> DataParallel::State::reduce(const std::vector<double>& values, c10d::ReduceOp op) {
  if (values.empty()) return {};
  std::vector<torch::Tensor> buffer{torch::tensor(values, torch::kDouble).to(wire())};
  c10d::AllreduceOptions o;
  o.reduceOp = op;
  run(group->allreduce(buffer, o));
  const auto out = buffer[0].to(torch::kCPU).contiguous();
  return std::vector<double>(out.data_ptr<double>(), out.data_ptr<double>() + values.size());
}

std::vector<double> DataParallel::sum(const std::vector<double>& values) { return s_->reduce(values, c10d::ReduceOp::SUM); }
std::vector<double> DataParallel::max(const std::vector<double>& values) { return s_->reduce(values, c10d::ReduceOp::MAX); }

void DataParallel::barrier() { s_->run(s_->group->barrier()); }

DataParallelTiming time_data_parallel_steps(const std::string& name, DataParallel* dp, int images, int side, int steps) {
  if (images < 0 || side < 1 || steps < 1) throw OptionError("data parallel timing: bad images, side or steps");
  torch::manual_seed(7);
  const auto model = make_model(name);
  if (dp) dp->broadcast_parameters(*model);
  auto optimizer = make_optimizer(*model, Optimizer::Adam, 1e-4);
  const auto image = torch::rand({3, side, side}).contiguous();
  const auto label = (torch::rand({3, side, side}) > 0.7).to(torch::kFloat).contiguous();
  const TrainStepInput in{image.data_ptr<float>(), label.data_ptr<float>(), side, side};
  const int batch = dp ? images * dp->world_size() : images;
  std::vector<double> step_s, allreduce_s;
  DataParallelTiming t;
  t.parameters = parameter_count(*model);
  for (int i = 0; i <= steps; ++i) {
    const auto t0 = StageClock::now();
    optimizer->zero_grad();
    double loss = 0;
    for (int k = 0; k < images; ++k) loss += accumulate_gradient(*model, in, 1.0 / batch);
    if (dp) {
      dp->barrier();  // the allreduce's own cost, not the wait for a slower rank
      dp->sum_gradients(*model, {loss});  // the loss rides along, as in training
      if (i > 0) allreduce_s.push_back(dp->last_allreduce_seconds());
      t.allreduce_bytes = dp->last_allreduce_bytes();
    }
    optimizer->step();
    if (i > 0) step_s.push_back(seconds_since(t0));
  }
  const auto median = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  t.step_seconds = median(step_s);
  t.allreduce_seconds = median(allreduce_s);
  return t;
}

}  // namespace c2f
