#include "phantom.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "anatomy.hpp"
#include "../pipeline/errors.hpp"
#include "../pipeline/random.hpp"

namespace c2f {

ContrastPhase parse_phase(std::string_view name) {
  if (name == "native") return ContrastPhase::Native;
  if (name == "portal-venous" || name == "portal" || name == "pv") return ContrastPhase::PortalVenous;
  if (name == "arterial") return ContrastPhase::Arterial;
  throw OptionError("unknown contrast phase '" + std::string(name) + "' (expected native, arterial or portal-venous)");
}

const char* phase_name(ContrastPhase p) {
  return p == ContrastPhase::Native ? "native" : p == ContrastPhase::Arterial ? "arterial" : "portal-venous";
}

void PhantomOptions::validate() const {
  for (int a = 0; a < 3; ++a)
    if (size[a] < 8 || size[a] > 2048)
      throw OptionError(fmt::format("phantom size {}x{}x{}: each dimension must be in [8, 2048]", size[0], size[1], size[2]));
  if (fov_mm != 0 && (fov_mm < 250 || fov_mm > 600)) throw OptionError("phantom field of view must be in [250, 600] mm");
  if (extent_z_mm != 0 && (extent_z_mm < 100 || extent_z_mm > 500))
    throw OptionError("phantom cranio-caudal extent must be in [100, 500] mm");
  if (!(noise_scale >= 0 && noise_scale <= 10)) throw OptionError("phantom noise scale must be in [0, 10]");
  if (!anatomy_set.empty() && !is_anatomy_set(anatomy_set))
    throw OptionError("unknown label-map set '" + anatomy_set + "' (expected flare22, word or totalseg)");
  for (double s : spacing_mm)
    if (!(s == 0 || (s >= 0.3 && s <= 6)))
      throw OptionError(fmt::format("phantom spacing {}x{}x{} mm: each axis 0 (drawn per case) or in [0.3, 6] mm",
                                    spacing_mm[0], spacing_mm[1], spacing_mm[2]));
}

namespace {

// ---- randomness: portable (pipeline/random.hpp) ---------------------------------------------
std::uint64_t mix(std::uint64_t x) { return mix64(x); }

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(mix(seed)) {}
  std::uint64_t next() { return mix(state_++); }
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

// Smooth value noise in [-1, 1], cell in mm.
double lattice(std::int64_t x, std::int64_t y, std::int64_t z, std::uint64_t seed) {
  const std::uint64_t h = mix(seed ^ mix(std::uint64_t(x) * 0x8DA6B343ULL ^ mix(std::uint64_t(y) * 0xD8163841ULL ^
                                                                                   std::uint64_t(z) * 0xCB1AB31FULL)));
  return double(h >> 11) * 0x1.0p-52 - 1.0;
}

double value_noise(const Vec3& p, double cell, std::uint64_t seed) {
  double f[3];
  std::int64_t i[3];
  for (int a = 0; a < 3; ++a) {
    const double q = p[a] / cell;
    i[a] = std::int64_t(std::floor(q));
    const double t = q - double(i[a]);
    f[a] = t * t * (3 - 2 * t);
  }
  double v = 0;
  for (int dz = 0; dz < 2; ++dz)
    for (int dy = 0; dy < 2; ++dy)
      for (int dx = 0; dx < 2; ++dx)
        v += (dx ? f[0] : 1 - f[0]) * (dy ? f[1] : 1 - f[1]) * (dz ? f[2] : 1 - f[2]) *
             lattice(i[0] + dx, i[1] + dy, i[2] + dz, seed);
  return v;
}

// ---- shapes ---------------------------------------------------------------------------------
struct Aabb {
  Vec3 lo{1e9, 1e9, 1e9}, hi{-1e9, -1e9, -1e9};
  void add(const Vec3& p, double r) {
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::min(lo[a], p[a] - r);
      hi[a] = std::max(hi[a], p[a] + r);
    }
  }
  bool has_z(double z) const { return z >= lo[2] && z <= hi[2]; }
  bool has_y(double y) const { return y >= lo[1] && y <= hi[1]; }
  bool has_x(double x) const { return x >= lo[0] && x <= hi[0]; }
};

// An ellipsoid rotated about z by angle, its surface displaced by smooth noise (wobble = share
// of the radius).
struct Ellipsoid {
  Vec3 c{}, r{1, 1, 1};
  double angle = 0, wobble = 0;
  std::uint64_t seed = 0;
  Aabb box;
  void finish() { box.add(c, std::max({r[0], r[1], r[2]}) * (1 + wobble)); }
  // Normalised radius: < 1 inside. shrink_mm > 0 tests a shell's inner surface.
  double level(const Vec3& p, double shrink_mm = 0) const {
    const double dx = p[0] - c[0], dy = p[1] - c[1], dz = p[2] - c[2];
    const double ca = std::cos(angle), sa = std::sin(angle);
    const double u = (ca * dx + sa * dy) / std::max(1.0, r[0] - shrink_mm);
    const double v = (-sa * dx + ca * dy) / std::max(1.0, r[1] - shrink_mm);
    const double w = dz / std::max(1.0, r[2] - shrink_mm);
    double q = std::sqrt(u * u + v * v + w * w);
    if (wobble > 0 && q > 1 - 2 * wobble && q < 1 + 2 * wobble) q /= 1 + wobble * value_noise(p, 14, seed);
    return q;
  }
};

// A tube along a polyline with varying radius; squash_y > 1 flattens it front to back.
struct Tube {
  std::vector<Vec3> pts;
  std::vector<double> radius;
  double squash_y = 1, wobble = 0, wobble_cell_mm = 6;
  std::uint64_t seed = 0;
  Aabb box;
  // Per segment, in the squashed frame: its box grown by (1 + 2 wobble) times its larger radius.
  // A point outside lies beyond the level where wobble acts (level > 1 + 2 wobble), so skipping
  // the segment changes no level that is compared with 1 (a speed-up, exact where it matters).
  std::vector<Aabb> segment_box;
  void finish() {
    for (std::size_t i = 0; i < pts.size(); ++i) box.add(pts[i], radius[i] * (1 + wobble) * std::max(1.0, squash_y));
    segment_box.assign(pts.size() - 1, Aabb{});
    for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
      const double r = std::max(radius[i], radius[i + 1]) * (1 + 2 * wobble) + 0.01;
      for (const Vec3& q : {pts[i], pts[i + 1]}) segment_box[i].add({q[0], q[1] * squash_y, q[2]}, r);
    }
  }
  // Normalised distance to the centre line (< 1 inside); t_out: where along the line (0..1).
  double level(const Vec3& p, double shrink_mm = 0, double* t_out = nullptr) const {
    double best = 1e30, best_t = 0;
    const double n = double(pts.size() - 1);
    const bool cull = segment_box.size() + 1 == pts.size() && shrink_mm >= 0;
    for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
      if (cull) {
        const Aabb& sb = segment_box[i];
        const double py = p[1] * squash_y;
        if (p[0] < sb.lo[0] || p[0] > sb.hi[0] || py < sb.lo[1] || py > sb.hi[1] || p[2] < sb.lo[2] || p[2] > sb.hi[2]) continue;
      }
      const Vec3& a = pts[i];
      const Vec3& b = pts[i + 1];
      const double ex = b[0] - a[0], ey = (b[1] - a[1]) * squash_y, ez = b[2] - a[2];
      const double px = p[0] - a[0], py = (p[1] - a[1]) * squash_y, pz = p[2] - a[2];
      const double len2 = ex * ex + ey * ey + ez * ez;
      double t = len2 > 0 ? (px * ex + py * ey + pz * ez) / len2 : 0;
      t = std::clamp(t, 0.0, 1.0);
      const double dx = px - t * ex, dy = py - t * ey, dz = pz - t * ez;
      const double r = std::max(0.5, radius[i] + t * (radius[i + 1] - radius[i]) - shrink_mm);
      const double q = std::sqrt(dx * dx + dy * dy + dz * dz) / r;
      if (q < best) {
        best = q;
        best_t = (double(i) + t) / n;
      }
    }
    if (wobble > 0 && best > 1 - 2 * wobble && best < 1 + 2 * wobble) best /= 1 + wobble * value_noise(p, wobble_cell_mm, seed);
    if (t_out) *t_out = best_t;
    return best;
  }
};

