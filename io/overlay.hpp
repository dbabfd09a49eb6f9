#pragma once
// PNG pictures of slices for people: CT in a display window, with masks drawn in the paper's
// colours (prediction red, ground truth green, overlap yellow). Radiological convention: axial
// and coronal slices show the patient's right on the left; anterior (axial) and superior
// (coronal, sagittal) at the top; pixels are stretched to their physical aspect.
#include <filesystem>

#include <opencv2/core.hpp>

#include "../pipeline/volume.hpp"

namespace c2f {

struct OverlayOptions {
  float window_lo_hu = -160, window_hi_hu = 240;  // abdominal soft-tissue window
  bool outline = false;       // draw mask outlines instead of filled, translucent areas
  double min_height_px = 256; // small slices are enlarged to at least this height
  double max_side_px = 0;     // > 0: large slices are reduced so that neither side passes this (thumbnails)
};

// An 8-bit BGR picture of slice k of a view, with optional prediction and truth masks.
cv::Mat render_slice(const Image& image, View view, std::int64_t k, const Mask* prediction, const Mask* truth,
                     const OverlayOptions& options = {});

// Writes a picture atomically as PNG. Throws OutputError.
void write_png(const std::filesystem::path& path, const cv::Mat& picture);

}  // namespace c2f
