#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <thread>
#include <vector>

#include "../../pipeline/errors.hpp"
#include "../../training/domain_randomization.hpp"
#include "../../training/training_sample.hpp"

using namespace c2f;

namespace {
// A 64 x 48 sample: background 0.2, a bright square (0.8) that is also the label, on all 3 slices.
TrainingSample square_sample(int x0 = 24, int x1 = 44, int y0 = 16, int y1 = 32) {
  TrainingSample s;
  s.height = 48;
  s.width = 64;
  s.image.assign(3 * 48 * 64, 0.2f);
  s.label.assign(3 * 48 * 64, 0.0f);
  for (int k = 0; k < 3; ++k)
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) {
        s.image[std::size_t((k * 48 + y) * 64 + x)] = 0.8f;
        s.label[std::size_t((k * 48 + y) * 64 + x)] = 1.0f;
      }
  return s;
}

TrainingSample flat_sample(float value) {
  TrainingSample s = square_sample();
  std::fill(s.image.begin(), s.image.end(), value);
  return s;
}

DomainRandomization only(const char* parts) {
  DomainRandomization r = parse_domain_randomization(parts);
  r.probability = 1;
  r.intensity_probability = 1;
  return r;
}

DomainRandomization everything() { return only("all"); }

double spread(const std::vector<float>& v) {
  double sum = 0, sq = 0;
  for (float x : v) sum += x, sq += double(x) * x;
  const double n = double(v.size());
  return std::sqrt(std::max(0.0, sq / n - (sum / n) * (sum / n)));
}
}  // namespace

TEST_CASE("without any part a sample is left as it is, bit for bit") {
  TrainingSample s = square_sample();
  const TrainingSample before = s;
  randomize_sample(s, DomainRandomization::none(), {}, 7);
  CHECK(s.height == before.height);
  CHECK(s.width == before.width);
  CHECK(s.image == before.image);
  CHECK(s.label == before.label);
}

TEST_CASE("with every part on but probability 0 a sample is left as it is") {
  DomainRandomization r;
  r.probability = 0;
  r.intensity_probability = 0;
  TrainingSample s = square_sample();
  const TrainingSample before = s;
  randomize_sample(s, r, {}, 7);
  CHECK(s.image == before.image);
  CHECK(s.label == before.label);
}

TEST_CASE("the same seed gives the same bytes, another seed another sample") {
  TrainingSample a = square_sample(), b = square_sample(), c = square_sample();
  randomize_sample(a, everything(), {}, 11);
  randomize_sample(b, everything(), {}, 11);
  randomize_sample(c, everything(), {}, 12);
  CHECK(a.height == b.height);
  CHECK(a.width == b.width);
  CHECK(a.image == b.image);
  CHECK(a.label == b.label);
  CHECK(a.image != c.image);
}

TEST_CASE("samples randomised on several threads at once equal those randomised on one") {
  constexpr std::uint64_t kSamples = 16;
  std::vector<TrainingSample> serial(kSamples, square_sample()), parallel(kSamples, square_sample());
  for (std::uint64_t i = 0; i < kSamples; ++i) randomize_sample(serial[i], everything(), {}, 100 + i);
  std::vector<std::thread> threads;
  for (std::uint64_t t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (std::uint64_t i = t; i < kSamples; i += 4) randomize_sample(parallel[i], everything(), {}, 100 + i);
    });
  for (auto& t : threads) t.join();
  for (std::uint64_t i = 0; i < kSamples; ++i) {
    CAPTURE(i);
    CHECK(serial[i].image == parallel[i].image);
    CHECK(serial[i].label == parallel[i].label);
  }
}

TEST_CASE("switching one part off leaves the other parts' draws as they were") {
  // On a flat white image gamma changes nothing (1^g = 1), so with and without it the noise is the same.
  TrainingSample a = flat_sample(1.0f), b = flat_sample(1.0f);
  randomize_sample(a, only("gamma,noise"), {}, 5);
  randomize_sample(b, only("noise"), {}, 5);
  CHECK(a.image == b.image);
  CHECK(a.image != flat_sample(1.0f).image);
}

TEST_CASE("every part keeps images in [0, 1] and labels in {0, 1}") {
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    TrainingSample s = square_sample();
    randomize_sample(s, everything(), {}, seed);
    REQUIRE(s.image.size() == std::size_t(3 * s.height * s.width));
    REQUIRE(s.label.size() == s.image.size());
    for (float v : s.image) REQUIRE((v >= 0.0f && v <= 1.0f));
    for (float v : s.label) REQUIRE((v == 0.0f || v == 1.0f));
  }
}