// Catmull-Rom through control points, `per` samples per span.
void spline(const std::vector<Vec3>& c, const std::vector<double>& rc, int per, std::vector<Vec3>& pts,
            std::vector<double>& rad) {
  pts.clear();
  rad.clear();
  const int n = int(c.size());
  for (int i = 0; i + 1 < n; ++i) {
    const Vec3& p0 = c[std::max(0, i - 1)];
    const Vec3& p1 = c[i];
    const Vec3& p2 = c[i + 1];
    const Vec3& p3 = c[std::min(n - 1, i + 2)];
    for (int s = 0; s < per; ++s) {
      const double t = double(s) / per, t2 = t * t, t3 = t2 * t;
      Vec3 q;
      for (int a = 0; a < 3; ++a)
        q[a] = 0.5 * (2 * p1[a] + (-p0[a] + p2[a]) * t + (2 * p0[a] - 5 * p1[a] + 4 * p2[a] - p3[a]) * t2 +
                      (-p0[a] + 3 * p1[a] - 3 * p2[a] + p3[a]) * t3);
      pts.push_back(q);
      rad.push_back(rc[i] + (rc[i + 1] - rc[i]) * t);
    }
  }
  pts.push_back(c.back());
  rad.push_back(rc.back());
}

Tube make_tube(const std::vector<Vec3>& control, const std::vector<double>& radii, int per = 6) {
  Tube t;
  spline(control, radii, per, t.pts, t.radius);
  return t;
}

// ---- tissue intensities ---------------------------------------------------------------------
// Internal tissue classes (finer than the tissue map: walls, lumens, gas).
enum Cls : std::uint8_t {
  kAir, kSubFat, kVisFat, kMuscle, kCortical, kCancellous, kDisc, kCsf, kLung, kLiver, kGallbladder, kSpleen,
  kKidCortex, kKidMedulla, kKidPelvis, kStomachWall, kFluid, kGas, kBowelWall, kStool, kPancreas, kDuoWall,
  kAorta, kIvc, kPortal, kArtery, kClsCount
};

struct TissueHu {
  double native, enhancement, texture;
};
// Native HU, portal-venous enhancement, texture amplitude. Native soft-tissue values sit in the
// ranges measured on the real non-contrast CT (liver 44 +- 17, spleen 32 +- 19, pancreas -10 +-
// 28, fat -93 +- 26 HU at 3 mm).
constexpr TissueHu kHu[kClsCount] = {
    {-1000, 0, 0},  // air
    {-100, 0, 10},  // subcutaneous fat
    {-92, 0, 10},   // visceral fat
    {45, 12, 6},    // muscle
    {750, 0, 80},   // cortical bone
    {220, 0, 50},   // cancellous bone
    {85, 5, 8},     // disc
    {10, 0, 4},     // CSF
    {-860, 0, 40},  // lung
    {48, 55, 6},    // liver (per-case shift added)
    {10, 0, 3},     // gallbladder bile
    {38, 70, 6},    // spleen
    {32, 130, 10},  // kidney cortex
    {30, 60, 8},    // kidney medulla
    {8, 0, 4},      // renal pelvis urine
    {40, 45, 8},    // stomach wall
    {14, 0, 5},     // fluid in a lumen
    {-1000, 0, 0},  // gas
    {38, 52, 8},    // bowel wall
    {-120, 0, 160}, // stool
    {12, 72, 12},   // pancreas (per-case shift added; lobulated fat gives it more texture)
    {40, 55, 8},    // duodenal wall
    {42, 140, 6},   // aorta
    {42, 90, 6},    // IVC
    {42, 130, 6},   // portal, splenic, superior mesenteric veins
    {42, 140, 6},   // SMA
};

// The arterial phase (about 35 s after injection) as a share of each tissue's portal-venous
// enhancement: arteries near +280 HU, renal cortex and pancreas at their brightest, spleen bright,
// liver and veins barely enhanced yet (typical late-arterial figures from the literature).
constexpr double kArterialShare[kClsCount] = {
    0, 0, 0, 0.6, 0, 0, 0.6, 0, 0, 0.3, 0, 1.1, 1.2, 0.3, 0, 0.9, 0, 0, 0.9, 0, 1.25, 0.9, 2.0, 0.25, 0.35, 2.0};

// ---- the anatomy of one case ------------------------------------------------------------------
struct Anatomy {
  double body_a, body_b, body_y0, fat_mm, muscle_mm;
  double spine_y, spine_r, z_lo, z_hi, disc_z0, rib_z_start;
  Ellipsoid liver_right, liver_left, gallbladder, spleen, kidney[2], kidney_pelvis[2], stomach, lung[2];
  bool has_gallbladder;
  double stomach_gas_y;
  Tube antrum, duodenum, colon, pancreas, aorta, ivc, sma, smv, portal, splenic;
  std::vector<Tube> small_bowel;
  std::vector<int> small_bowel_gas;  // 0 fluid, 1 gas above the fluid level
  double pancreas_shift, liver_shift, noise_sd, bias_amp;
  std::uint64_t seed;

  double hu(Cls c, ContrastPhase phase) const {
    double v = kHu[c].native + (phase == ContrastPhase::PortalVenous ? kHu[c].enhancement
                                : phase == ContrastPhase::Arterial   ? kArterialShare[c] * kHu[c].enhancement
                                                                     : 0.0);
    if (c == kPancreas) v += pancreas_shift;
    if (c == kLiver) v += liver_shift;
    return v;
  }
};

