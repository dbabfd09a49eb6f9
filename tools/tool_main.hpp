#pragma once
// The edge of every c2f executable: parse the command line, run, and turn any error into one
// line on stderr and a non-zero exit code (1: the work failed, 2: the command line is wrong).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>
#include <exception>
#include <functional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "../pipeline/errors.hpp"
#include "../pipeline/geometry.hpp"
#include "../stages/window.hpp"

namespace c2f {

inline int run_tool(CLI::App& app, int argc, char** argv, const std::function<int()>& body) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    fmt::print(stderr, "{}: error: {}\n", app.get_name(), e.what());
    return 2;
  }
  try {
    return body();
  } catch (const OptionError& e) {
    fmt::print(stderr, "{}: error: {}\n", app.get_name(), e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: error: {}\n", app.get_name(), e.what());
    return 1;
  }
}

// "512x512x250" -> {512, 512, 250}; throws OptionError.
inline Index3 parse_size(const std::string& text) {
  Index3 s{};
  char x1 = 0, x2 = 0;
  long long a = 0, b = 0, c = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%lld%c%lld%c%lld%n", &a, &x1, &b, &x2, &c, &consumed) != 5 || x1 != 'x' || x2 != 'x' ||
      consumed != int(text.size()))
    throw OptionError("size '" + text + "' is not of the form WxHxL (e.g. 128x128x64)");
  s = {a, b, c};
  return s;
}

// "-100,240" -> {-100, 240}; throws OptionError. The caller checks the window itself.
inline std::pair<float, float> parse_window(const std::string& text) {
  float lo = 0, hi = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%f,%f%n", &lo, &hi, &consumed) != 2 || consumed != int(text.size()))
    throw OptionError("window '" + text + "' is not of the form LOWER,UPPER (HU)");
  return {lo, hi};
}

// CLI11 checks whose errors name the option ("--stop-dsc: must lie in [0, 1], not 1.5"), so a
// value out of range is refused before anything runs, as the user typed it.
namespace cli {
inline CLI::Validator range(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (end == text.c_str() || *end != '\0') return "'" + text + "' is not a number";
        if (!(v >= lo && v <= hi))  // NaN fails too
          return std::isinf(hi) ? fmt::format("must be at least {}, not {}", lo, text)
                                : fmt::format("must lie in [{}, {}], not {}", lo, hi, text);
        return {};
      },
      "");
}
inline CLI::Validator at_least(double lo) { return range(lo, std::numeric_limits<double>::infinity()); }
inline CLI::Validator positive() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (end == text.c_str() || *end != '\0') return "'" + text + "' is not a number";
        return v > 0 && std::isfinite(v) ? std::string() : "must be a positive number, not " + text;
      },
      "");
}
// Runs c2f's own parser or check on the text; its error becomes the option's.
template <class F>
CLI::Validator parsed_by(F parse) {
  return CLI::Validator(
      [parse](std::string& text) -> std::string {
        try {
          parse(text);
          return {};
        } catch (const std::exception& e) {
          return e.what();
        }
      },
      "");
}
}  // namespace cli

// parse_window, then the window's own check (finite, lower below upper); throws OptionError.
inline std::pair<float, float> parse_checked_window(const std::string& text) {
  const auto [lo, hi] = parse_window(text);
  WindowOptions{lo, hi}.validate();
  return {lo, hi};
}

// A text progress bar: "#########..............."
inline std::string progress_bar(double fraction, int width = 24) {
  const int filled = std::clamp(int(fraction * width + 0.5), 0, width);
  return std::string(std::size_t(filled), '#') + std::string(std::size_t(width - filled), '.');
}

}  // namespace c2f