TEST_CASE("geometric parts move image and label together") {
  for (const char* parts : {"scaling", "elastic", "crop", "crop,scaling,elastic"}) {
    CAPTURE(parts);
    for (std::uint64_t seed = 0; seed < 10; ++seed) {
      TrainingSample s = square_sample();
      randomize_sample(s, only(parts), {}, seed);
      double inside = 0, n = 0, outside = 0, m = 0;
      for (std::size_t i = 0; i < s.label.size(); ++i)
        if (s.label[i] > 0.5f)
          inside += s.image[i], ++n;
        else
          outside += s.image[i], ++m;
      REQUIRE(n > 0);
      // Under the moved label the image is the moved square (0.8) but for interpolated edges;
      // off it the background (0.2, or 0 where the old field of view ends).
      CHECK(inside / n > 0.7);
      CHECK(outside / m < 0.3);
    }
  }
}

TEST_CASE("scaling and elastic keep the sample's size, crop shrinks it to at least the least share") {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    TrainingSample s = square_sample();
    randomize_sample(s, only("scaling,elastic"), {}, seed);
    CHECK(s.height == 48);
    CHECK(s.width == 64);
    TrainingSample c = square_sample();
    randomize_sample(c, only("crop"), {}, seed);
    CHECK(c.height >= std::llround(0.6 * 48));
    CHECK(c.width >= std::llround(0.6 * 64));
  }
}

TEST_CASE("a random crop keeps the label's box whole, even when the box is wider than the least share") {
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    TrainingSample s = square_sample();
    randomize_sample(s, only("crop"), {}, seed);
    CHECK(s.height <= 48);
    CHECK(s.width <= 64);
    CHECK(std::accumulate(s.label.begin(), s.label.end(), 0.0) == 3 * 16 * 20);
    // The kept part is the same picture: image and label cropped alike.
    for (std::size_t i = 0; i < s.label.size(); ++i) REQUIRE(s.image[i] == (s.label[i] > 0.5f ? 0.8f : 0.2f));
  }
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    TrainingSample s = square_sample(4, 60, 2, 46);  // 56 of 64 columns, 44 of 48 rows
    randomize_sample(s, only("crop"), {}, seed);
    CHECK(std::accumulate(s.label.begin(), s.label.end(), 0.0) == 3 * 56 * 44);
  }
}

TEST_CASE("the intensity curve keeps the order of the tissues") {
  // A ramp over the whole window, -100 to 240 HU: after any draw it still does not decrease.
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    TrainingSample s = square_sample();
    for (std::size_t i = 0; i < s.image.size(); ++i) s.image[i] = float(i) / float(s.image.size() - 1);
    randomize_sample(s, only("intensity"), {}, seed);
    CAPTURE(seed);
    CHECK(std::is_sorted(s.image.begin(), s.image.end()));
    // Bands move but never merge: fat (-66 HU), soft tissue (53 HU) and enhanced tissue (138 HU) stay apart.
    TrainingSample t = square_sample();
    t.image[0] = 0.1f, t.image[1] = 0.45f, t.image[2] = 0.7f;
    randomize_sample(t, only("intensity"), {}, seed);
    CHECK(t.image[0] <= t.image[1]);
    CHECK(t.image[1] <= t.image[2]);
    CHECK(t.image[0] < t.image[2]);
  }
}

TEST_CASE("the intensity curve moves soft tissue by about the sd asked for") {
  // Soft tissue at 40 HU sits on a knot, so its shift is N(0, 20 HU) but for the monotone fix:
  // over 200 draws the shifts' sd lies within 20 % of 20 HU.
  const float soft = float((40.0 + 100.0) / 340.0);
  double sq = 0;
  constexpr int kDraws = 200;
  for (std::uint64_t seed = 0; seed < kDraws; ++seed) {
    TrainingSample s = flat_sample(soft);
    randomize_sample(s, only("intensity"), {}, seed);
    const double shift_hu = (double(s.image[0]) - soft) * 340.0;
    sq += shift_hu * shift_hu;
  }
  CHECK(std::sqrt(sq / kDraws) == doctest::Approx(20.0).epsilon(0.2));
}

TEST_CASE("noise on a flat image has the drawn sd: at most the largest asked for, uniform below it") {
  DomainRandomization r = only("noise");
  r.max_noise_sd_hu = 34;  // 0.1 of the default 340 HU window
  constexpr double kMaxSd = 0.1;
  constexpr int kDraws = 60;
  double sum = 0, largest = 0;
  for (std::uint64_t seed = 0; seed < kDraws; ++seed) {
    TrainingSample s = flat_sample(0.5f);  // 5 sd from either clip
    randomize_sample(s, r, {}, seed);
    const double sd = spread(s.image);
    CHECK(sd <= kMaxSd * 1.03);  // 9216 values: the measured sd is within ~1 % of the drawn one
    sum += sd;
    largest = std::max(largest, sd);
  }
  // sd ~ U(0, 0.1): mean 0.05 with a standard error of 0.1 / sqrt(12 * 60) = 0.0037.
  CHECK(sum / kDraws == doctest::Approx(0.05).epsilon(0.2));
  CHECK(largest > 0.09);
}