// top_extra_mm: vessels reach that much further up (real anatomy can reach above the hand-made's).
Anatomy make_anatomy(const PhantomOptions& o, int index, double extent_z, Rng& rng, double top_extra_mm = 0) {
  Anatomy an{};
  an.seed = mix(o.seed * 1000003ULL + std::uint64_t(index));
  an.body_a = rng.uniform(140, 172);
  an.body_b = rng.uniform(100, 126);
  an.body_y0 = rng.uniform(-4, 8);
  an.fat_mm = rng.uniform(10, 32);
  an.muscle_mm = rng.uniform(8, 14);
  an.z_hi = rng.uniform(88, 115);
  an.z_lo = an.z_hi - extent_z;
  an.spine_r = rng.uniform(16, 21);
  an.spine_y = an.body_y0 - an.body_b + an.fat_mm + an.muscle_mm + 36;
  an.disc_z0 = rng.uniform(0, 30);
  an.rib_z_start = an.z_hi - rng.uniform(95, 125);
  an.pancreas_shift = rng.uniform(-18, 16);
  an.liver_shift = rng.uniform(-6, 8);
  an.bias_amp = rng.uniform(3, 9);
  auto seed = [&] { return rng.next(); };

  const double ys = an.spine_y, rs = an.spine_r;
  const double xa = rng.uniform(-22, -10), ya = ys + rs + rng.uniform(12, 16), ra = rng.uniform(10, 13);
  an.aorta = make_tube({{xa, ya, an.z_lo - 10}, {xa, ya + 1, an.z_hi + 10 + top_extra_mm}}, {ra * 0.92, ra}, 1);
  const double xi = rng.uniform(18, 28), yi = ys + rs + rng.uniform(10, 14);
  an.ivc = make_tube({{xi, yi, an.z_lo - 10}, {xi + 2, yi + 2, 40}, {xi + 10, yi + 6, an.z_hi + 10 + top_extra_mm}}, {11, 12, 13}, 4);
  an.ivc.squash_y = 1.35;

  // Pancreas: control points relative to the aorta, jittered; radii scaled per case.
  const double scale = rng.uniform(1.0, 1.35), bow = rng.uniform(-10, 10), lift = rng.uniform(-8, 8);
  std::vector<Vec3> pc = {{xa + 38, ya + 14, -28}, {xa + 52, ya + 30, -12}, {xa + 22, ya + 46, 0},  {xa - 10, ya + 42, 6},
                          {xa - 45, ya + 30, 14},  {xa - 75, ya + 10, 22},  {xa - 92, ya - 4, 29}};
  std::vector<double> pr = {10, 16, 8, 10, 9.5, 8, 5};
  for (std::size_t i = 0; i < pc.size(); ++i) {
    const double t = double(i) / double(pc.size() - 1);
    pc[i][0] += rng.uniform(-6, 6);
    pc[i][1] += rng.uniform(-6, 6) + bow * std::sin(std::numbers::pi * t);
    pc[i][2] += rng.uniform(-5, 5) + lift * t;
    pr[i] *= scale * rng.uniform(0.9, 1.1);
  }
  an.pancreas = make_tube(pc, pr, 10);
  an.pancreas.squash_y = 1.25;
  an.pancreas.wobble = 0.22;
  an.pancreas.seed = seed();

  // Splenic vein along the back of the body and tail; SMV and portal vein through the neck.
  std::vector<Vec3> sv;
  std::vector<double> svr;
  for (std::size_t i = 2; i < pc.size(); ++i) {
    sv.push_back({pc[i][0], pc[i][1] - pr[i] / 1.25 - 4.5, pc[i][2] + 2});
    svr.push_back(4.5);
  }
  an.splenic = make_tube(sv, svr, 6);
  const Vec3 confluence{pc[2][0] + 2, pc[2][1] - pr[2] / 1.25 - 5, pc[2][2] - 2};
  an.smv = make_tube({{confluence[0] + 4, confluence[1] - 2, an.z_lo - 5}, {confluence[0] + 2, confluence[1], -30}, confluence},
                     {6, 6.5, 7}, 4);
  an.portal = make_tube({confluence, {xa + 48, ya + 40, 22}, {xa + 75, ya + 34, 45}}, {7, 7.5, 6}, 6);
  an.sma = make_tube({{xa + 2, ya + 24, an.z_lo - 5}, {xa + 1, ya + 22, -30}, {xa, ya + ra, 8}}, {4, 4.2, 4.5}, 4);

  // Duodenal C-loop around the head: D1, D2 (lateral to the head, touching it), D3 below, D4 up.
  const Vec3 head = pc[1];
  const double hr = pr[1], dr = rng.uniform(9, 12);
  an.duodenum = make_tube({{head[0] - 10, head[1] + 40, head[2] + 32},
                           {head[0] + 14, head[1] + 26, head[2] + 26},
                           {head[0] + hr + dr * 0.6, head[1] + 6, head[2] + 14},
                           {head[0] + hr + dr * 0.55, head[1] - 2, head[2] - 12},
                           {head[0] + 8, head[1] - 10, head[2] - hr - dr - 10},
                           {xa + 6, ya + 14, head[2] - hr - dr - 16},
                           {xa - 22, ya + 24, head[2] - 18},
                           {xa - 30, ya + 38, head[2] - 2}},
                          std::vector<double>(8, dr), 6);
  an.duodenum.wobble = 0.08;
  an.duodenum.seed = seed();
  an.antrum = make_tube({{-40, an.body_y0 + 52, 42}, {head[0] - 22, head[1] + 44, head[2] + 36}, {head[0] - 10, head[1] + 40, head[2] + 32}},
                        {18, 13, dr}, 6);

  const double A = an.body_a, y0 = an.body_y0;
  auto ellipsoid = [&](Vec3 c, Vec3 r, double angle, double wobble) {
    Ellipsoid e;
    e.c = c;
    e.r = r;
    e.angle = angle;
    e.wobble = wobble;
    e.seed = seed();
    e.finish();
    return e;
  };
  const double zl = rng.uniform(52, 68);
  an.liver_right = ellipsoid({A * 0.5, y0 - 5 + rng.uniform(-6, 6), zl}, {rng.uniform(60, 72), rng.uniform(74, 88), rng.uniform(70, 84)},
                             rng.uniform(-0.25, 0.15), 0.08);
  an.liver_left = ellipsoid({rng.uniform(-5, 15), y0 + 50, zl + 25}, {rng.uniform(45, 60), 30, 38}, 0.2, 0.1);
  an.has_gallbladder = rng.chance(0.8);
  an.gallbladder = ellipsoid({head[0] + rng.uniform(28, 38), head[1] + rng.uniform(25, 35), head[2] + rng.uniform(18, 30)},
                             {13, 17, 28}, 0.5, 0.05);
  an.spleen = ellipsoid({-A * 0.66, ys - rng.uniform(2, 12), rng.uniform(40, 58)},
                        {rng.uniform(24, 32), rng.uniform(45, 58), rng.uniform(45, 56)}, -0.6 + rng.uniform(-0.2, 0.2), 0.07);
  for (int side = 0; side < 2; ++side) {  // 0: left (-x), 1: right (+x)
    const double sx = side == 0 ? -1 : 1;
    const Vec3 c{sx * (rs + rng.uniform(44, 52)), ys - rng.uniform(0, 8), side == 0 ? rng.uniform(0, 20) : rng.uniform(-20, 0)};
    an.kidney[side] = ellipsoid(c, {rng.uniform(24, 29), rng.uniform(21, 26), rng.uniform(48, 57)}, sx * 0.5, 0.04);
    an.kidney_pelvis[side] = ellipsoid({c[0] - sx * 12, c[1] + 4, c[2]}, {9, 7, 16}, 0, 0);
  }
  an.stomach = ellipsoid({-rng.uniform(45, 62), y0 + rng.uniform(32, 44), rng.uniform(48, 68)},
                         {rng.uniform(36, 48), rng.uniform(30, 38), rng.uniform(44, 56)}, 0.4, 0.06);
  an.stomach_gas_y = an.stomach.c[1] + an.stomach.r[1] * rng.uniform(0.1, 0.6);
  for (int side = 0; side < 2; ++side) {
    const double sx = side == 0 ? -1 : 1;
    an.lung[side] = ellipsoid({sx * A * 0.45, ys + 25, an.z_hi + rng.uniform(25, 55)}, {62, 62, 75}, 0, 0.03);
  }

  // Colon: ascending (right), transverse (front), descending (left).
  const double cr = rng.uniform(18, 24);
  an.colon = make_tube({{A * 0.56, ys + 30, an.z_lo - 5},
                        {A * 0.55, ys + 32, -40},
                        {A * 0.5, y0 + 15, rng.uniform(-5, 12)},
                        {A * 0.1, y0 + an.body_b * 0.55, rng.uniform(-30, -10)},
                        {-A * 0.5, y0 + 12, rng.uniform(15, 35)},
                        {-A * 0.6, ys + 30, -40},
                        {-A * 0.58, ys + 28, an.z_lo - 5}},
                       {cr, cr, cr, cr * 0.9, cr, cr, cr}, 6);
  an.colon.wobble = 0.12;
  an.colon.seed = seed();

  // Small bowel: random walks below and beside the pancreas, in front of the kidneys.
  const int loops = int(rng.uniform(7, 12));
  for (int i = 0; i < loops; ++i) {
    std::vector<Vec3> c;
    Vec3 p{rng.uniform(-A * 0.45, A * 0.3), rng.uniform(ya + 10, y0 + an.body_b - 35), rng.uniform(an.z_lo + 15, 0)};
    double heading = rng.uniform(0, 2 * std::numbers::pi), pitch = rng.uniform(-0.5, 0.5);
    for (int s = 0; s < 9; ++s) {
      c.push_back(p);
      heading += rng.uniform(-0.9, 0.9);
      pitch = std::clamp(pitch + rng.uniform(-0.4, 0.4), -0.9, 0.9);
      p = {p[0] + 16 * std::cos(heading) * std::cos(pitch), p[1] + 16 * std::sin(heading) * std::cos(pitch),
           std::min(8.0, p[2] + 16 * std::sin(pitch))};
    }
    const double r = rng.uniform(8, 13);
    Tube t = make_tube(c, std::vector<double>(c.size(), r), 4);
    t.wobble = 0.1;
    t.seed = seed();
    an.small_bowel.push_back(std::move(t));
    an.small_bowel_gas.push_back(rng.chance(0.35) ? 1 : 0);
  }

  for (Tube* t : {&an.antrum, &an.duodenum, &an.colon, &an.pancreas, &an.aorta, &an.ivc, &an.sma, &an.smv, &an.portal,
                  &an.splenic})
    t->finish();
  for (auto& t : an.small_bowel) t.finish();
  return an;
}

struct Painted {
  Cls cls = kAir;
  std::uint8_t code = tissue::kOutside;
};

// A real label map placed in the phantom's frame, and what the hand-made anatomy adds around it.
struct RealAnatomy {
  const LabelMapAnatomy* map = nullptr;
  Vec3 offset{};        // phantom frame = map world + offset
  Mat3 to_index{};      // map world direction -> map index axes (inverse direction / spacing)
  Vec3 origin{};        // map origin in the phantom frame
  bool hand_spine = true, hand_pelvis = true, hand_femur = true;
  // Organ appearance drawn per case.
  double stomach_gas_y = 1e9;   // gas above this y in the stomach (supine: anterior is up)
  Cls stomach_content = kFluid;
  double fat_in_pancreas = 0;   // share of fatty lobulation (grows with age)
  std::uint64_t seed = 0;
  // Pelvis, bladder and rectum (hand-made, below the abdomen), arms and table.
  double iliac_z = -120, femur_z = -230, bladder_z = -215, pelvis_w = 110;
  bool arms_beside = true;
  double arm_r = 42, arm_gap = 12, table_y = -1e9, arms_a = 0;
  // The body outline along z (bands of band_mm from band_z0): half-width, front and back radii,
  // fitted around the real organs level by level, as a real body narrows and widens.
  double band_z0 = 0, band_mm = 5;
  std::vector<std::array<double, 3>> body;

  // The body's half-width a and, on y's side of the centre, its front or back radius b at height z.
  void body_at(double z, double y, double y0, double& a, double& b) const {
    const double t = std::clamp((z - band_z0) / band_mm, 0.0, double(body.size() - 1));
    const std::size_t i = std::min(std::size_t(t), body.size() - 2);
    const double f = t - double(i);
    const int k = y < y0 ? 2 : 1;
    a = body[i][0] + f * (body[i + 1][0] - body[i][0]);
    b = body[i][k] + f * (body[i + 1][k] - body[i][k]);
  }

