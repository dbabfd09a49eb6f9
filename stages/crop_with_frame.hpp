#pragma once
// CropWithFrame and PasteBack: the fine stage's region of interest (paper section 3.2).
//
// crop_region: the bounding box of S(t-1) grown by a frame of `frame_px` voxels on every side
//   (paper: 15; the released code: 20), clipped at the volume's edges. The paper crops in-plane;
//   c2f grows the box along the slice axis too, so each view's fine network sees the same
//   3-D region and the three predictions can be fused voxel by voxel. An empty box (nothing
//   found) falls back to the whole volume: the fine networks then look everywhere.
// crop: the voxels of a volume inside a box, as a volume on the box's grid (sub_geometry).
// paste_back: a region's values put back into a full-size volume, `outside` elsewhere (the
//   paper: the fine mask is 0 outside the box).
//   notes: memory-bound; crop and paste_back copy rows.
#include "../pipeline/volume.hpp"

namespace c2f {

struct CropRegion {
  Box3 box;              // the region the fine networks see
  bool fallback = false; // the input box was empty: box is the whole volume
};

// frame_px: voxels, as training's frames are pixels of a slice (FineSampleOptions).
CropRegion crop_region(const Box3& box, const Index3& dims, int frame_px = 15);

template <class T>
Volume<T> crop(const Volume<T>& volume, const Box3& box);

template <class T>
Volume<T> paste_back(const Volume<T>& region, const Box3& box, const Geometry& full, T outside = T{});

struct CropWithFrame {
  int frame_px = 15;
  CropRegion operator()(const Box3& box, const Index3& dims) const { return crop_region(box, dims, frame_px); }
};

}  // namespace c2f
