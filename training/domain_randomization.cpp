#include "domain_randomization.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "../pipeline/errors.hpp"
#include "../pipeline/random.hpp"
#include "training_sample.hpp"

namespace c2f {

namespace {
// The command line's names, in the order domain_randomization_parts lists them; the index is also
// the part's random stream.
constexpr std::array<std::string_view, 9> kParts{"crop",      "scaling", "elastic", "resolution", "blur",
                                                 "intensity", "gamma",   "bias",    "noise"};
enum Part : std::uint64_t { kCrop, kScaling, kElastic, kResolution, kBlur, kIntensity, kGamma, kBias, kNoise };

// Centres of the HU bands that matter for the pancreas: fat, fluid, unenhanced soft tissue,
// enhanced parenchyma, vessels and bone.
constexpr std::array<double, 5> kBandCentresHu{-100, 0, 40, 130, 240};
// The transfer curve's least slope: bands may come closer (down to a quarter of their contrast)
// but never merge, so no draw makes the pancreas invisible against its neighbours.
constexpr double kMinCurveSlope = 0.25;
constexpr double kMinBlurSigmaPx = 0.1;  // below it a Gaussian is the identity to float precision
constexpr int kBiasGrid = 4;             // nodes per side of the bias field's grid

bool& part(DomainRandomization& r, std::size_t i) {
  bool* flags[] = {&r.crop, &r.scaling, &r.elastic, &r.resolution, &r.blur, &r.intensity, &r.gamma, &r.bias, &r.noise};
  return *flags[i];
}

// splitmix64 over one stream of (sample seed, part): portable, no state shared between threads.
class Draw {
 public:
  Draw(std::uint64_t seed, Part p) : state_(mix64(seed ^ mix64(0xD0A1D0A1ULL + std::uint64_t(p)))) {}
  std::uint64_t next() { return mix64(state_++); }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  std::int64_t below(std::int64_t n) { return std::int64_t(next() % std::uint64_t(n)); }  // [0, n), n >= 1
  bool chance(double p) { return uniform() < p; }
  // Box-Muller: two independent N(0, 1).
  std::pair<double, double> normals() {
    const double r = std::sqrt(-2 * std::log(1 - uniform())), a = 2 * std::numbers::pi * uniform();
    return {r * std::cos(a), r * std::sin(a)};
  }
  double normal() { return normals().first; }