  bool provides(AnatomyOrgan o) const { return map->has(o); }
  AnatomyOrgan at(const Vec3& p) const {
    const Vec3 q{p[0] - origin[0], p[1] - origin[1], p[2] - origin[2]};
    const Geometry& g = map->organs.geometry();
    std::int64_t ijk[3];
    for (int a = 0; a < 3; ++a) {
      const double v = to_index[a][0] * q[0] + to_index[a][1] * q[1] + to_index[a][2] * q[2];
      ijk[a] = std::int64_t(std::lround(v));
      if (ijk[a] < 0 || ijk[a] >= g.dims[a]) return AnatomyOrgan::None;
    }
    return AnatomyOrgan(map->organs(ijk[0], ijk[1], ijk[2]));
  }
};

// How a real organ looks, and its code in the tissue map.
Painted real_organ(AnatomyOrgan o, const RealAnatomy& r, const Vec3& p) {
  using O = AnatomyOrgan;
  switch (o) {
    case O::Liver: return {kLiver, tissue::kLiver};
    case O::Spleen: return {kSpleen, tissue::kSpleen};
    case O::KidneyRight: return {value_noise(p, 6, r.seed ^ 0x61) > 0.35 ? kKidMedulla : kKidCortex, tissue::kKidneyRight};
    case O::KidneyLeft: return {value_noise(p, 6, r.seed ^ 0x61) > 0.35 ? kKidMedulla : kKidCortex, tissue::kKidneyLeft};
    case O::Gallbladder: return {kGallbladder, tissue::kGallbladder};
    case O::Stomach: return {p[1] > r.stomach_gas_y ? kGas : r.stomach_content, tissue::kStomach};
    case O::Pancreas:
      // Fatty lobulation: fat between the lobules, more with age; still pancreas in the label.
      if (r.fat_in_pancreas > 0 && value_noise(p, 2.5, r.seed ^ 0x71) > 1 - 2 * r.fat_in_pancreas)
        return {kVisFat, tissue::kPancreas};
      return {kPancreas, tissue::kPancreas};
    case O::Duodenum: return {value_noise(p, 5, r.seed ^ 0x62) > 0.3 ? kFluid : kDuoWall, tissue::kDuodenum};
    case O::SmallBowel: {
      const double v = value_noise(p, 7, r.seed ^ 0x63);
      return {v > 0.55 ? kGas : v > 0.0 ? kFluid : kBowelWall, tissue::kSmallBowel};
    }
    case O::Colon:
    case O::Rectum: return {value_noise(p, 9, r.seed ^ 0x64) > 0.4 ? kGas : kStool, tissue::kColon};
    case O::Bladder: return {kKidPelvis, tissue::kBladder};
    case O::Aorta: return {kAorta, tissue::kAorta};
    case O::Ivc: return {kIvc, tissue::kIvc};
    case O::PortalSplenicVein: return {kPortal, tissue::kPortalSplenicVein};
    case O::OtherArtery: return {kArtery, tissue::kOtherVessel};
    case O::OtherVein: return {kIvc, tissue::kOtherVessel};
    case O::Adrenal: return {kBowelWall, tissue::kAdrenal};
    case O::Esophagus: return {kBowelWall, tissue::kEsophagus};
    case O::OtherSoftTissue: return {kMuscle, tissue::kOtherSoftTissue};
    case O::Bone: return {value_noise(p, 4, r.seed ^ 0x65) > 0.6 ? kCortical : kCancellous, tissue::kBone};
    case O::Muscle: return {kMuscle, tissue::kMuscle};
    case O::Lung: return {kLung, tissue::kLung};
    case O::Heart: return {kIvc, tissue::kHeart};  // mostly blood pool
    case O::SpinalCord: return {kCsf, tissue::kSpinalCanal};
    default: return {kVisFat, tissue::kVisceralFat};
  }
}

// |u|^2.5 + |v|^2.5: the real-anatomy body's outline (< 1 inside).
double body_level(double u, double v) {
  const double au = std::abs(u), av = std::abs(v);
  return au * au * std::sqrt(au) + av * av * std::sqrt(av);
}

// Arms beside the body and the table under it: what lies outside the body ellipse.
Painted outside_body(const Anatomy& an, const RealAnatomy& r, const Vec3& p) {
  const double x = p[0], y = p[1];
  if (r.arms_beside)
    for (double sx : {-1.0, 1.0}) {
      const double cx = sx * (r.arms_a + r.arm_gap + r.arm_r), cy = an.body_y0 - 10;
      const double d = std::hypot(x - cx, y - cy);
      if (d < r.arm_r) {
        const double bone = std::hypot(x - cx, y - cy - 4);
        if (bone < 11) return {bone > 8 ? kCortical : kCancellous, tissue::kBone};
        return {d > r.arm_r - 9 ? kSubFat : kMuscle, d > r.arm_r - 9 ? tissue::kSubcutaneousFat : tissue::kMuscle};
      }
    }
  // The table: a slightly curved plate of about 8 mm under the back.
  const double curve = r.table_y + 0.0004 * x * x;
  if (y < curve && y > curve - 8 && std::abs(x) < 230) return {kCancellous, tissue::kTable};
  return {kAir, tissue::kOutside};
}

// Iliac wings, sacrum and femoral heads; bladder and rectum: the pelvis below the abdomen.
std::optional<Painted> pelvis(const Anatomy& an, const RealAnatomy& r, const Vec3& p, bool bones) {
  const double x = p[0], y = p[1], z = p[2];
  if (z > r.iliac_z + 10) return std::nullopt;
  if (bones) {
    // Iliac wings: thin bony shells flaring out laterally and back, from the crest down.
    for (double sx : {-1.0, 1.0}) {
      const double depth = std::clamp((r.iliac_z - z) / 90.0, 0.0, 1.0);  // 0 at the crest
      const double cx = sx * (r.pelvis_w * (1 - 0.35 * depth)), cy = an.spine_y + 10 + 25 * depth;
      const double u = (x - cx) / 22, v = (y - cy) / 55;
      const double q = std::sqrt(u * u + v * v);
      if (z <= r.iliac_z && z > r.iliac_z - 110 && q < 1 && q > 0.55) return Painted{q > 0.85 ? kCortical : kCancellous, tissue::kBone};
    }
    // Sacrum: the spine's continuation, tilted back.
    const double sy = an.spine_y - 0.25 * std::max(0.0, r.iliac_z - 20 - z);
    if (z < r.iliac_z - 20 && z > r.iliac_z - 130 && std::hypot((x) / 45, (y - sy) / 18) < 1)
      return Painted{kCancellous, tissue::kBone};
    for (double sx : {-1.0, 1.0}) {
      if (!r.hand_femur) break;
      const double d = std::sqrt(std::pow(x - sx * (r.pelvis_w - 20), 2) + std::pow(y - an.spine_y - 55, 2) + std::pow(z - r.femur_z, 2));
      if (d < 24) return Painted{d > 21 ? kCortical : kCancellous, tissue::kBone};
    }
  }
  if (!r.provides(AnatomyOrgan::Bladder)) {
    const double u = x / 45, v = (y - an.spine_y - 95) / 35, w = (z - r.bladder_z) / 35;
    if (u * u + v * v + w * w < 1) return Painted{kKidPelvis, tissue::kBladder};
  }
  // (TotalSegmentator's colon holds the rectum.)
  if (!r.provides(AnatomyOrgan::Rectum) && !r.provides(AnatomyOrgan::Colon) && z < r.iliac_z - 60 && std::hypot(x / 16, (y - an.spine_y - 45) / 14) < 1)
    return Painted{value_noise(p, 8, r.seed ^ 0x66) > 0.4 ? kGas : kStool, tissue::kColon};
  return std::nullopt;
}

