#include "c2f/stages/domain_randomization.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <vector>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "c2f/pipeline/errors.hpp"
#include "c2f/pipeline/random.hpp"
#include "c2f/stages/training_sample.hpp"

namespace c2f {

namespace {
constexpr std::array<std::string_view, 9> kParts{"crop", "scaling", "elastic", "resolution", "blur",
                                                 "intensity", "gamma", "bias", "noise"};

bool& part(DomainRandomization& r, std::size_t i) {
  bool* flags[] = {&r.crop, &r.scaling, &r.elastic, &r.resolution, &r.blur, &r.intensity, &r.gamma, &r.bias, &r.noise};
  return *flags[i];
}

class Draw {
 public:
  explicit Draw(std::uint64_t seed) : state_(mix64(seed ^ 0xD0A1)) {}
  std::uint64_t next() { return mix64(state_++); }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal() {
    const double u1 = std::max(uniform(), 1e-300), u2 = uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
  }
  bool chance(double p) { return uniform() < p; }

 private:
  std::uint64_t state_;
};

// The sample's 3 channels as OpenCV images over its own buffers.
std::array<cv::Mat, 3> channels(std::vector<float>& data, std::int64_t h, std::int64_t w) {
  std::array<cv::Mat, 3> c;
  for (int k = 0; k < 3; ++k) c[std::size_t(k)] = cv::Mat(int(h), int(w), CV_32F, data.data() + std::size_t(k * h * w));
  return c;
}

// Applies a geometric warp to image (linear) and label (linear, then >= 0.5) channel by channel.
template <class Warp>
void warp_both(TrainingSample& s, Warp&& warp) {
  auto img = channels(s.image, s.height, s.width), lab = channels(s.label, s.height, s.width);
  for (int k = 0; k < 3; ++k) {
    cv::Mat out;
    warp(img[std::size_t(k)], out, cv::INTER_LINEAR);
    out.copyTo(img[std::size_t(k)]);
    warp(lab[std::size_t(k)], out, cv::INTER_LINEAR);
    cv::threshold(out, lab[std::size_t(k)], 0.5, 1.0, cv::THRESH_BINARY);
  }
}

// A smooth random field: a coarse grid of N(0, 1) values, cubic up to the sample's size.
cv::Mat smooth_field(Draw& d, int h, int w, int grid_h, int grid_w) {
  cv::Mat coarse(grid_h, grid_w, CV_32F);
  for (int y = 0; y < grid_h; ++y)
    for (int x = 0; x < grid_w; ++x) coarse.at<float>(y, x) = float(d.normal());
  cv::Mat field;
  cv::resize(coarse, field, cv::Size(w, h), 0, 0, cv::INTER_CUBIC);
  return field;
}

void crop(TrainingSample& s, const DomainRandomization& o, Draw& d) {
  const std::int64_t h = s.height, w = s.width;
  const std::int64_t ch = std::max<std::int64_t>(1, std::llround(double(h) * d.uniform(o.min_crop_share, 1.0)));
  const std::int64_t cw = std::max<std::int64_t>(1, std::llround(double(w) * d.uniform(o.min_crop_share, 1.0)));
  // The label's box, over the three channels.
  std::int64_t y0 = h, y1 = -1, x0 = w, x1 = -1;
  for (std::int64_t k = 0; k < 3; ++k)
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x)
        if (s.label[std::size_t((k * h + y) * w + x)] > 0.5f) {
          y0 = std::min(y0, y), y1 = std::max(y1, y), x0 = std::min(x0, x), x1 = std::max(x1, x);
        }
  const auto origin = [&](std::int64_t size, std::int64_t keep, std::int64_t lo, std::int64_t hi) {
    std::int64_t first = 0, last = size - keep;  // range of the crop's start
    if (hi >= lo && hi - lo + 1 <= keep) {     // the box fits: keep it whole
      first = std::max<std::int64_t>(0, hi + 1 - keep);
      last = std::min(last, lo);
    }
    return first + std::int64_t(d.uniform() * double(last - first + 1));
  };
  const std::int64_t oy = std::min(h - ch, origin(h, ch, y0, y1)), ox = std::min(w - cw, origin(w, cw, x0, x1));
  std::vector<float> image(std::size_t(3 * ch * cw)), label(image.size());
  for (std::int64_t k = 0; k < 3; ++k)
    for (std::int64_t y = 0; y < ch; ++y)
      for (std::int64_t x = 0; x < cw; ++x) {
        const std::size_t from = std::size_t((k * h + oy + y) * w + ox + x), to = std::size_t((k * ch + y) * cw + x);
        image[to] = s.image[from];
        label[to] = s.label[from];
      }
  s.image = std::move(image);
  s.label = std::move(label);
  s.height = ch;
  s.width = cw;
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
  const auto check = [](bool ok, const char* what) {
    if (!ok) throw OptionError(std::string("domain randomisation: ") + what);
  };
  check(min_crop_share > 0 && min_crop_share <= 1, "the crop share must lie in (0, 1]");
  check(max_scale_change >= 0 && max_scale_change < 0.9, "the scale change must lie in [0, 0.9)");
  check(elastic_px >= 0 && elastic_cell_px >= 4, "elastic: displacement >= 0 px on cells of >= 4 px");
  check(max_downsample >= 1 && max_downsample <= 8, "the downsampling factor must lie in [1, 8]");
  check(max_blur_sigma_px >= 0 && max_blur_sigma_px <= 10, "the blur sigma must lie in [0, 10] px");
  check(intensity_sd_hu >= 0 && intensity_sd_hu <= 200, "the intensity sd must lie in [0, 200] HU");
  check(gamma_log_sd >= 0 && gamma_log_sd <= 2, "the gamma log sd must lie in [0, 2]");
  check(bias_amplitude >= 0 && bias_amplitude < 1, "the bias amplitude must lie in [0, 1)");
  check(max_noise_sd_hu >= 0 && max_noise_sd_hu <= 500, "the noise sd must lie in [0, 500] HU");
  check(probability >= 0 && probability <= 1, "the probability must lie in [0, 1]");
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
      throw OptionError(fmt::format("unknown domain randomisation part '{}' (expected all, none, or a list of: {})", name,
                                    fmt::join(kParts, ", ")));
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

void randomize_sample(TrainingSample& s, const DomainRandomization& o, const WindowOptions& window, std::uint64_t seed) {
  if (!o.any() || s.height < 2 || s.width < 2) return;
  Draw d(seed);
  const auto use = [&](bool enabled, double p) { return d.chance(p) && enabled; };  // always one draw: stable streams
  const double p = o.probability;

  if (use(o.crop, p)) crop(s, o, d);
  const int h = int(s.height), w = int(s.width);
  const cv::Point2f centre(0.5f * float(w - 1), 0.5f * float(h - 1));
  if (use(o.scaling, p)) {
    const double f = d.uniform(1 - o.max_scale_change, 1 + o.max_scale_change);
    const cv::Mat m = cv::getRotationMatrix2D(centre, 0, f);
    warp_both(s, [&](const cv::Mat& in, cv::Mat& out, int how) {
      cv::warpAffine(in, out, m, in.size(), how, cv::BORDER_CONSTANT, 0);
    });
  }
  if (use(o.elastic, p)) {
    const int gh = std::max(2, int(std::ceil(h / o.elastic_cell_px)) + 1), gw = std::max(2, int(std::ceil(w / o.elastic_cell_px)) + 1);
    cv::Mat dx = smooth_field(d, h, w, gh, gw) * o.elastic_px, dy = smooth_field(d, h, w, gh, gw) * o.elastic_px;
    cv::Mat map_x(h, w, CV_32F), map_y(h, w, CV_32F);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        map_x.at<float>(y, x) = float(x) + dx.at<float>(y, x);
        map_y.at<float>(y, x) = float(y) + dy.at<float>(y, x);
      }
    warp_both(s, [&](const cv::Mat& in, cv::Mat& out, int how) {
      cv::remap(in, out, map_x, map_y, how, cv::BORDER_CONSTANT, 0);
    });
  }

