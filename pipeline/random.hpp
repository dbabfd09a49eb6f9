#pragma once
// Portable randomness. std:: distributions differ between standard libraries, and c2f's phantoms,
// sample orders and crops must be the same everywhere for a seed, so they draw from splitmix64.
#include <cstdint>

namespace c2f {

// splitmix64's output function of x (Steele, Lea and Flood 2014): a bijective 64-bit mix.
inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace c2f