// What lies at world point p. Painting order decides who wins where shapes overlap: the
// duodenum and the vessels are painted over the pancreas, bowel and organs under it. With real
// anatomy, the map's organs win inside the body and the hand-made ones it has are not painted.
Painted paint(const Anatomy& an, const Vec3& p, const RealAnatomy* real = nullptr) {
  using O = AnatomyOrgan;
  const auto hand = [real](O organ) { return !real || !real->provides(organ); };
  const double x = p[0], y = p[1], z = p[2];
  auto in_ellipse = [&](double a, double b) {
    const double u = x / a, v = (y - an.body_y0) / b;
    // A real body's cross-section is squarer than an ellipse (kidneys and liver fill the back
    // corners): a superellipse of power 2.5 around real anatomy.
    if (real) return body_level(u, v) <= 1;
    return u * u + v * v <= 1;
  };
  double body_a = an.body_a, body_b = an.body_b;
  if (real) real->body_at(z, y, an.body_y0, body_a, body_b);
  if (!in_ellipse(body_a, body_b)) return real ? outside_body(an, *real, p) : Painted{kAir, tissue::kOutside};
  if (real)
    if (const O o = real->at(p); o != O::None) return real_organ(o, *real, p);
  Painted out{kSubFat, tissue::kSubcutaneousFat};
  const double wall_a = body_a - an.fat_mm, wall_b = body_b - an.fat_mm;
  if (!in_ellipse(wall_a, wall_b)) return out;
  out = {kMuscle, tissue::kMuscle};
  const double cav_a = wall_a - an.muscle_mm, cav_b = wall_b - an.muscle_mm;
  const bool cavity = in_ellipse(cav_a, cav_b);
  const bool spine = !real || real->hand_spine;

  // Ribs: oblique cuts through the wall's inner layer, above rib_z_start.
  if (spine && z > an.rib_z_start && !cavity) {
    const double ang = std::atan2(x, y - an.body_y0);  // 0 anterior, +-pi posterior
    const double a_abs = std::abs(ang);
    if (a_abs > 0.9 && a_abs < 2.7) {
      const double phase = a_abs * 4.2 + z * 0.075;  // about 5 ribs a side, sloping down to the front
      const double frac = phase - std::floor(phase);
      if (frac < 0.2) return {frac < 0.04 || frac > 0.16 ? kCortical : kCancellous, tissue::kBone};
    }
  }
  if (cavity) out = {kVisFat, tissue::kVisceralFat};
  if (real && cavity)
    if (auto pv = pelvis(an, *real, p, real->hand_pelvis)) return *pv;

  // Spine and the muscles beside it.
  const double ys = an.spine_y, rs = an.spine_r;
  {
    const double dx = x, dy = y - ys;
    const double rv = std::sqrt(dx * dx + dy * dy);
    if (spine && rv < rs) {
      const double dz = std::fmod(std::abs(z - an.disc_z0), 31.0);
      if (dz < 6.5) return {kDisc, tissue::kBone};
      return {rv > rs - 2.2 ? kCortical : kCancellous, tissue::kBone};
    }
    const double cy = ys - rs - 9;
    const double rc = std::hypot(x, y - cy);
    if (spine && rc < 8) return {kCsf, tissue::kSpinalCanal};
    if (spine && (rc < 11.5 || (std::abs(x) < 5 && y < cy && y > cy - 32) || (std::abs(x) < 26 && std::abs(y - cy + 3) < 5)))
      return {rc < 10 ? kCortical : kCancellous, tissue::kBone};
    for (double sx : {-1.0, 1.0}) {
      const double u = (x - sx * 30) / 24, v = (y - (ys - rs - 20)) / 22;
      if (u * u + v * v < 1) return {kMuscle, tissue::kMuscle};
      if (z < 35) {
        const double rp = std::clamp(7 + (35 - z) * 0.11, 7.0, 22.0);
        const double pu = (x - sx * (rs + rp * 0.8)) / rp, pv = (y - (ys + 2)) / (rp * 0.85);
        if (pu * pu + pv * pv < 1) return {kMuscle, tissue::kMuscle};
      }
    }
  }
  if (!cavity) return out;

  if (hand(O::Liver) && (an.liver_right.level(p) < 1 || an.liver_left.level(p) < 1)) out = {kLiver, tissue::kLiver};
  if (hand(O::Gallbladder) && an.has_gallbladder && an.gallbladder.level(p) < 1) out = {kGallbladder, tissue::kGallbladder};
  if (hand(O::Spleen) && an.spleen.level(p) < 1) out = {kSpleen, tissue::kSpleen};
  for (int side = 0; side < 2; ++side) {
    const Ellipsoid& k = an.kidney[side];
    if (!hand(side == 0 ? O::KidneyLeft : O::KidneyRight) || !k.box.has_z(z)) continue;
    const double q = k.level(p);
    if (q < 1) {
      const std::uint8_t code = side == 0 ? tissue::kKidneyLeft : tissue::kKidneyRight;
      out = {q > 0.72 ? kKidCortex : kKidMedulla, code};
      if (an.kidney_pelvis[side].level(p) < 1) out = {kKidPelvis, code};
    }
  }
  // Lung bases in the costophrenic recesses, under the diaphragm's 5 mm of muscle: painted over
  // the organs' upper poles, as the domes push them down.
  if (hand(O::Lung))
    for (const auto& l : an.lung)
      if (l.box.has_z(z)) {
        if (l.level(p) < 1) return {kLung, tissue::kLung};
        if (l.level(p, -5) < 1) out = {kMuscle, tissue::kMuscle};
      }
  if (hand(O::Stomach) && an.stomach.box.has_z(z)) {
    const double q = an.stomach.level(p);
    if (q < 1) out = {an.stomach.level(p, 5) >= 1 ? kStomachWall : (y > an.stomach_gas_y ? kGas : kFluid), tissue::kStomach};
  }
  if (hand(O::Stomach) && an.antrum.box.has_z(z)) {
    const double q = an.antrum.level(p);
    if (q < 1) out = {an.antrum.level(p, 4) >= 1 ? kStomachWall : kFluid, tissue::kStomach};
  }
  if (hand(O::Colon) && an.colon.box.has_z(z) && an.colon.box.has_y(y)) {
    const double q = an.colon.level(p);
    if (q < 1) {
      Cls c = an.colon.level(p, 3) >= 1 ? kBowelWall : kStool;
      if (c == kStool && value_noise(p, 9, an.colon.seed) > 0.45) c = kGas;
      out = {c, tissue::kColon};
    }
  }
  if (hand(O::SmallBowel))
    for (std::size_t i = 0; i < an.small_bowel.size(); ++i) {
      const Tube& t = an.small_bowel[i];
      if (!t.box.has_z(z) || !t.box.has_y(y) || !t.box.has_x(x)) continue;
      double at = 0;
      if (t.level(p, 0, &at) < 1) {
        Cls c = t.level(p, 2.5) >= 1 ? kBowelWall : kFluid;
        if (c == kFluid && an.small_bowel_gas[i] && value_noise(p, 12, t.seed) > 0.25) c = kGas;
        out = {c, tissue::kSmallBowel};
      }
    }
  if (hand(O::Pancreas) && an.pancreas.box.has_z(z) && an.pancreas.box.has_y(y) && an.pancreas.level(p) < 1)
    out = {kPancreas, tissue::kPancreas};
  if (hand(O::Duodenum) && an.duodenum.box.has_z(z) && an.duodenum.box.has_y(y) && an.duodenum.level(p) < 1)
    out = {an.duodenum.level(p, 2.5) >= 1 ? kDuoWall : kFluid, tissue::kDuodenum};
  if (hand(O::Aorta) && an.aorta.level(p) < 1) out = {kAorta, tissue::kAorta};
  if (hand(O::Ivc) && an.ivc.level(p) < 1) out = {kIvc, tissue::kIvc};
  if (hand(O::OtherArtery) && an.sma.box.has_z(z) && an.sma.level(p) < 1) out = {kArtery, tissue::kOtherVessel};
  if (hand(O::PortalSplenicVein))
    for (const Tube* v : {&an.smv, &an.portal, &an.splenic})
      if (v->box.has_z(z) && v->box.has_y(y) && v->level(p) < 1) out = {kPortal, tissue::kPortalSplenicVein};
  return out;
}

