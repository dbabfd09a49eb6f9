#include "checkpoint.hpp"

#include <zlib.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <optional>

#include <fmt/format.h>

#include "../io/zip_check.hpp"
#include "../pipeline/atomic_file.hpp"
#include "../pipeline/errors.hpp"

namespace c2f {
namespace fs = std::filesystem;

namespace {
constexpr const char* kFormat = "c2f checkpoint 1";

// CRC-32 of every parameter and buffer, in the model's order, stored in the info. The archive's
// own CRCs (check_zip_archive) catch damaged bytes; this catches an archive that is a valid zip
// but whose tensor records are not what was saved, e.g. cut short and zipped again: LibTorch
// takes a tensor's size from its pickle, not from its record, and loads such a file.
std::uint32_t weights_crc32(SegmentationModelImpl& model) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto add = [&](const torch::Tensor& t) {
    const torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    const auto* p = static_cast<const Bytef*>(c.data_ptr());
    for (std::size_t left = std::size_t(c.nbytes()); left > 0;) {
      const auto n = uInt(std::min<std::size_t>(left, 1u << 30));
      crc = crc32(crc, p, n);
      p += n;
      left -= n;
    }
  };
  for (const auto& p : model.named_parameters()) add(p.value());
  for (const auto& b : model.named_buffers()) add(b.value());
  return std::uint32_t(crc);
}
}  // namespace

nlohmann::json CheckpointInfo::to_json() const {
  nlohmann::json j{{"format", kFormat},
                   {"method", method},
                   {"model", model},
                   {"view", view},
                   {"scale", scale},
                   {"window_hu", {window.lower_hu, window.upper_hu}},
                   {"iteration", iteration},
                   {"hyper", hyper}};
  if (!role.empty()) j["role"] = role;
  if (spacing_mm) j["spacing_mm"] = {(*spacing_mm)[0], (*spacing_mm)[1], (*spacing_mm)[2]};
  return j;
}

CheckpointInfo CheckpointInfo::from_json(const nlohmann::json& j) {
  CheckpointInfo i;
  i.method = j.value("method", std::string("coarse-to-fine"));
  i.role = j.value("role", std::string());
  i.model = j.at("model").get<std::string>();
  i.view = j.at("view").get<std::string>();
  i.scale = j.at("scale").get<std::string>();
  i.window.lower_hu = j.at("window_hu").at(0).get<float>();
  i.window.upper_hu = j.at("window_hu").at(1).get<float>();
  i.iteration = j.at("iteration").get<std::int64_t>();
  i.hyper = j.value("hyper", nlohmann::json::object());
  if (j.contains("spacing_mm")) {
    const auto& s = j.at("spacing_mm");
    Vec3 v{s.at(0).get<double>(), s.at(1).get<double>(), s.at(2).get<double>()};
    for (double x : v)
      if (!(x > 0 && std::isfinite(x))) throw std::invalid_argument("spacing_mm must be positive");
    i.spacing_mm = v;
  }
  return i;
}

void save_checkpoint(const fs::path& path, SegmentationModelImpl& model, const CheckpointInfo& info,
                     torch::optim::Optimizer* optimizer) {
  if (info.model != model.name())
    throw OptionError(fmt::format("checkpoint info names model '{}' but the network is '{}'", info.model, model.name()));
  torch::serialize::OutputArchive archive;
  nlohmann::json j = info.to_json();
  j["weights_crc32"] = weights_crc32(model);
  archive.write("c2f_info", c10::IValue(j.dump()));
  torch::serialize::OutputArchive weights;
  model.save(weights);
  archive.write("model", weights);
  if (optimizer) {
    torch::serialize::OutputArchive state;
    optimizer->save(state);
    archive.write("optimizer", state);
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    archive.write("cpu_rng_state", generator.get_state(), /*is_buffer=*/true);
  }
  // Written through a callback that never fails inside LibTorch: its zip writer finishes the
  // archive in a destructor, and an error there (a full disk) terminates the process. The
  // callback records the first error; it is thrown here, after LibTorch is done.
  write_atomically(path, [&](const fs::path& tmp) {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw OutputError(path.string(), std::string("cannot create checkpoint: ") + std::strerror(errno));
    int err = 0;
    try {
      archive.save_to([&](const void* data, std::size_t n) -> std::size_t {
        if (err == 0 && n > 0 && std::fwrite(data, 1, n, f) != n) err = errno ? errno : EIO;
        return n;
      });
    } catch (const c10::Error& e) {
      std::fclose(f);
      throw OutputError(path.string(), std::string("cannot write checkpoint: ") + e.what_without_backtrace());
    }
    if (std::fflush(f) != 0 && err == 0) err = errno;
    if (std::fclose(f) != 0 && err == 0) err = errno;
    if (err) throw OutputError(path.string(), std::string("cannot write checkpoint: ") + std::strerror(err));
  });
}

