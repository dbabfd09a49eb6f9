// Blank 3-slice images get the network's map of a blank image without a pass, and the maps are
// those of running every image.
#include <doctest/doctest.h>

#include <cmath>

#include "../../stages/blank_slices.hpp"

using namespace c2f;

namespace {
// A network that treats each image on its own and gives a map that depends on the image and on
// its position in the image (as padding makes a real network's do): so a copied blank map is
// right only if the blank image's map does not depend on its batch.
class PerImageNetwork final : public ViewInference {
 public:
  void predict(Scale scale, const SliceBatch& batch, std::vector<float>& p) override {
    const std::size_t plane = std::size_t(3 * batch.height() * batch.width());
    p.resize(batch.data.size());
    for (std::int64_t i = 0; i < batch.range.count(); ++i) {
      const float* x = batch.data.data() + std::size_t(i) * plane;
      bool blank = true;
      double sum = 0;
      for (std::size_t j = 0; j < plane; ++j) sum += x[j], blank = blank && x[j] == 0.f;
      blank_images_run += blank;
      for (std::size_t j = 0; j < plane; ++j)
        p[std::size_t(i) * plane + j] =
            float(1 / (1 + std::exp(-(x[j] + 0.001 * double(j) + 0.01 * double(std::int64_t(j) % batch.width()) + 1e-4 * sum - (scale == Scale::Fine ? 0.3 : 0.1)))));
    }
    ++passes;
  }
  std::string describe() const override { return "per-image"; }
  int passes = 0, blank_images_run = 0;
};

SliceBatch batch_with(View view, const std::vector<bool>& blank, std::int64_t h, std::int64_t w) {
  SliceBatch b;
  b.view = view;
  b.range = {10, 10 + std::int64_t(blank.size())};
  b.rect = Rect{0, 0, w, h};
  const std::size_t plane = std::size_t(3 * h * w);
  b.data.assign(blank.size() * plane, 0.f);
  for (std::size_t i = 0; i < blank.size(); ++i)
    if (!blank[i])
      for (std::size_t j = 0; j < plane; ++j) b.data[i * plane + j] = float((i * 7 + j * 3) % 11) / 10.f;
  return b;
}
}  // namespace

TEST_CASE("blank 3-slice images are not run, and every map equals running them all") {
  PerImageNetwork all, some;
  BlankSliceSkipping skipping(some);
  const std::vector<std::vector<bool>> batches{
      {false, true, false, true, true}, {true, true, true}, {false, false}, {true}, {true, false, true, false}};
  for (const Scale scale : {Scale::Coarse, Scale::Fine})
    for (const auto& blank : batches) {
      const SliceBatch b = batch_with(View::Coronal, blank, 5, 7);
      std::vector<float> expected, got;
      all.predict(scale, b, expected);
      skipping.predict(scale, b, got);
      CHECK(got == expected);
    }
  // The blank map of each (scale, size) was computed once, by one pass on one blank image.
  CHECK(some.blank_images_run == 2);
  std::int64_t images = 0, blanks = 0;
  for (const auto& blank : batches)
    for (bool b : blank) ++images, blanks += b;
  CHECK(skipping.images_seen() == 2 * images);
  CHECK(skipping.images_skipped() == 2 * blanks);
  // A batch without blank images goes through as it is: one pass.
  const int passes = some.passes;
  std::vector<float> p;
  skipping.predict(Scale::Coarse, batch_with(View::Axial, {false, false, false}, 4, 4), p);
  CHECK(some.passes == passes + 1);
}

TEST_CASE("blank maps are kept per scale, view and size") {
  PerImageNetwork net;
  BlankSliceSkipping skipping(net);
  std::vector<float> a, b;
  skipping.predict(Scale::Coarse, batch_with(View::Axial, {true}, 4, 6), a);
  skipping.predict(Scale::Coarse, batch_with(View::Axial, {true}, 6, 4), b);  // another size: another map
  CHECK(net.blank_images_run == 2);
  CHECK(a.size() == b.size());
  CHECK(a != b);
  skipping.predict(Scale::Coarse, batch_with(View::Axial, {true, true}, 4, 6), b);
  CHECK(net.blank_images_run == 2);
  CHECK(std::vector<float>(b.begin(), b.begin() + std::ptrdiff_t(a.size())) == a);
}