// Paints, textures and samples the volume slice by slice. kernel: 0 as painted (the hand-made
// anatomy's phantoms, unchanged), < 0 a soft reconstruction kernel (Gaussian blur of that many
// pixels), > 0 a sharp one (unsharp masking of that amount); both act after the noise, as a
// scanner's kernel does.
struct Rendered {
  std::shared_ptr<Image> image;
  std::shared_ptr<Mask> label, tissues;
};
Rendered render(const Anatomy& an, const RealAnatomy* real, const Geometry& g, int ss, const double* cls_hu, double noise_sd,
                double kernel) {
  Rendered out{std::make_shared<Image>(g), std::make_shared<Mask>(g), std::make_shared<Mask>(g)};
  Image& image = *out.image;
  Mask& label = *out.label;
  Mask& tissues = *out.tissues;
  const double dxy = g.spacing_mm[0];
  const std::int64_t nx = g.dims[0], ny = g.dims[1], nz = g.dims[2];
  const int fx = int(nx) * ss, fy = int(ny) * ss;
  const int tex_w = std::max(8, fx / 4), tex_h = std::max(8, fy / 4);

  tbb::parallel_for(std::int64_t(0), nz, [&](std::int64_t k) {
    const double z = g.origin_mm[2] + double(k) * g.spacing_mm[2];
    // Texture and bias fields at a quarter of the resolution, interpolated up.
    cv::Mat tex_small(tex_h, tex_w, CV_32F), bias_small(tex_h, tex_w, CV_32F);
    for (int v = 0; v < tex_h; ++v)
      for (int u = 0; u < tex_w; ++u) {
        const Vec3 p{g.origin_mm[0] + (u + 0.5) * double(nx) / tex_w * dxy, g.origin_mm[1] + (v + 0.5) * double(ny) / tex_h * dxy, z};
        tex_small.at<float>(v, u) = float(value_noise(p, 9, an.seed ^ 0x51) + 0.5 * value_noise(p, 4.5, an.seed ^ 0x52));
        bias_small.at<float>(v, u) = float(an.bias_amp * value_noise(p, 110, an.seed ^ 0x53));
      }
    cv::Mat tex, bias;
    cv::resize(tex_small, tex, cv::Size(fx, fy), 0, 0, cv::INTER_LINEAR);
    cv::resize(bias_small, bias, cv::Size(fx, fy), 0, 0, cv::INTER_LINEAR);

    cv::Mat fine(fy, fx, CV_32F);
    std::vector<Painted> painted(std::size_t(fx) * fy);
    for (int v = 0; v < fy; ++v)
      for (int u = 0; u < fx; ++u) {
        const Vec3 p{g.origin_mm[0] + (u + 0.5) / ss * dxy - 0.5 * dxy, g.origin_mm[1] + (v + 0.5) / ss * dxy - 0.5 * dxy, z};
        const Painted t = paint(an, p, real);
        painted[std::size_t(v) * fx + u] = t;
        float hu = float(cls_hu[t.cls]);
        if (t.cls != kAir && t.cls != kGas) hu += float(kHu[t.cls].texture) * tex.at<float>(v, u) + bias.at<float>(v, u);
        fine.at<float>(v, u) = hu;
      }
    cv::Mat coarse;
    if (ss > 1) cv::resize(fine, coarse, cv::Size(int(nx), int(ny)), 0, 0, cv::INTER_AREA);
    else coarse = fine;

    Rng noise(an.seed ^ mix(std::uint64_t(k) + 0xABCDEF));
    for (std::int64_t j = 0; j < ny; ++j)
      for (std::int64_t i = 0; i < nx; ++i) {
        // The tissue of a voxel: the most common of its subsamples (partial volume for the label).
        std::uint8_t code = 0;
        int best = 0;
        for (int a = 0; a < ss * ss; ++a) {
          const Painted& t = painted[std::size_t(j * ss + a / ss) * fx + std::size_t(i * ss + a % ss)];
          int count = 0;
          for (int b = 0; b < ss * ss; ++b)
            count += painted[std::size_t(j * ss + b / ss) * fx + std::size_t(i * ss + b % ss)].code == t.code;
          if (count > best) {
            best = count;
            code = t.code;
          }
        }
        if (real) {
          // Real anatomy: the label is the map's pancreas resampled by nearest voxel, and the
          // tissue map says what lies at the voxel's centre, so the two agree.
          const Vec3 c{g.origin_mm[0] + double(i) * dxy, g.origin_mm[1] + double(j) * dxy, z};
          code = ss > 1 ? paint(an, c, real).code : code;
          if (real->at(c) == AnatomyOrgan::Pancreas) code = tissue::kPancreas;
        }
        const float hu = coarse.at<float>(int(j), int(i)) + float(noise_sd * noise.normal());
        if (kernel == 0) image(i, j, k) = std::round(std::clamp(hu, -1024.0f, 3071.0f));
        else coarse.at<float>(int(j), int(i)) = hu;
        tissues(i, j, k) = code;
        label(i, j, k) = code == tissue::kPancreas ? 1 : 0;
      }
    if (kernel != 0) {
      cv::Mat filtered;
      if (kernel < 0) {
        cv::GaussianBlur(coarse, filtered, cv::Size(0, 0), -kernel);
      } else {
        cv::GaussianBlur(coarse, filtered, cv::Size(0, 0), 1.0);
        filtered = coarse + kernel * (coarse - filtered);
      }
      for (std::int64_t j = 0; j < ny; ++j)
        for (std::int64_t i = 0; i < nx; ++i)
          image(i, j, k) = std::round(std::clamp(filtered.at<float>(int(j), int(i)), -1024.0f, 3071.0f));
    }
  });
  return out;
}