namespace {
torch::serialize::InputArchive open_archive(const fs::path& path, CheckpointInfo& info,
                                            std::optional<std::uint32_t>* crc = nullptr,
                                            std::vector<ZipRecord>* records = nullptr,
                                            nlohmann::json* stored = nullptr) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path.string(), "no such file");
  if (fs::is_directory(path, ec)) throw InputError(path.string(), "not a readable checkpoint (a folder)");
  auto checked = check_zip_archive(path);  // before LibTorch parses anything: it can crash on damaged bytes
  if (records) *records = std::move(checked);
  torch::serialize::InputArchive archive;
  c10::IValue text;
  try {
    archive.load_from(path.string(), torch::Device(torch::kCPU));  // whatever device wrote it
    if (!archive.try_read("c2f_info", text) || !text.isString())
      throw InputError(path.string(), "not a c2f checkpoint (no c2f_info record)");
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {  // c10::Error, and std::runtime_error from TorchScript's parser
    throw InputError(path.string(), "not a readable checkpoint (corrupt or truncated LibTorch archive)");
  }
  try {
    const auto j = nlohmann::json::parse(text.toStringRef());
    if (j.value("format", "") != kFormat) throw InputError(path.string(), "unknown checkpoint format");
    info = CheckpointInfo::from_json(j);
    if (crc && j.contains("weights_crc32")) *crc = j.at("weights_crc32").get<std::uint32_t>();
    if (stored) *stored = j;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path.string(), std::string("corrupt checkpoint info: ") + e.what());
  } catch (const std::invalid_argument& e) {
    throw InputError(path.string(), std::string("corrupt checkpoint info: ") + e.what());
  }
  return archive;
}

// Every storage of the network's tensors has a data record of exactly its size. LibTorch takes a
// storage's size from the pickle and its bytes from the record, without comparing the two: a
// record cut short (in an archive zipped again, so its CRCs hold) is read past its end (ASan
// showed it). Storages are matched to records by size (LibTorch names no record), so this is
// exact for a weights-only checkpoint and a necessary condition for one with optimiser state.
void check_storage_records(torch::serialize::InputArchive& archive, torch::nn::Module& module,
                           const std::vector<ZipRecord>& records, const fs::path& path) {
  std::map<std::uint64_t, std::int64_t> available;  // record size -> records of that size
  for (const auto& r : records)
    if (r.name.find("/data/") != std::string::npos) ++available[r.size];
  std::set<const void*> seen;
  std::function<void(torch::serialize::InputArchive&, torch::nn::Module&)> walk = [&](auto& a, auto& m) {
    const auto need = [&](const std::string& key, bool is_buffer) {
      torch::Tensor t;
      if (!a.try_read(key, t, is_buffer) || !t.defined() || !seen.insert(t.storage().unsafeGetStorageImpl()).second) return;
      if (--available[std::uint64_t(t.storage().nbytes())] < 0)
        throw InputError(path.string(), fmt::format("corrupt checkpoint: no data record holds the {} bytes of tensor {}",
                                                    t.storage().nbytes(), key));
    };
    for (const auto& p : m.named_parameters(/*recurse=*/false)) need(p.key(), false);
    for (const auto& b : m.named_buffers(/*recurse=*/false)) need(b.key(), true);
    for (const auto& child : m.named_children()) {
      torch::serialize::InputArchive sub;
      if (a.try_read(child.key(), sub)) walk(sub, *child.value());
    }
  };
  walk(archive, module);
}

void expect_field(const fs::path& path, const char* what, const std::string& want, const std::string& have) {
  if (!want.empty() && want != have)
    throw InputError(path.string(), fmt::format("holds {} '{}', expected '{}'", what, have, want));
}
}  // namespace

CheckpointInfo read_checkpoint_info(const fs::path& path) {
  CheckpointInfo info;
  open_archive(path, info);
  return info;
}

nlohmann::json read_checkpoint_record(const fs::path& path) {
  CheckpointInfo info;
  nlohmann::json stored;
  open_archive(path, info, nullptr, nullptr, &stored);
  return stored;
}

LoadedCheckpoint load_checkpoint(const fs::path& path, const CheckpointExpectation& expect) {
  LoadedCheckpoint out;
  std::optional<std::uint32_t> crc;
  std::vector<ZipRecord> records;
  auto archive = open_archive(path, out.info, &crc, &records, &out.record);
  const std::string method =
      !expect.method.empty() ? expect.method : !expect.view.empty() || !expect.scale.empty() ? "coarse-to-fine" : "";
  if (!method.empty() && method != out.info.method)
    throw InputError(path.string(), fmt::format("holds a {} network{}, expected a {} one", out.info.method,
                                                out.info.role.empty() ? "" : " (" + out.info.role + ")", method));
  expect_field(path, "role", expect.role, out.info.role);
  expect_field(path, "model", expect.model, out.info.model);
  expect_field(path, "view", expect.view, out.info.view);
  expect_field(path, "scale", expect.scale, out.info.scale);
  try {
    out.model = make_model(out.info.model);
  } catch (const OptionError& e) {
    throw InputError(path.string(), e.what());
  }
  try {
    torch::serialize::InputArchive weights;
    archive.read("model", weights);
    check_storage_records(weights, *out.model, records, path);
    out.model->load(weights);
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(path.string(), fmt::format("weights do not fit a {} network (missing or misshapen tensors)", out.info.model));
  }
  // Checkpoints written before the sum was stored have none; every c2f checkpoint since has.
  if (crc && weights_crc32(*out.model) != *crc)
    throw InputError(path.string(), "corrupt checkpoint: the weights do not match their checksum");
  return out;
}

void load_optimizer_state(const fs::path& path, torch::optim::Optimizer& optimizer) {
  CheckpointInfo info;
  auto archive = open_archive(path, info);
  try {
    torch::serialize::InputArchive state;
    if (!archive.try_read("optimizer", state)) throw InputError(path.string(), "holds no optimiser state to resume from");
    optimizer.load(state);
    torch::Tensor rng;
    if (archive.try_read("cpu_rng_state", rng, /*is_buffer=*/true)) {
      auto generator = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(generator.mutex());
      generator.set_state(rng);
    }
  } catch (const c10::Error& e) {
    throw InputError(path.string(), "optimiser state does not fit this optimiser");
  }
}

}  // namespace c2f
