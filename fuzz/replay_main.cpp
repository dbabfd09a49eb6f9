// Runs a fuzz target's LLVMFuzzerTestOneInput on files, without libFuzzer: how every input a
// fuzzing run once crashed on (tests/data/fuzz-regressions/<target>/) is replayed by ctest in the
// ordinary build. Arguments are files or folders (every file in them); an input that crashes
// the reader fails the run as it did under the fuzzer.
//
// With --mutate-for SECONDS it is a blind mutation fuzzer instead: random byte flips, inserts,
// deletions and truncations of the given inputs, for targets libFuzzer cannot build (the
// checkpoint loader: clang 14 does not compile LibTorch 1.13's headers as C++20). No coverage
// guidance; each input is written to ./mutant before it runs, so a crash leaves it there.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {
std::vector<char> read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void mutate(std::vector<char>& b, std::mt19937_64& rng) {
  const auto pick = [&](std::size_t n) { return n == 0 ? std::size_t(0) : std::size_t(rng() % n); };
  const int edits = 1 + int(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 5) {
      case 0:  // flip a bit
        if (!b.empty()) b[pick(b.size())] ^= char(1 << (rng() % 8));
        break;
      case 1: {  // an interesting value
        static const unsigned char values[] = {0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe};
        if (!b.empty()) b[pick(b.size())] = char(values[rng() % sizeof values]);
        break;
      }
      case 2:  // truncate
        b.resize(pick(b.size() + 1));
        break;
      case 3: {  // delete a run
        if (b.empty()) break;
        const std::size_t at = pick(b.size()), n = std::min(b.size() - at, 1 + pick(64));
        b.erase(b.begin() + std::ptrdiff_t(at), b.begin() + std::ptrdiff_t(at + n));
        break;
      }
      default: {  // duplicate a run
        if (b.empty()) break;
        const std::size_t at = pick(b.size()), n = std::min(b.size() - at, 1 + pick(64));
        std::vector<char> run(b.begin() + std::ptrdiff_t(at), b.begin() + std::ptrdiff_t(at + n));
        b.insert(b.begin() + std::ptrdiff_t(pick(b.size())), run.begin(), run.end());
      }
    }
  }
}

// Each input is written to ./mutant before it runs, so a crash leaves it behind.
int mutation_fuzz(const std::vector<std::filesystem::path>& seeds, double seconds, std::uint64_t seed) {
  std::vector<std::vector<char>> corpus;
  for (const auto& p : seeds) corpus.push_back(read_all(p));
  std::mt19937_64 rng(seed);
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t runs = 0;
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds) {
    std::vector<char> b = corpus[rng() % corpus.size()];
    mutate(b, rng);
    {
      std::ofstream out("mutant", std::ios::binary | std::ios::trunc);
      out.write(b.data(), std::streamsize(b.size()));
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
    ++runs;
  }
  std::remove("mutant");
  std::printf("stat::number_of_executed_units: %zu\nseconds: %.0f\n", runs, seconds);
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> inputs;
  double mutate_for = 0;
  int first = 1;
  if (argc > 2 && std::strcmp(argv[1], "--mutate-for") == 0) {
    mutate_for = std::atof(argv[2]);
    first = 3;
  }
  for (int i = first; i < argc; ++i) {
    const fs::path arg(argv[i]);
    if (fs::is_directory(arg)) {
      for (const auto& e : fs::recursive_directory_iterator(arg))
        if (e.is_regular_file() && e.path().filename().string().front() != '.') inputs.push_back(e.path());
    } else if (fs::is_regular_file(arg)) {
      inputs.push_back(arg);
    } else {
      std::fprintf(stderr, "replay: %s: no such file or folder\n", argv[i]);
      return 2;
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "replay: no inputs given\n");
    return 2;
  }
  if (mutate_for > 0) return mutation_fuzz(inputs, mutate_for, 20261125);
  for (const auto& p : inputs) {
    const std::vector<char> bytes = read_all(p);
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", p.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::fprintf(stderr, "replay: %zu inputs, no crash\n", inputs.size());
  return 0;
}