// Where a label map's organs lie in the phantom's frame: the real aorta on the hand-made one
// (the spine is placed behind it), else the real pancreas on the hand-made one; heights by the
// pancreas. Then the body grows until its cavity holds every real abdominal organ.
RealAnatomy place_real_anatomy(const LabelMapAnatomy& map, Anatomy& an, Rng& rng) {
  using O = AnatomyOrgan;
  RealAnatomy r;
  r.map = &map;
  r.seed = an.seed ^ 0x5EA1;
  const Geometry& g = map.organs.geometry();
  // Centroids in the map's world.
  Vec3 pancreas{}, aorta{};
  double np = 0, na = 0;
  for (std::int64_t z = 0; z < g.dims[2]; ++z)
    for (std::int64_t y = 0; y < g.dims[1]; ++y)
      for (std::int64_t x = 0; x < g.dims[0]; ++x) {
        const auto o = O(map.organs(x, y, z));
        if (o != O::Pancreas) continue;
        const Vec3 w = g.to_world({double(x), double(y), double(z)});
        for (int a = 0; a < 3; ++a) pancreas[a] += w[a];
        ++np;
      }
  for (int a = 0; a < 3; ++a) pancreas[a] /= np;
  if (map.has(O::Aorta))
    for (std::int64_t z = 0; z < g.dims[2]; ++z)
      for (std::int64_t y = 0; y < g.dims[1]; ++y)
        for (std::int64_t x = 0; x < g.dims[0]; ++x)
          if (O(map.organs(x, y, z)) == O::Aorta) {
            const Vec3 w = g.to_world({double(x), double(y), double(z)});
            if (std::abs(w[2] - pancreas[2]) > 20) continue;
            aorta[0] += w[0];
            aorta[1] += w[1];
            ++na;
          }
  Vec3 hand{};  // the hand-made pancreas' centroid
  for (const Vec3& q : an.pancreas.pts)
    for (int a = 0; a < 3; ++a) hand[a] += q[a] / double(an.pancreas.pts.size());
  if (na > 0) {
    r.offset = {an.aorta.pts.front()[0] - aorta[0] / na, an.aorta.pts.front()[1] - aorta[1] / na, hand[2] - pancreas[2]};
  } else {
    r.offset = {hand[0] - pancreas[0], hand[1] - pancreas[1], hand[2] - pancreas[2]};
  }
  for (int a = 0; a < 3; ++a) r.origin[a] = g.origin_mm[a] + r.offset[a];
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) r.to_index[a][b] = g.direction[b][a] / g.spacing_mm[a];  // orthonormal: inverse = transpose

  // The body: its cavity must hold the real abdominal organs, and its muscle wall the real bones
  // and muscles (ribs, spine, back muscles of TotalSegmentator maps), or they would be cut off.
  const auto in_wall = [](O o) { return o == O::Bone || o == O::Muscle || o == O::SpinalCord; };
  double liver_top = -1e9;
  std::vector<std::array<double, 4>> points;  // x, y, 1 for a wall structure, z
  for (std::int64_t z = 0; z < g.dims[2]; z += 2)
    for (std::int64_t y = 0; y < g.dims[1]; y += 2)
      for (std::int64_t x = 0; x < g.dims[0]; x += 2) {
        const auto o = O(map.organs(x, y, z));
        if (o == O::None) continue;
        const Vec3 w = g.to_world({double(x), double(y), double(z)});
        points.push_back({w[0] + r.offset[0], w[1] + r.offset[1], in_wall(o) ? 1.0 : 0.0, w[2] + r.offset[2]});
        if (o == O::Liver) liver_top = std::max(liver_top, w[2] + r.offset[2]);
      }
  // Centred between the organs' front and back. Level by level (bands of 5 mm), the cavity's
  // half-width, front and back radii grow until it holds the band's organs (and the wall its
  // bones and muscles); the back always holds the spine. Visceral fat (habitus) widens it.
  double yl = 1e9, yh = -1e9, zl = 1e9, zh = -1e9;
  for (const auto& q : points) yl = std::min(yl, q[1]), yh = std::max(yh, q[1]), zl = std::min(zl, q[3]), zh = std::max(zh, q[3]);
  if (!points.empty()) an.body_y0 = 0.5 * (yl + yh);
  const double visceral_mm = std::clamp(0.4 * (an.fat_mm - 10) + rng.uniform(-6, 4), 0.0, 25.0);
  r.band_z0 = zl - 300;
  const std::size_t bands = std::size_t((zh + 150 - r.band_z0) / r.band_mm) + 2;
  std::vector<std::vector<std::array<double, 3>>> in_band(bands);  // x, y, wall
  for (const auto& q : points)
    in_band[std::size_t((q[3] - r.band_z0) / r.band_mm)].push_back({q[0], q[1], q[2]});
  const double back_min = an.body_y0 - (an.spine_y - an.spine_r - 30);
  std::vector<std::array<double, 3>> cavity(bands, {0, 0, 0});
  std::vector<bool> fitted(bands, false);
  for (std::size_t b = 0; b < bands; ++b) {
    if (in_band[b].empty()) continue;
    double ca = 90, cf = 50, cb = std::max(50.0, back_min);
    for (int round = 0; round < 40; ++round) {
      double k = 0, ku = 0, kv = 0, ky = 0;
      for (const auto& q : in_band[b]) {
        const double m = q[2] * an.muscle_mm, dy = q[1] - an.body_y0;
        const double u = q[0] / (ca + m), v = dy / ((dy >= 0 ? cf : cb) + m), r2 = std::pow(body_level(u, v), 0.4);
        if (r2 > k) k = r2, ku = std::abs(u), kv = std::abs(v), ky = dy;
      }
      if (k <= 0.98) break;  // organs reach the wall: the liver and spleen touch it
      // Both radii grow, each by its share of the worst point's excess, so the outline keeps a
      // body's proportions rather than only widening.
      const double grow = std::min(k / 0.98, 1.1) - 1, su = ku * ku / (ku * ku + kv * kv);
      ca *= 1 + grow * su;
      (ky >= 0 ? cf : cb) *= 1 + grow * (1 - su);
    }
    cavity[b] = {ca, cf, cb};
    fitted[b] = true;
  }
  // Levels without organs take the nearest fitted one's outline.
  for (std::size_t b = 0; b < bands; ++b)
    if (!fitted[b]) {
      std::size_t best = b;
      for (std::size_t d = 1; d < bands && best == b; ++d) {
        if (b >= d && fitted[b - d]) best = b - d;
        else if (b + d < bands && fitted[b + d]) best = b + d;
      }
      if (best != b) cavity[b] = cavity[best];
    }
  r.body.assign(bands, {0, 0, 0});
  for (std::size_t b = 0; b < bands; ++b)
    for (int a = 0; a < 3; ++a) r.body[b][a] = cavity[b][a] + visceral_mm + an.muscle_mm + an.fat_mm;
  const auto at_pancreas = std::size_t(std::clamp((hand[2] - r.band_z0) / r.band_mm, 0.0, double(bands - 1)));
  an.body_a = r.body[at_pancreas][0];
  an.body_b = r.body[at_pancreas][1];
  // Lung bases just above the real liver dome.
  if (liver_top > -1e8)
    for (auto& l : an.lung) {
      l.c[2] = liver_top + 62;
      l.box = {};
      l.finish();
    }

  // Bowel loops fill the cavity below the pancreas where the map has no bowel (real organs are
  // painted over them).
  if (!map.has(O::SmallBowel)) {
    an.small_bowel.clear();
    an.small_bowel_gas.clear();
    const double cav_b = an.body_b - an.fat_mm - an.muscle_mm, cav_a = an.body_a - an.fat_mm - an.muscle_mm;
    const int loops = int(rng.uniform(28, 40));
    for (int i = 0; i < loops; ++i) {
      std::vector<Vec3> c;
      Vec3 p{rng.uniform(-0.6 * cav_a, 0.5 * cav_a), rng.uniform(an.spine_y + 20, an.body_y0 + 0.8 * cav_b),
             rng.uniform(hand[2] - 170, hand[2] + 5)};
      double heading = rng.uniform(0, 2 * std::numbers::pi), pitch = rng.uniform(-0.5, 0.5);
      for (int step = 0; step < 9; ++step) {
        c.push_back(p);
        heading += rng.uniform(-0.9, 0.9);
        pitch = std::clamp(pitch + rng.uniform(-0.4, 0.4), -0.9, 0.9);
        p = {p[0] + 16 * std::cos(heading) * std::cos(pitch), p[1] + 16 * std::sin(heading) * std::cos(pitch),
             std::min(hand[2] + 10, p[2] + 16 * std::sin(pitch))};
      }
      Tube t = make_tube(c, std::vector<double>(c.size(), rng.uniform(8, 14)), 4);
      t.wobble = 0.1;
      t.seed = rng.next();
      t.finish();
      an.small_bowel.push_back(std::move(t));
      an.small_bowel_gas.push_back(rng.chance(0.35) ? 1 : 0);
    }
  }
  r.hand_spine = !map.has(O::Bone) || map.set != "totalseg";
  r.hand_pelvis = map.set != "totalseg";
  r.hand_femur = map.set == "flare22";  // WORD has the femoral heads
  r.stomach_content = rng.chance(0.5) ? kFluid : kStomachWall;
  // Gas rises to the front: above a random height of the stomach in the frame (set below).
  const double gas_share = rng.chance(0.6) ? rng.uniform(0.1, 0.35) : 0.0;
  double sy_lo = 1e9, sy_hi = -1e9;
  for (std::int64_t z = 0; z < g.dims[2]; z += 2)
    for (std::int64_t y = 0; y < g.dims[1]; ++y)
      for (std::int64_t x = 0; x < g.dims[0]; x += 2)
        if (O(map.organs(x, y, z)) == O::Stomach) {
          const double wy = g.to_world({double(x), double(y), double(z)})[1] + r.offset[1];
          sy_lo = std::min(sy_lo, wy);
          sy_hi = std::max(sy_hi, wy);
        }
  if (gas_share > 0 && sy_hi > sy_lo) r.stomach_gas_y = sy_hi - gas_share * (sy_hi - sy_lo);
  const double age = rng.uniform(20, 85);
  r.fat_in_pancreas = std::clamp((age - 35) / 80, 0.0, 0.45) * rng.uniform(0.4, 1.0);
  // The parenchyma itself reads lower with age (about 40 HU native at 20, 10 HU at 85), besides
  // the fat between its lobules.
  an.pancreas_shift = 28 - 0.45 * (age - 20) + rng.uniform(-8, 8);
  const double pancreas_z = hand[2];
  r.iliac_z = pancreas_z - rng.uniform(95, 125);
  r.femur_z = r.iliac_z - rng.uniform(95, 115);
  r.bladder_z = r.femur_z + rng.uniform(-5, 25);
  r.pelvis_w = rng.uniform(95, 120);
  r.arms_beside = rng.chance(0.35);
  r.arm_r = rng.uniform(35, 50);
  r.arm_gap = rng.uniform(3, 25);
  // The iliac wings need a wide pelvis below the crest; then the outline is smoothed along z
  // (a running maximum, then a running mean over about 30 mm).
  for (std::size_t b = 0; b < r.body.size(); ++b) {
    const double z = r.band_z0 + double(b) * r.band_mm;
    if (z < r.iliac_z + 10) r.body[b][0] = std::max(r.body[b][0], r.pelvis_w + 30 + an.muscle_mm + an.fat_mm);
  }
  // The chest is no narrower than the upper abdomen (the map's top levels hold only the liver
  // dome), and the lower abdomen not much narrower than the pancreas' level.
  const std::size_t mid = std::size_t(std::clamp((hand[2] - r.band_z0) / r.band_mm, 0.0, double(r.body.size() - 1)));
  for (std::size_t b = mid + 1; b < r.body.size(); ++b)
    for (int a = 0; a < 3; ++a) r.body[b][a] = std::max(r.body[b][a], r.body[b - 1][a]);
  for (std::size_t b = 0; b < mid; ++b)
    for (int a = 0; a < 3; ++a) r.body[b][a] = std::max(r.body[b][a], 0.85 * r.body[mid][a]);
  const auto window = [&](int half, bool maximum) {
    auto out = r.body;
    const int n = int(r.body.size());
    for (int b = 0; b < n; ++b)
      for (int a = 0; a < 3; ++a) {
        double v = 0, cnt = 0;
        for (int d = -half; d <= half; ++d) {
          const int j = std::clamp(b + d, 0, n - 1);
          v = maximum ? std::max(v, r.body[std::size_t(j)][std::size_t(a)]) : v + r.body[std::size_t(j)][std::size_t(a)];
          ++cnt;
        }
        out[std::size_t(b)][std::size_t(a)] = maximum ? v : v / cnt;
      }
    r.body = std::move(out);
  };
  window(3, true);
  window(3, false);
  double widest = 0, deepest = 0;
  for (const auto& b : r.body) widest = std::max(widest, b[0]), deepest = std::max(deepest, b[2]);
  r.arms_a = widest;
  r.table_y = an.body_y0 - deepest - rng.uniform(2, 25);
  return r;
}