 private:
  std::uint64_t state_;
};

// The sample's 3 channels as OpenCV images over its own buffers.
std::array<cv::Mat, 3> channels(std::vector<float>& data, std::int64_t h, std::int64_t w) {
  std::array<cv::Mat, 3> c;
  for (std::size_t k = 0; k < 3; ++k) c[k] = cv::Mat(int(h), int(w), CV_32F, data.data() + k * std::size_t(h * w));
  return c;
}

// A geometric warp of image and masks alike: linear for both, the masks then > 0.5 so they stay 0/1.
template <class Warp>
void warp_both(TrainingSample& s, Warp&& warp) {
  auto img = channels(s.image, s.height, s.width), lab = channels(s.label, s.height, s.width);
  cv::Mat out;
  for (std::size_t k = 0; k < 3; ++k) {
    warp(img[k], out);
    out.copyTo(img[k]);
    if (cv::countNonZero(lab[k]) == 0) continue;  // an empty mask stays empty (coarse negatives)
    warp(lab[k], out);
    cv::threshold(out, lab[k], 0.5, 1.0, cv::THRESH_BINARY);
  }
}

// A smooth random field in [-1, 1]: a coarse grid of uniform values, cubic up to h x w (its
// overshoot clipped).
cv::Mat smooth_field(Draw& d, int h, int w, int grid_h, int grid_w) {
  cv::Mat coarse(grid_h, grid_w, CV_32F);
  for (int y = 0; y < grid_h; ++y)
    for (int x = 0; x < grid_w; ++x) coarse.at<float>(y, x) = float(d.uniform(-1, 1));
  cv::Mat field;
  cv::resize(coarse, field, cv::Size(w, h), 0, 0, cv::INTER_CUBIC);
  return cv::max(cv::min(field, 1.0), -1.0);
}

void crop(TrainingSample& s, const DomainRandomization& o, Draw& d) {
  const std::int64_t h = s.height, w = s.width;
  // The masks' box over the three slices: the crop never cuts it.
  std::int64_t y0 = h, y1 = -1, x0 = w, x1 = -1;
  for (std::int64_t k = 0; k < 3; ++k)
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x)
        if (s.label[std::size_t((k * h + y) * w + x)] > 0.5f) {
          y0 = std::min(y0, y), y1 = std::max(y1, y), x0 = std::min(x0, x), x1 = std::max(x1, x);
        }
  const double share_y = d.uniform(o.min_crop_share, 1.0), share_x = d.uniform(o.min_crop_share, 1.0);
  // Returns (first index kept, count kept) along one axis.
  const auto side = [&](std::int64_t size, double share, std::int64_t lo, std::int64_t hi) {
    std::int64_t keep = std::clamp<std::int64_t>(std::llround(double(size) * share), 1, size);
    std::int64_t first = 0, last = size - keep;  // range of the first index
    if (hi >= lo) {
      keep = std::max(keep, hi - lo + 1);
      first = std::max<std::int64_t>(0, hi + 1 - keep);
      last = std::min(size - keep, lo);
    }
    return std::pair{first + d.below(last - first + 1), keep};
  };
  const auto [oy, ch] = side(h, share_y, y0, y1);
  const auto [ox, cw] = side(w, share_x, x0, x1);
  if (ch == h && cw == w) return;
  std::vector<float> image(std::size_t(3 * ch * cw)), label(image.size());
  for (std::int64_t k = 0; k < 3; ++k)
    for (std::int64_t y = 0; y < ch; ++y) {
      const std::size_t from = std::size_t((k * h + oy + y) * w + ox), to = std::size_t((k * ch + y) * cw);
      std::copy_n(s.image.begin() + std::ptrdiff_t(from), cw, image.begin() + std::ptrdiff_t(to));
      std::copy_n(s.label.begin() + std::ptrdiff_t(from), cw, label.begin() + std::ptrdiff_t(to));
    }
  s.image = std::move(image);
  s.label = std::move(label);
  s.height = ch;
  s.width = cw;
}

// Scaling and elastic as one resampling, so an image is interpolated once, not twice: the output
// at p is the input at c + (p + u(p) - c) / f, with f the zoom about the centre c and u the
// smooth displacement (either may be absent).
void reshape(TrainingSample& s, const DomainRandomization& o, Draw* scaling, Draw* elastic) {
  const int h = int(s.height), w = int(s.width);
  const float cx = 0.5f * float(w - 1), cy = 0.5f * float(h - 1);
  const float inverse_zoom = scaling ? float(1 / scaling->uniform(1 - o.max_scale_change, 1 + o.max_scale_change)) : 1;
  cv::Mat map_x, map_y;
  if (elastic) {
    const int gh = std::max(2, int(std::ceil(h / o.elastic_cell_px)) + 1);
    const int gw = std::max(2, int(std::ceil(w / o.elastic_cell_px)) + 1);
    // Grid values in [-1, 1] have sd 1/sqrt(3): scaled so the nodes' displacement has sd elastic_px.
    const double px = o.elastic_px * std::sqrt(3.0);
    map_x = smooth_field(*elastic, h, w, gh, gw) * px;
    map_y = smooth_field(*elastic, h, w, gh, gw) * px;
  } else {
    map_x = cv::Mat::zeros(h, w, CV_32F);
    map_y = cv::Mat::zeros(h, w, CV_32F);
  }
  for (int y = 0; y < h; ++y) {
    float* mx = map_x.ptr<float>(y);
    float* my = map_y.ptr<float>(y);
    for (int x = 0; x < w; ++x) {
      mx[x] = cx + (float(x) + mx[x] - cx) * inverse_zoom;
      my[x] = cy + (float(y) + my[x] - cy) * inverse_zoom;
    }
  }
  // Fixed-point maps once for the six remaps (remap quantises float maps to them anyway).
  cv::Mat xy, weights;
  cv::convertMaps(map_x, map_y, xy, weights, CV_16SC2);
  warp_both(s, [&](const cv::Mat& in, cv::Mat& out) {
    cv::remap(in, out, xy, weights, cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
  });
}

// A random monotone piecewise-linear curve in HU through the band centres inside the window.
void transfer_curve(std::vector<float>& image, const DomainRandomization& o, const WindowOptions& window, Draw& d) {
  const double lo = window.lower_hu, hi = window.upper_hu, span = hi - lo;
  std::vector<double> from{lo};
  for (double k : kBandCentresHu)
    if (k > lo + 1 && k < hi - 1) from.push_back(k);
  from.push_back(hi);
  std::vector<double> to(from.size());
  for (std::size_t i = 0; i < from.size(); ++i) {
    to[i] = from[i] + o.intensity_sd_hu * d.normal();
    if (i > 0) to[i] = std::max(to[i], to[i - 1] + kMinCurveSlope * (from[i] - from[i - 1]));
  }
  // The curve on window units [0, 1]: segment i covers [at[i], at[i + 1]], extended at both ends.
  const std::size_t n = from.size() - 1;
  std::vector<float> at(n + 1), slope(n), offset(n);
  for (std::size_t i = 0; i <= n; ++i) at[i] = float((from[i] - lo) / span);
  for (std::size_t i = 0; i < n; ++i) {
    slope[i] = float((to[i + 1] - to[i]) / (from[i + 1] - from[i]));
    offset[i] = float((to[i] - lo) / span) - slope[i] * at[i];
  }
  for (float& v : image) {
    std::size_t i = 0;
    while (i + 1 < n && v > at[i + 1]) ++i;
    v = std::clamp(offset[i] + slope[i] * v, 0.0f, 1.0f);
  }
}

void coarsen(std::array<cv::Mat, 3>& img, const DomainRandomization& o, Draw& d) {
  const std::int64_t axes = d.below(3);  // 0: x, 1: y, 2: both
  const double f = d.uniform(1, o.max_downsample);
  const cv::Size size = img[0].size();
  const int sw = axes == 1 ? size.width : std::max(1, int(std::lround(size.width / f)));
  const int sh = axes == 0 ? size.height : std::max(1, int(std::lround(size.height / f)));
  if (sw == size.width && sh == size.height) return;
  cv::Mat small, back;
  for (cv::Mat& c : img) {
    cv::resize(c, small, cv::Size(sw, sh), 0, 0, cv::INTER_AREA);
    cv::resize(small, back, size, 0, 0, cv::INTER_LINEAR);
    back.copyTo(c);
  }
}

// Gaussian noise of sd `sd`, approximated by the sum of four uniforms (Irwin-Hall): one 64-bit draw a
// value instead of a log, a root and a sine, and tails bounded at 3.5 sd (no lone outliers).
void add_noise(std::vector<float>& image, double sd, Draw& d) {
  const float scale = float(sd * std::sqrt(3.0) / 65536.0);
  for (float& v : image) {
    const std::uint64_t r = d.next();
    // Four 16-bit integers: their sum has mean 4 * 65535 / 2 and sd 65536 / sqrt(3), so the scaled
    // difference has mean 0 and sd 1 exactly, and a shape close to the normal's.
    const double sum = double(r & 0xFFFF) + double((r >> 16) & 0xFFFF) + double((r >> 32) & 0xFFFF) + double(r >> 48);
    v += scale * float(sum - 2 * 65535.0);
  }
}

void clip(std::vector<float>& image) {
  for (float& v : image) v = std::clamp(v, 0.0f, 1.0f);
}
}  // namespace

DomainRandomization DomainRandomization::none() {
  DomainRandomization r;
  for (std::size_t i = 0; i < kParts.size(); ++i) part(r, i) = false;
  return r;
}

bool DomainRandomization::any() const {
  DomainRandomization copy = *this;
  for (std::size_t i = 0; i < kParts.size(); ++i)
    if (part(copy, i)) return true;
  return false;
}

void DomainRandomization::validate() const {
  // Written as !(in range) so that NaN fails too.
  const auto check = [](bool ok, std::string_view what, double value) {
    if (!ok) throw OptionError(fmt::format("domain randomisation: {} (got {})", what, value));
  };
  check(min_crop_share > 0 && min_crop_share <= 1, "the least crop share must lie in (0, 1]", min_crop_share);
  check(max_scale_change >= 0 && max_scale_change < 0.9, "the scale change must lie in [0, 0.9)", max_scale_change);
  check(elastic_px >= 0 && elastic_px <= 64, "the elastic displacement must lie in [0, 64] px", elastic_px);
  check(elastic_cell_px >= 4 && elastic_cell_px <= 4096, "the elastic cell must lie in [4, 4096] px", elastic_cell_px);
  check(max_downsample >= 1 && max_downsample <= 8, "the downsampling factor must lie in [1, 8]", max_downsample);
  check(max_blur_sigma_px >= 0 && max_blur_sigma_px <= 10, "the blur sigma must lie in [0, 10] px", max_blur_sigma_px);
  check(intensity_sd_hu >= 0 && intensity_sd_hu <= 200, "the intensity sd must lie in [0, 200] HU", intensity_sd_hu);
  check(gamma_log_sd >= 0 && gamma_log_sd <= 2, "the gamma log sd must lie in [0, 2]", gamma_log_sd);
  check(bias_amplitude >= 0 && bias_amplitude < 1, "the bias amplitude must lie in [0, 1)", bias_amplitude);
  check(max_noise_sd_hu >= 0 && max_noise_sd_hu <= 500, "the noise sd must lie in [0, 500] HU", max_noise_sd_hu);
  check(probability >= 0 && probability <= 1, "the probability must lie in [0, 1]", probability);
  check(intensity_probability >= 0 && intensity_probability <= 1, "the intensity probability must lie in [0, 1]",
        intensity_probability);
}

DomainRandomization parse_domain_randomization(std::string_view text) {
  if (text == "all") return {};
  DomainRandomization r = DomainRandomization::none();
  if (text == "none") return r;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view name = text.substr(start, comma - start);
    const auto it = std::find(kParts.begin(), kParts.end(), name);
    if (it == kParts.end())
      throw OptionError(fmt::format("unknown domain randomisation part '{}' (expected all, none, or a list of: {})",
                                    name, fmt::join(kParts, ", ")));
    part(r, std::size_t(it - kParts.begin())) = true;
    start = comma + 1;
  }
  return r;
}