TEST_CASE("the bias field stays within 1 +- its amplitude and gamma keeps 0 and 1") {
  DomainRandomization r = only("bias");
  r.bias_amplitude = 0.2;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    TrainingSample s = flat_sample(0.5f);
    randomize_sample(s, r, {}, seed);
    const auto [lo, hi] = std::minmax_element(s.image.begin(), s.image.end());
    CHECK(*lo >= 0.5f * 0.8f - 1e-6f);
    CHECK(*hi <= 0.5f * 1.2f + 1e-6f);
    CHECK(*hi - *lo > 0.0f);
    TrainingSample g = square_sample();
    g.image[0] = 0.0f, g.image[1] = 1.0f;
    randomize_sample(g, only("gamma"), {}, seed);
    CHECK(g.image[0] == 0.0f);
    CHECK(g.image[1] == 1.0f);
  }
}

TEST_CASE("resolution and blur soften an edge but keep the flat parts") {
  for (const char* parts : {"resolution", "blur"}) {
    CAPTURE(parts);
    DomainRandomization r = only(parts);
    r.max_blur_sigma_px = 2;
    r.max_downsample = 4;
    bool softened = false;
    for (std::uint64_t seed = 0; seed < 10; ++seed) {
      TrainingSample s = square_sample();
      randomize_sample(s, r, {}, seed);
      CHECK(s.image[0] == doctest::Approx(0.2f));                                        // corner, far from the square
      CHECK(s.image[std::size_t(24 * 64 + 34)] == doctest::Approx(0.8f).epsilon(0.02));  // its centre
      softened |= s.image != square_sample().image;
    }
    CHECK(softened);
  }
}

TEST_CASE("parts are named on the command line, unknown names and bad magnitudes throw") {
  const DomainRandomization r = parse_domain_randomization("intensity,noise");
  for (const char* name : {"crop", "scaling", "elastic", "resolution", "blur", "gamma", "bias"}) {
    CAPTURE(name);
    CHECK(domain_randomization_parts(r).find(name) == std::string::npos);
  }
  CHECK(r.intensity);
  CHECK(r.noise);
  CHECK_FALSE(r.crop);
  CHECK_FALSE(r.elastic);
  CHECK(domain_randomization_parts(r) == "intensity,noise");
  CHECK(domain_randomization_parts(parse_domain_randomization("none")) == "none");
  CHECK(domain_randomization_parts(parse_domain_randomization("all")) ==
        "crop,scaling,elastic,resolution,blur,intensity,gamma,bias,noise");
  CHECK(domain_randomization_parts(parse_domain_randomization("noise,crop")) == "crop,noise");
  CHECK_FALSE(DomainRandomization::none().any());
  CHECK_THROWS_AS(parse_domain_randomization("intensity,colour"), OptionError);
  CHECK_THROWS_AS(parse_domain_randomization(""), OptionError);
  CHECK_THROWS_AS(parse_domain_randomization("noise,"), OptionError);
  CHECK_NOTHROW(DomainRandomization{}.validate());
  CHECK_NOTHROW(DomainRandomization::none().validate());
  const auto throws = [](auto set) {
    DomainRandomization bad;
    set(bad);
    CHECK_THROWS_AS(bad.validate(), OptionError);
  };
  throws([](DomainRandomization& b) { b.max_noise_sd_hu = -1; });
  throws([](DomainRandomization& b) { b.intensity_sd_hu = -5; });
  throws([](DomainRandomization& b) { b.elastic_px = -1; });
  throws([](DomainRandomization& b) { b.max_blur_sigma_px = -0.1; });
  throws([](DomainRandomization& b) { b.bias_amplitude = -0.1; });
  throws([](DomainRandomization& b) { b.gamma_log_sd = -0.1; });
  throws([](DomainRandomization& b) { b.max_scale_change = -0.1; });
  throws([](DomainRandomization& b) { b.max_downsample = 0.5; });
  throws([](DomainRandomization& b) { b.min_crop_share = 0; });
  throws([](DomainRandomization& b) { b.probability = 1.5; });
  throws([](DomainRandomization& b) { b.intensity_probability = -0.1; });
  throws([](DomainRandomization& b) { b.intensity_sd_hu = std::numeric_limits<double>::quiet_NaN(); });
}

TEST_CASE("a sample whose arrays do not match its size is refused") {
  TrainingSample s = square_sample();
  s.image.pop_back();
  CHECK_THROWS_AS(randomize_sample(s, everything(), {}, 1), Error);
}