  auto img = channels(s.image, s.height, s.width);
  if (use(o.resolution, p)) {
    const int axes = int(d.uniform(0, 2.999));  // 0: x, 1: y, 2: both
    const double f = d.uniform(1, o.max_downsample);
    const int sw = axes == 1 ? w : std::max(1, int(std::lround(w / f))), sh = axes == 0 ? h : std::max(1, int(std::lround(h / f)));
    for (cv::Mat& c : img) {
      cv::Mat small, back;
      cv::resize(c, small, cv::Size(sw, sh), 0, 0, cv::INTER_AREA);
      cv::resize(small, back, c.size(), 0, 0, cv::INTER_LINEAR);
      back.copyTo(c);
    }
  }
  if (use(o.blur, p)) {
    const double sigma = d.uniform(0.05, std::max(0.05, o.max_blur_sigma_px));
    for (cv::Mat& c : img) cv::GaussianBlur(c, c, cv::Size(0, 0), sigma);
  }
  const double lo = window.lower_hu, hi = window.upper_hu, span = hi - lo;
  if (use(o.intensity, std::max(p, 0.8))) {
    // Knots at the HU bands inside the window, each moved; kept monotone.
    std::vector<double> from{lo}, to;
    for (double k : {-100.0, -30.0, 20.0, 60.0, 120.0, 200.0})
      if (k > lo + 1 && k < hi - 1) from.push_back(k);
    from.push_back(hi);
    for (double k : from) to.push_back(k + o.intensity_sd_hu * d.normal());
    for (std::size_t i = 1; i < to.size(); ++i) to[i] = std::max(to[i], to[i - 1]);
    for (float& v : s.image) {
      const double hu = lo + double(v) * span;
      const std::size_t i = std::min<std::size_t>(from.size() - 2,
                                                  std::size_t(std::upper_bound(from.begin(), from.end(), hu) - from.begin()) - 1);
      const double t = std::clamp((hu - from[i]) / (from[i + 1] - from[i]), 0.0, 1.0);
      v = float((to[i] + t * (to[i + 1] - to[i]) - lo) / span);
    }
  }
  for (float& v : s.image) v = std::clamp(v, 0.0f, 1.0f);
  if (use(o.gamma, p)) {
    const double g = std::exp(o.gamma_log_sd * d.normal());
    for (float& v : s.image) v = float(std::pow(double(v), g));
  }
  if (use(o.bias, p)) {
    const cv::Mat field = smooth_field(d, h, w, 4, 4) * o.bias_amplitude + 1.0;
    for (cv::Mat& c : img) cv::multiply(c, field, c);
  }
  if (use(o.noise, p)) {
    const double sd = d.uniform(0, o.max_noise_sd_hu) / span;
    cv::RNG rng(d.next());
    for (cv::Mat& c : img) {
      cv::Mat n(c.size(), CV_32F);
      rng.fill(n, cv::RNG::NORMAL, 0.0, sd);
      c += n;
    }
  }
  for (float& v : s.image) v = std::clamp(v, 0.0f, 1.0f);
}

}  // namespace c2f