// A slice thickness as real abdominal CT has them: thin, standard or thick reconstructions.
double draw_slice_mm(Rng& rng) {
  const double u = rng.uniform();
  if (u < 0.25) return rng.uniform(0.6, 1.0);
  if (u < 0.5) return rng.uniform(1.25, 2.0);
  if (u < 0.8) return rng.uniform(2.5, 3.0);
  return rng.uniform(4.0, 5.0);
}

PhantomCase make_on_anatomy(const PhantomOptions& o, int index) {
  const std::filesystem::path& file = o.anatomy[std::size_t(index) % o.anatomy.size()];
  const LabelMapAnatomy map = read_label_map_anatomy(file, o.anatomy_set);
  Rng rng(o.seed * 0x100000001B3ULL + std::uint64_t(index) * 7919 + 17);
  // Long tubes: the hand-made vessels and bowel reach any field of view.
  Anatomy an = make_anatomy(o, index, 400, rng, 200);
  an.fat_mm = rng.chance(0.3) ? rng.uniform(30, 60) : rng.uniform(6, 30);  // habitus: thin to obese
  const ContrastPhase phase = o.random_phase ? std::array{ContrastPhase::Native, ContrastPhase::Arterial,
                                                          ContrastPhase::PortalVenous}[std::size_t(rng.uniform(0, 2.999))]
                                             : o.phase;
  const RealAnatomy real = place_real_anatomy(map, an, rng);

  // The grid: in-plane 512 x 512 over a field of view that holds the body (or the spacing asked
  // for), slices of a drawn thickness; craniocaudally from above the liver to the pelvis, a
  // random extent and offset, always holding the whole pancreas.
  const Geometry& mg = map.organs.geometry();
  double mz_lo = 1e9, mz_hi = -1e9, pz_lo = 1e9, pz_hi = -1e9;
  for (std::int64_t k : {std::int64_t(0), mg.dims[2] - 1}) {
    const double wz = mg.to_world({0, 0, double(k)})[2] + real.offset[2];
    mz_lo = std::min(mz_lo, wz);
    mz_hi = std::max(mz_hi, wz);
  }
  for (std::int64_t z = 0; z < mg.dims[2]; ++z) {
    bool any = false;
    for (std::int64_t i = 0; i < mg.dims[0] * mg.dims[1] && !any; ++i)
      any = mg.dims[0] > 0 && AnatomyOrgan(map.organs.data()[z * mg.dims[0] * mg.dims[1] + i]) == AnatomyOrgan::Pancreas;
    if (!any) continue;
    const double wz = mg.to_world({0, 0, double(z)})[2] + real.offset[2];
    pz_lo = std::min(pz_lo, wz);
    pz_hi = std::max(pz_hi, wz);
  }
  const double dxy = o.spacing_mm[0] > 0 ? o.spacing_mm[0] : 0;
  // The field of view holds the body (and the arms beside it) across, and front to back from
  // the widest front down to the table.
  double front = 0;
  for (const auto& b : real.body) front = std::max(front, b[1]);
  // (Drawn: the trunk fits, arms beside it may be cut off, as in real scans.)
  const double body_w = std::max(2 * (real.arms_a + (real.arms_beside ? 2 * real.arm_r + real.arm_gap : 0)),
                                 an.body_y0 + front - real.table_y + 12) + 20;
  const double trunk_w = std::max(2 * real.arms_a, an.body_y0 + front - real.table_y + 12) + 10;
  const double fov = dxy > 0 ? std::max(body_w, 300.0) : std::clamp(rng.uniform(std::max(trunk_w, 330.0), 500.0), 300.0, 512.0);
  const double y_mid = 0.5 * (an.body_y0 + front + real.table_y - 12);
  const double in_plane = dxy > 0 ? dxy : fov / 512;
  const double dz = o.spacing_mm[2] > 0 ? o.spacing_mm[2] : draw_slice_mm(rng);
  const double below = 70;  // hand-made pelvis below the map
  double extent = rng.uniform(180, 420);
  extent = std::clamp(extent, pz_hi - pz_lo + 40, mz_hi - mz_lo + below);
  double lo_min = std::max(mz_lo - below, pz_hi + 20 - extent), lo_max = std::min(pz_lo - 20, mz_hi - extent);
  if (lo_min > lo_max) lo_max = lo_min;
  const double z_lo = rng.uniform(lo_min, lo_max);

  Geometry g;
  const std::int64_t n_xy = std::max<std::int64_t>(8, std::llround(fov / in_plane));
  g.dims = {n_xy, n_xy, std::max<std::int64_t>(8, std::llround(extent / dz))};
  if (o.spacing_mm[1] > 0 && o.spacing_mm[1] != in_plane)
    throw OptionError("phantom spacing: x and y must be the same (square pixels)");
  g.spacing_mm = {in_plane, in_plane, dz};
  // Centred between the body's front and the table.
  g.origin_mm = {-0.5 * double(n_xy - 1) * in_plane, y_mid - 0.5 * double(n_xy - 1) * in_plane, z_lo + 0.5 * dz};
  if (double(g.voxel_count()) > double(kMaxVolumeVoxels)) throw OptionError("phantom grid too large");

  const double voxel_mm3 = g.spacing_mm[0] * g.spacing_mm[1] * g.spacing_mm[2];
  const double noise_sd = o.noise_scale * rng.uniform(0.6, 1.6) * std::clamp(10.0 * std::pow(27.0 / voxel_mm3, 0.25), 6.0, 30.0);
  const double k = rng.uniform();
  const double kernel = k < 0.35 ? -rng.uniform(0.5, 1.0) : k < 0.75 ? 0.0 : rng.uniform(0.3, 0.8);
  const int ss = in_plane > 1.2 ? 2 : 1;
  double cls_hu[kClsCount];
  for (int c = 0; c < kClsCount; ++c) cls_hu[c] = an.hu(Cls(c), phase);

  Rendered r = render(an, &real, g, ss, cls_hu, noise_sd, kernel == 0 ? 1e-9 : kernel);
  PhantomCase out;
  out.c.id = fmt::format("phantom_{:03d}", index);
  out.c.image = r.image;
  out.c.label = r.label;
  out.c.source = fmt::format("c2f-phantom seed {} case {} ({}, anatomy {})", o.seed, index, phase_name(phase), file.string());
  out.c.layout.native = g;
  out.tissues = r.tissues;
  out.phase = phase;
  out.anatomy = file.string();
  out.anatomy_set = map.set;
  out.anatomy_offset_mm = real.offset;
  if (count_foreground(*r.label) == 0) throw InputError(file.string(), "its pancreas fell outside the phantom's grid");
  return out;
}

}  // namespace

PhantomCase make_phantom(const PhantomOptions& o, int index) {
  o.validate();
  if (index < 0) throw OptionError("phantom case index must be >= 0");
  if (!o.anatomy.empty()) return make_on_anatomy(o, index);
  Rng rng(o.seed * 0x100000001B3ULL + std::uint64_t(index) * 7919 + 17);
  const double fov = o.fov_mm > 0 ? o.fov_mm : rng.uniform(360, 440);
  const double extent_z = o.extent_z_mm > 0 ? o.extent_z_mm : rng.uniform(220, 260);
  const Anatomy an = make_anatomy(o, index, extent_z, rng);

  Geometry g;
  g.dims = o.size;
  const double dxy = fov / double(std::max(o.size[0], o.size[1]));
  g.spacing_mm = {dxy, dxy, extent_z / double(o.size[2])};
  g.origin_mm = {-0.5 * double(o.size[0] - 1) * dxy, -0.5 * double(o.size[1] - 1) * dxy, an.z_lo + 0.5 * g.spacing_mm[2]};
  const double voxel_mm3 = g.spacing_mm[0] * g.spacing_mm[1] * g.spacing_mm[2];
  const double noise_sd = o.noise_scale * std::clamp(10.0 * std::pow(27.0 / voxel_mm3, 0.25), 6.0, 30.0);
  const int ss = dxy > 1.2 ? 2 : 1;  // in-plane supersampling for partial volume

  double cls_hu[kClsCount];
  for (int c = 0; c < kClsCount; ++c) cls_hu[c] = an.hu(Cls(c), o.phase);
  const Rendered r = render(an, nullptr, g, ss, cls_hu, noise_sd, 0);

  PhantomCase out;
  out.c.id = fmt::format("phantom_{:03d}", index);
  out.c.image = r.image;
  out.c.label = r.label;
  out.c.source = fmt::format("c2f-phantom seed {} case {} ({})", o.seed, index, phase_name(o.phase));
  out.c.layout.native = g;
  out.tissues = r.tissues;
  out.phase = o.phase;
  return out;
}

}  // namespace c2f
