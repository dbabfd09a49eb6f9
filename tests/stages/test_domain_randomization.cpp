#include <doctest/doctest.h>

#include <cmath>
#include <numeric>

#include "c2f/pipeline/errors.hpp"
#include "c2f/stages/domain_randomization.hpp"
#include "c2f/stages/training_sample.hpp"

using namespace c2f;

namespace {
// A 64 x 48 sample: background 0.2, a bright square (0.8) that is also the label, on all 3 slices.
TrainingSample square_sample() {
  TrainingSample s;
  s.height = 48;
  s.width = 64;
  s.image.assign(3 * 48 * 64, 0.2f);
  s.label.assign(3 * 48 * 64, 0.0f);
  for (int k = 0; k < 3; ++k)
    for (int y = 16; y < 32; ++y)
      for (int x = 24; x < 44; ++x) {
        s.image[std::size_t((k * 48 + y) * 64 + x)] = 0.8f;
        s.label[std::size_t((k * 48 + y) * 64 + x)] = 1.0f;
      }
  return s;
}

DomainRandomization only(const char* parts) {
  DomainRandomization r = parse_domain_randomization(parts);
  r.probability = 1;
  return r;
}
}  // namespace

TEST_CASE("without any part a sample is left as it is, bit for bit") {
  TrainingSample s = square_sample();
  const TrainingSample before = s;
  randomize_sample(s, DomainRandomization::none(), {}, 7);
  CHECK(s.image == before.image);
  CHECK(s.label == before.label);
}

TEST_CASE("the same seed gives the same bytes, another seed another sample") {
  DomainRandomization all;
  all.probability = 1;
  TrainingSample a = square_sample(), b = square_sample(), c = square_sample();
  randomize_sample(a, all, {}, 11);
  randomize_sample(b, all, {}, 11);
  randomize_sample(c, all, {}, 12);
  CHECK(a.image == b.image);
  CHECK(a.label == b.label);
  CHECK(a.image != c.image);
}

TEST_CASE("every part keeps images in [0, 1] and labels in {0, 1}") {
  DomainRandomization all;
  all.probability = 1;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    TrainingSample s = square_sample();
    randomize_sample(s, all, {}, seed);
    REQUIRE(s.image.size() == std::size_t(3 * s.height * s.width));
    REQUIRE(s.label.size() == s.image.size());
    for (float v : s.image) REQUIRE((v >= 0.0f && v <= 1.0f));
    for (float v : s.label) REQUIRE((v == 0.0f || v == 1.0f));
  }
}

TEST_CASE("geometric parts move image and label together") {
  for (const char* parts : {"scaling", "elastic", "crop", "scaling,elastic,crop"}) {
    CAPTURE(parts);
    for (std::uint64_t seed = 0; seed < 5; ++seed) {
      TrainingSample s = square_sample();
      randomize_sample(s, only(parts), {}, seed);
      double inside = 0, n = 0;
      for (std::size_t i = 0; i < s.label.size(); ++i)
        if (s.label[i] > 0.5f) inside += s.image[i], ++n;
      REQUIRE(n > 0);
      // Under the moved label the image is the moved square (0.8), but for edge interpolation.
      CHECK(inside / n > 0.7);
    }
  }
}

TEST_CASE("a random crop keeps the label's box whole when it fits") {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    TrainingSample s = square_sample();
    randomize_sample(s, only("crop"), {}, seed);
    CHECK(s.height <= 48);
    CHECK(s.width <= 64);
    CHECK(std::accumulate(s.label.begin(), s.label.end(), 0.0) == 3 * 16 * 20);
  }
}

TEST_CASE("the intensity curve keeps the order of the tissues") {
  // Fat (-100 HU -> 0), soft tissue, then enhanced tissue: the order survives any draw.
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    TrainingSample s = square_sample();
    s.image[0] = 0.1f;   // about -66 HU
    s.image[1] = 0.45f;  // about 53 HU
    s.image[2] = 0.7f;   // about 138 HU
    randomize_sample(s, only("intensity"), {}, seed);
    CHECK(s.image[0] <= s.image[1]);
    CHECK(s.image[1] <= s.image[2]);
  }
}

TEST_CASE("noise of the drawn size: a flat image's spread stays below the largest sd asked for") {
  DomainRandomization r = only("noise");
  r.max_noise_sd_hu = 34;  // 0.1 of the default 340 HU window
  double largest = 0;
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    TrainingSample s = square_sample();
    std::fill(s.image.begin(), s.image.end(), 0.5f);
    randomize_sample(s, r, {}, seed);
    double sum = 0, sq = 0;
    for (float v : s.image) sum += v, sq += double(v) * v;
    const double n = double(s.image.size()), sd = std::sqrt(sq / n - (sum / n) * (sum / n));
    CHECK(sd < 0.1 * 1.1);
    largest = std::max(largest, sd);
  }
  CHECK(largest > 0.03);  // some draw was large
}

TEST_CASE("parts are named on the command line; unknown names and bad magnitudes throw") {
  const DomainRandomization r = parse_domain_randomization("intensity,noise");
  CHECK(r.intensity);
  CHECK(r.noise);
  CHECK_FALSE(r.crop);
  CHECK_FALSE(r.elastic);
  CHECK(domain_randomization_parts(r) == "intensity,noise");
  CHECK(domain_randomization_parts(parse_domain_randomization("none")) == "none");
  CHECK(parse_domain_randomization("all").any());
  CHECK_THROWS_AS(parse_domain_randomization("intensity,colour"), OptionError);
  DomainRandomization bad;
  bad.max_noise_sd_hu = -1;
  CHECK_THROWS_AS(bad.validate(), OptionError);
  bad = {};
  bad.probability = 1.5;
  CHECK_THROWS_AS(bad.validate(), OptionError);
}
