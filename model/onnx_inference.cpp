#include "onnx_inference.hpp"

#include <cstring>
#include <fstream>
#include <iterator>
#include <list>

#include <fmt/format.h>
#include <google/protobuf/unknown_field_set.h>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "../pipeline/errors.hpp"

namespace fs = std::filesystem;
using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

namespace c2f {

namespace {
// Field numbers of onnx.proto (ONNX IR): the few this file reads or edits. OpenCV ships the
// compiled schema only inside its library, so the messages are walked with protobuf's
// schema-less UnknownFieldSet, which keeps every other field as it is.
constexpr int kModelGraph = 7;           // ModelProto.graph
constexpr int kModelMetadata = 14;       // ModelProto.metadata_props
constexpr int kEntryKey = 1, kEntryValue = 2;  // StringStringEntryProto
constexpr int kGraphInput = 11;          // GraphProto.input (ValueInfoProto)
constexpr int kValueInfoType = 2;        // ValueInfoProto.type (TypeProto)
constexpr int kTypeTensor = 1;           // TypeProto.tensor_type
constexpr int kTensorShape = 2;          // TypeProto.Tensor.shape (TensorShapeProto)
constexpr int kShapeDim = 1;             // TensorShapeProto.dim (Dimension)
constexpr int kDimValue = 1;             // Dimension.dim_value

void parse(UnknownFieldSet& set, const std::string& bytes, const std::string& source, const char* what) {
  if (!set.ParseFromString(bytes)) throw InputError(source, fmt::format("not an ONNX model ({} does not parse)", what));
}

std::string serialize(const UnknownFieldSet& set) {
  std::string out;
  set.SerializeToString(&out);
  return out;
}

// The index of the first length-delimited field `number`, or -1.
int first_message(const UnknownFieldSet& set, int number) {
  for (int i = 0; i < set.field_count(); ++i)
    if (set.field(i).number() == number && set.field(i).type() == UnknownField::TYPE_LENGTH_DELIMITED) return i;
  return -1;
}

// Replaces the message field `number` of `set` (its first one) by `edit` applied to it.
template <class Edit>
void edit_message(UnknownFieldSet& set, int number, const std::string& source, const char* what, Edit&& edit) {
  const int i = first_message(set, number);
  if (i < 0) throw InputError(source, fmt::format("not a usable ONNX model (no {})", what));
  UnknownFieldSet inner;
  parse(inner, set.field(i).length_delimited(), source, what);
  edit(inner);
  set.mutable_field(i)->set_length_delimited(serialize(inner));
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "cannot be opened (export it with c2f-models --export-onnx)");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(path.string(), "cannot be read");
  return bytes;
}
}  // namespace

