#pragma once
// The messages the coarse-to-fine graph passes between its nodes: plain values that carry their
// identity (case, iteration, view) and hold big buffers as shared_ptr<const ...>, so that a fan-out
// copies nothing and no node changes what another one reads. They live beside the wirings
// because they speak of rounds and views, which the stages below know nothing of.
//
//   CaseInput   a case read, on the networks' grid, windowed: what every round of it reads
//   Round       one round to run (coarse t = 0 or fine t), its region
//   ViewRequest a region of a volume for TriPlanarInference; ViewMaps its three views' maps
//   FusedRound  a round with its three views fused; ThresholdedRound after Threshold
//   RoundResult S(t) pasted back, the round's record: to Convergence, the records' one owner
//   BoxFound    S(t)'s bounding box, on the way to CropWithFrame and the next round
//   CaseOutcome a case that stopped: its rounds, S(T) and the last fused map
#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../pipeline/case.hpp"
#include "../pipeline/scale.hpp"
#include "../pipeline/stage_time.hpp"
#include "../pipeline/volume.hpp"
#include "../stages/convergence.hpp"
#include "../stages/crop_with_frame.hpp"

namespace c2f {

// What a key_matching join pairs a round's parts by: its case and its iteration, any number of each.
struct RoundKey {
  std::size_t case_index = 0;
  int iteration = 0;
  bool operator==(const RoundKey&) const = default;
};
struct RoundKeyHash {
  std::size_t operator()(const RoundKey& k) const {
    return std::hash<std::size_t>{}(k.case_index) ^ (std::hash<int>{}(k.iteration) * 0x9e3779b97f4a7c15ull);
  }
};
struct RoundKeyHashCompare {  // oneTBB's key_matching interface
  std::size_t hash(const RoundKey& k) const { return RoundKeyHash{}(k); }
  bool equal(const RoundKey& a, const RoundKey& b) const { return a == b; }
};

// One case's busy seconds per stage. The account is the one thing the nodes of a case share and
// add to; its view branches run at once, hence the lock.
class CaseStageTimes {
 public:
  void add(const std::string& stage, double seconds) {
    std::lock_guard lock(m_);
    seconds_[stage] += seconds;
  }
  std::map<std::string, double> snapshot() const {
    std::lock_guard lock(m_);
    return seconds_;
  }

 private:
  mutable std::mutex m_;
  std::map<std::string, double> seconds_;
};

// A case on its way in: Load fills input, Resample the network grid's image, WindowNormalize the
// normalized volume. Copied from node to node; its buffers are shared and never changed.
struct CaseInput {
  std::size_t index = 0;
  StageClock::time_point start;
  Case input;                                   // image and label on the input's (canonical) grid
  bool resampled = false;                       // the rounds run on another grid than the input's
  std::shared_ptr<const Image> network_image;   // the input on the networks' grid
  std::shared_ptr<const Mask> network_label;    // the label there (the oracle box needs it)
  std::shared_ptr<const Volume<float>> normalized;
  std::int64_t label_voxels = 0;                // |G| on the input's grid, counted once for every round's DSC
  std::shared_ptr<CaseStageTimes> times = std::make_shared<CaseStageTimes>();

  // How errors name the case: its file, else its id, else its place in the cohort.
  std::string name() const {
    return !input.source.empty() ? input.source : !input.id.empty() ? input.id : "case " + std::to_string(index + 1);
  }
};
using CaseInputPtr = std::shared_ptr<const CaseInput>;

struct Round {
  CaseInputPtr input;
  int iteration = 0;  // 0: the coarse stage; the oracle round is 1
  Scale scale = Scale::Coarse;
  CropRegion region;  // on the networks' grid
  RoundKey key() const { return {input->index, iteration}; }
};

// TriPlanarInference's request: the networks of `scale` over `region` of `volume`, three views.
struct ViewRequest {
  RoundKey key;
  Scale scale = Scale::Coarse;
  Box3 region;
  std::shared_ptr<const Volume<float>> volume;
  std::shared_ptr<CaseStageTimes> times;  // where the subgraph's stages add the case's time
};

// Its answer: each view's map on the region's grid (kViews order), or the first error a stage of
// the request met (then maps may be empty).
struct ViewMaps {
  RoundKey key;
  std::array<std::shared_ptr<const ProbabilityMap>, 3> maps;
  std::string error;  // "the <stage> stage failed: <what>"
};

struct FusedRound {
  Round round;
  std::shared_ptr<const ProbabilityMap> fused;  // on the round's region
  std::array<double, 3> view_dsc{-1, -1, -1};   // the coarse views' own DSC (Table 1), with a label
};

// One round of the method as reported: the coarse stage (t = 0) or fine iteration t (the oracle
// round: t = 1). Region and box are on the grid the networks ran on (CaseResult::network_grid);
// DSCs are measured on the input's grid.
struct ThresholdedRound {
  FusedRound fused;
  std::shared_ptr<const Mask> region_mask;  // S(t) on the round's region
};

// A mask on a box of a grid and zero elsewhere: S(t) on the input's grid, where a fine round's
// region reaches a small part of a large input, and the rest need not be written until the end.
struct MaskInBox {
  Box3 box;
  std::shared_ptr<const Mask> mask;  // on the box's grid
  explicit operator bool() const { return mask != nullptr; }
  std::shared_ptr<const Mask> whole(const Geometry& grid) const {
    return box == Box3::whole(grid.dims) ? mask : std::make_shared<const Mask>(paste_back(*mask, box, grid, std::uint8_t{0}));
  }
};

struct RoundRecord {
  int iteration = 0;
  Box3 region;                 // where the networks looked (whole volume for the coarse stage)
  bool fallback_region = false;// S(t-1) was empty: the region is the whole volume
  std::int64_t voxels = 0;     // |S(t)|
  Box3 box;                    // bounding box of S(t); empty when S(t) is
  double d_t = -1;             // DSC(S(t-1), S(t)); -1 for the coarse round
  double dsc = -1;             // DSC(S(t), ground truth); -1 without a label
  double truth_in_box = -1;    // share of the truth inside S(t)'s bounding box (input grid); -1 without a label
  std::array<double, 3> view_dsc{-1, -1, -1};  // each view's own map >= threshold vs truth (kViews order)
};

struct RoundResult {
  Round round;
  RoundRecord record;                           // all but d_t, which Convergence adds
  std::shared_ptr<const Mask> mask;             // S(t) on the networks' full grid
  std::shared_ptr<const ProbabilityMap> fused;  // on the round's region
  MaskInBox on_input;                           // S(t) on the input's grid, when it was made (label, kept iterations)
};

struct BoxFound {
  CaseInputPtr input;
  int next_iteration = 1;
  Box3 box;  // of S(t-1), on the networks' grid
};

struct CaseOutcome {
  CaseInputPtr input;
  std::vector<RoundRecord> rounds;
  std::vector<std::shared_ptr<const Mask>> round_masks;  // S(t) on the input's grid per round, when kept
  RoundResult last;               // the round the case stopped at
  StopReason stop = StopReason::NotYet;
};

}  // namespace c2f
