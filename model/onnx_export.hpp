#pragma once
// ONNX export of c2f's networks (c2f-models --export-onnx). LibTorch's C++ API has no ONNX
// exporter, so the export runs torch.onnx (Debian's python3-torch and python3-onnx) through the
// PyTorch definitions of the networks in examples/python/, whose equality with the C++ networks
// the tests check. The checkpoint is loaded here first, so a damaged one (CRC) is refused with
// one error and no file; the graph's metadata names the checkpoint it came from.
#include <filesystem>
#include <string>
#include <vector>

namespace c2f {

struct OnnxExporter {
  std::filesystem::path python;  // an interpreter with torch and onnx
  std::filesystem::path script;  // examples/python/export_onnx.py (installed: share/c2f/python/)
};

// Writes `out` (atomically) from `checkpoint`. Throws InputError naming the checkpoint (not a
// c2f checkpoint, damaged weights) or OutputError naming `out` (the export failed: its last line).
void export_onnx(const std::filesystem::path& checkpoint, const std::filesystem::path& out, const OnnxExporter& exporter);

// The six networks of a model folder to <out_folder>/<scale>_<view>.onnx; returns the files.
std::vector<std::filesystem::path> export_onnx_set(const std::filesystem::path& folder,
                                                   const std::filesystem::path& out_folder, const OnnxExporter& exporter);

}  // namespace c2f