std::map<std::string, std::string> onnx_metadata(const std::string& model, const std::string& source) {
  UnknownFieldSet set;
  parse(set, model, source, "the model");
  if (first_message(set, kModelGraph) < 0) throw InputError(source, "not an ONNX model (no graph)");
  std::map<std::string, std::string> entries;
  for (int i = 0; i < set.field_count(); ++i) {
    if (set.field(i).number() != kModelMetadata || set.field(i).type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    UnknownFieldSet entry;
    parse(entry, set.field(i).length_delimited(), source, "a metadata entry");
    std::string key, value;
    for (int j = 0; j < entry.field_count(); ++j) {
      if (entry.field(j).type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
      if (entry.field(j).number() == kEntryKey) key = entry.field(j).length_delimited();
      if (entry.field(j).number() == kEntryValue) value = entry.field(j).length_delimited();
    }
    entries[key] = value;
  }
  return entries;
}

std::string onnx_with_input_shape(const std::string& model, const std::vector<std::int64_t>& shape,
                                  const std::string& source) {
  UnknownFieldSet set;
  parse(set, model, source, "the model");
  edit_message(set, kModelGraph, source, "graph", [&](UnknownFieldSet& graph) {
    edit_message(graph, kGraphInput, source, "graph input", [&](UnknownFieldSet& input) {
      edit_message(input, kValueInfoType, source, "input type", [&](UnknownFieldSet& type) {
        edit_message(type, kTypeTensor, source, "input tensor type", [&](UnknownFieldSet& tensor) {
          edit_message(tensor, kTensorShape, source, "input shape", [&](UnknownFieldSet& dims) {
            std::size_t rank = 0;
            for (int i = 0; i < dims.field_count(); ++i) {
              if (dims.field(i).number() != kShapeDim) continue;
              if (rank == shape.size())
                throw InputError(source, fmt::format("graph input has more than {} axes", shape.size()));
              UnknownFieldSet dim;
              dim.AddVarint(kDimValue, std::uint64_t(shape[rank++]));  // replaces dim_param or dim_value
              dims.mutable_field(i)->set_length_delimited(serialize(dim));
            }
            if (rank != shape.size())
              throw InputError(source, fmt::format("graph input has {} axes, not {}", rank, shape.size()));
          });
        });
      });
    });
  });
  return serialize(set);
}

struct OnnxNetwork::Impl {
  fs::path path;
  std::string graph;  // serialised, free axes as exported
  std::string model;  // "light-unet"
  // Imported graphs by input shape; the oldest goes first when too many are kept (fine rounds
  // bring a new crop size each round).
  using Shape = std::array<std::int64_t, 3>;  // n, h, w
  struct Imported {
    cv::dnn::Net net;
    std::int64_t macs = 0;
  };
  std::map<Shape, Imported> imported;
  std::list<Shape> order;
  std::size_t imports = 0;
  std::int64_t macs = 0;
  static constexpr std::size_t kKeep = 8;

  Imported& net_for(const Shape& shape) {
    if (auto it = imported.find(shape); it != imported.end()) return it->second;
    const auto [n, h, w] = shape;
    const std::string fixed = onnx_with_input_shape(graph, {n, 3, h, w}, path.string());
    Imported entry;
    try {
      entry.net = cv::dnn::readNetFromONNX(fixed.data(), fixed.size());
      entry.net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
      entry.net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
      entry.macs = std::int64_t(entry.net.getFLOPS(cv::dnn::MatShape{int(n), 3, int(h), int(w)}) / 2);
    } catch (const cv::Exception& e) {
      throw InputError(path.string(), fmt::format("OpenCV's DNN module cannot import it at {}x3x{}x{}: {}", n, h, w, e.err));
    }
    if (imported.size() >= kKeep) {
      imported.erase(order.front());
      order.pop_front();
    }
    order.push_back(shape);
    ++imports;
    return imported.emplace(shape, std::move(entry)).first->second;
  }
};

OnnxNetwork::OnnxNetwork(fs::path path, const nlohmann::json& checkpoint_record) : impl_(std::make_unique<Impl>()) {
  impl_->path = std::move(path);
  const std::string source = impl_->path.string();
  impl_->graph = read_file(impl_->path);
  const auto metadata = onnx_metadata(impl_->graph, source);
  const auto found = metadata.find("c2f_info");
  if (found == metadata.end())
    throw InputError(source, "has no c2f_info metadata (not exported by c2f-models --export-onnx)");
  const nlohmann::json info = nlohmann::json::parse(found->second, nullptr, /*allow_exceptions=*/false);
  if (info.is_discarded() || !info.is_object()) throw InputError(source, "has corrupt c2f_info metadata");
  if (info != checkpoint_record)
    throw InputError(source, fmt::format("was not exported from the {} {} checkpoint it stands for (export it again "
                                         "with c2f-models --export-onnx)",
                                         checkpoint_record.value("scale", "?"), checkpoint_record.value("view", "?")));
  impl_->model = info.value("model", "");
}

OnnxNetwork::OnnxNetwork(OnnxNetwork&&) noexcept = default;
OnnxNetwork::~OnnxNetwork() = default;

void OnnxNetwork::predict(std::int64_t n, std::int64_t h, std::int64_t w, const float* slices,
                          std::vector<float>& probabilities) {
  Impl::Imported& imported = impl_->net_for({n, h, w});
  const int sizes[] = {int(n), 3, int(h), int(w)};
  // The Mat wraps the caller's slices without copying; they outlive the call.
  imported.net.setInput(cv::Mat(4, sizes, CV_32F, const_cast<float*>(slices)));
  const cv::Mat p = imported.net.forward();
  if (p.dims != 4 || p.size[0] != n || p.size[1] != 3 || p.size[2] != h || p.size[3] != w || p.type() != CV_32F ||
      !p.isContinuous())
    throw std::logic_error(fmt::format("OnnxNetwork: {} returned a map of another size", impl_->path.string()));
  impl_->macs += imported.macs;
  probabilities.resize(std::size_t(n * 3 * h * w));
  std::memcpy(probabilities.data(), p.ptr<float>(), probabilities.size() * sizeof(float));
}

const std::string& OnnxNetwork::model() const { return impl_->model; }
std::int64_t OnnxNetwork::multiply_adds() const { return impl_->macs; }
std::size_t OnnxNetwork::imported_shapes() const { return impl_->imports; }

OnnxInference::OnnxInference(const fs::path& folder, const std::array<nlohmann::json, 6>& checkpoint_info, int threads) {
  if (threads > 0) cv::setNumThreads(threads);
  for (Scale scale : {Scale::Coarse, Scale::Fine})
    for (View view : kViews)
      networks_.emplace_back(onnx_network_path(folder, scale, view),
                             checkpoint_info[std::size_t(scale) * 3 + std::size_t(view)]);
}

OnnxInference::~OnnxInference() = default;

void OnnxInference::predict(Scale scale, const SliceBatch& batch, std::vector<float>& probabilities) {
  const std::int64_t n = batch.range.count(), h = batch.height(), w = batch.width();
  if (std::int64_t(batch.data.size()) != n * 3 * h * w) throw std::invalid_argument("OnnxInference: batch size mismatch");
  networks_[std::size_t(scale) * 3 + std::size_t(batch.view)].predict(n, h, w, batch.data.data(), probabilities);
}

std::string OnnxInference::describe() const {
  return fmt::format("{} on cpu (fp32, OpenCV DNN)", networks_.front().model());
}

std::int64_t OnnxInference::multiply_adds() const {
  std::int64_t macs = 0;
  for (const auto& n : networks_) macs += n.multiply_adds();
  return macs;
}

}  // namespace c2f