std::string domain_randomization_parts(const DomainRandomization& r) {
  DomainRandomization copy = r;
  std::vector<std::string_view> on;
  for (std::size_t i = 0; i < kParts.size(); ++i)
    if (part(copy, i)) on.push_back(kParts[i]);
  return on.empty() ? "none" : fmt::format("{}", fmt::join(on, ","));
}

void randomize_sample(TrainingSample& s, const DomainRandomization& o, const WindowOptions& window,
                      std::uint64_t seed) {
  const std::size_t voxels = std::size_t(std::max<std::int64_t>(0, 3 * s.height * s.width));
  if (s.height < 0 || s.width < 0 || s.image.size() != voxels || s.label.size() != voxels)
    throw Error(fmt::format("stage DomainRandomization, case {}: {} image and {} label values for 3 x {} x {}",
                            s.case_id, s.image.size(), s.label.size(), s.height, s.width));
  if (!o.any() || s.height < 2 || s.width < 2) return;
  window.validate();  // the HU-based parts divide by its width
  // Each part's stream starts with its chance, drawn whether or not the part is on.
  const auto draw = [&](Part p, bool enabled, double probability) {
    Draw d(seed, p);
    const bool go = d.chance(probability) && enabled;
    return std::pair{go, d};
  };

  if (auto [go, d] = draw(kCrop, o.crop, o.probability); go) crop(s, o, d);
  auto [zoom, zoom_draw] = draw(kScaling, o.scaling, o.probability);
  auto [deform, deform_draw] = draw(kElastic, o.elastic, o.probability);
  if (zoom || deform) reshape(s, o, zoom ? &zoom_draw : nullptr, deform ? &deform_draw : nullptr);

  if (auto [go, d] = draw(kIntensity, o.intensity, o.intensity_probability); go) transfer_curve(s.image, o, window, d);
  if (auto [go, d] = draw(kGamma, o.gamma, o.probability); go) {
    const float g = float(std::exp(o.gamma_log_sd * d.normal()));
    for (float& v : s.image) v = v <= 0.0f ? 0.0f : v >= 1.0f ? 1.0f : std::pow(v, g);
  }
  auto img = channels(s.image, s.height, s.width);
  if (auto [go, d] = draw(kBias, o.bias, o.probability); go) {
    const cv::Mat field = smooth_field(d, int(s.height), int(s.width), kBiasGrid, kBiasGrid) * o.bias_amplitude + 1.0;
    for (cv::Mat& c : img) cv::multiply(c, field, c);
  }
  if (auto [go, d] = draw(kResolution, o.resolution, o.probability); go) coarsen(img, o, d);
  if (auto [go, d] = draw(kBlur, o.blur, o.probability); go) {
    const double sigma = d.uniform(0, o.max_blur_sigma_px);
    if (sigma >= kMinBlurSigmaPx)
      for (cv::Mat& c : img) cv::GaussianBlur(c, c, cv::Size(0, 0), sigma, sigma, cv::BORDER_REFLECT);
  }
  if (auto [go, d] = draw(kNoise, o.noise, o.probability); go) {
    const double sd = d.uniform(0, o.max_noise_sd_hu) / double(window.upper_hu - window.lower_hu);
    add_noise(s.image, sd, d);
  }
  clip(s.image);
}

}  // namespace c2f
