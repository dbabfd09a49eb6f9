#include "c2f/phantom/phantom.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <vector>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "c2f/pipeline/errors.hpp"
#include "c2f/pipeline/random.hpp"

namespace c2f {

ContrastPhase parse_phase(std::string_view name) {
  if (name == "native") return ContrastPhase::Native;
  if (name == "portal-venous" || name == "portal" || name == "pv") return ContrastPhase::PortalVenous;
  throw OptionError("unknown contrast phase '" + std::string(name) + "' (expected native or portal-venous)");
}

const char* phase_name(ContrastPhase p) { return p == ContrastPhase::Native ? "native" : "portal-venous"; }

void PhantomOptions::validate() const {
  for (int a = 0; a < 3; ++a)
    if (size[a] < 8 || size[a] > 2048)
      throw OptionError(fmt::format("phantom size {}x{}x{}: each dimension must be in [8, 2048]", size[0], size[1], size[2]));
  if (fov_mm != 0 && (fov_mm < 250 || fov_mm > 600)) throw OptionError("phantom field of view must be in [250, 600] mm");
  if (extent_z_mm != 0 && (extent_z_mm < 100 || extent_z_mm > 500))
    throw OptionError("phantom cranio-caudal extent must be in [100, 500] mm");
  if (!(noise_scale >= 0 && noise_scale <= 10)) throw OptionError("phantom noise scale must be in [0, 10]");
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
  void finish() {
    for (std::size_t i = 0; i < pts.size(); ++i) box.add(pts[i], radius[i] * (1 + wobble) * std::max(1.0, squash_y));
  }
  // Normalised distance to the centre line (< 1 inside); t_out: where along the line (0..1).
  double level(const Vec3& p, double shrink_mm = 0, double* t_out = nullptr) const {
    double best = 1e30, best_t = 0;
    const double n = double(pts.size() - 1);
    for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
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
    double v = kHu[c].native + (phase == ContrastPhase::PortalVenous ? kHu[c].enhancement : 0.0);
    if (c == kPancreas) v += pancreas_shift;
    if (c == kLiver) v += liver_shift;
    return v;
  }
};

Anatomy make_anatomy(const PhantomOptions& o, int index, double extent_z, Rng& rng) {
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
  an.aorta = make_tube({{xa, ya, an.z_lo - 10}, {xa, ya + 1, an.z_hi + 10}}, {ra * 0.92, ra}, 1);
  const double xi = rng.uniform(18, 28), yi = ys + rs + rng.uniform(10, 14);
  an.ivc = make_tube({{xi, yi, an.z_lo - 10}, {xi + 2, yi + 2, 40}, {xi + 10, yi + 6, an.z_hi + 10}}, {11, 12, 13}, 4);
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

// What lies at world point p. Painting order decides who wins where shapes overlap: the
// duodenum and the vessels are painted over the pancreas, bowel and organs under it.
Painted paint(const Anatomy& an, const Vec3& p) {
  const double x = p[0], y = p[1], z = p[2];
  auto in_ellipse = [&](double a, double b) {
    const double u = x / a, v = (y - an.body_y0) / b;
    return u * u + v * v <= 1;
  };
  if (!in_ellipse(an.body_a, an.body_b)) return {kAir, tissue::kOutside};
  Painted out{kSubFat, tissue::kSubcutaneousFat};
  const double wall_a = an.body_a - an.fat_mm, wall_b = an.body_b - an.fat_mm;
  if (!in_ellipse(wall_a, wall_b)) return out;
  out = {kMuscle, tissue::kMuscle};
  const double cav_a = wall_a - an.muscle_mm, cav_b = wall_b - an.muscle_mm;
  const bool cavity = in_ellipse(cav_a, cav_b);

  // Ribs: oblique cuts through the wall's inner layer, above rib_z_start.
  if (z > an.rib_z_start && !cavity) {
    const double ang = std::atan2(x, y - an.body_y0);  // 0 anterior, +-pi posterior
    const double a_abs = std::abs(ang);
    if (a_abs > 0.9 && a_abs < 2.7) {
      const double phase = a_abs * 4.2 + z * 0.075;  // about 5 ribs a side, sloping down to the front
      const double frac = phase - std::floor(phase);
      if (frac < 0.2) return {frac < 0.04 || frac > 0.16 ? kCortical : kCancellous, tissue::kBone};
    }
  }
  if (cavity) out = {kVisFat, tissue::kVisceralFat};

  // Spine and the muscles beside it.
  const double ys = an.spine_y, rs = an.spine_r;
  {
    const double dx = x, dy = y - ys;
    const double rv = std::sqrt(dx * dx + dy * dy);
    if (rv < rs) {
      const double dz = std::fmod(std::abs(z - an.disc_z0), 31.0);
      if (dz < 6.5) return {kDisc, tissue::kBone};
      return {rv > rs - 2.2 ? kCortical : kCancellous, tissue::kBone};
    }
    const double cy = ys - rs - 9;
    const double rc = std::hypot(x, y - cy);
    if (rc < 8) return {kCsf, tissue::kSpinalCanal};
    if (rc < 11.5 || (std::abs(x) < 5 && y < cy && y > cy - 32) || (std::abs(x) < 26 && std::abs(y - cy + 3) < 5))
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

  if (an.liver_right.level(p) < 1 || an.liver_left.level(p) < 1) out = {kLiver, tissue::kLiver};
  if (an.has_gallbladder && an.gallbladder.level(p) < 1) out = {kGallbladder, tissue::kGallbladder};
  if (an.spleen.level(p) < 1) out = {kSpleen, tissue::kSpleen};
  for (int side = 0; side < 2; ++side) {
    const Ellipsoid& k = an.kidney[side];
    if (!k.box.has_z(z)) continue;
    const double q = k.level(p);
    if (q < 1) {
      const std::uint8_t code = side == 0 ? tissue::kKidneyLeft : tissue::kKidneyRight;
      out = {q > 0.72 ? kKidCortex : kKidMedulla, code};
      if (an.kidney_pelvis[side].level(p) < 1) out = {kKidPelvis, code};
    }
  }
  // Lung bases in the costophrenic recesses, under the diaphragm's 5 mm of muscle: painted over
  // the organs' upper poles, as the domes push them down.
  for (const auto& l : an.lung)
    if (l.box.has_z(z)) {
      if (l.level(p) < 1) return {kLung, tissue::kLung};
      if (l.level(p, -5) < 1) out = {kMuscle, tissue::kMuscle};
    }
  if (an.stomach.box.has_z(z)) {
    const double q = an.stomach.level(p);
    if (q < 1) out = {an.stomach.level(p, 5) >= 1 ? kStomachWall : (y > an.stomach_gas_y ? kGas : kFluid), tissue::kStomach};
  }
  if (an.antrum.box.has_z(z)) {
    const double q = an.antrum.level(p);
    if (q < 1) out = {an.antrum.level(p, 4) >= 1 ? kStomachWall : kFluid, tissue::kStomach};
  }
  if (an.colon.box.has_z(z) && an.colon.box.has_y(y)) {
    const double q = an.colon.level(p);
    if (q < 1) {
      Cls c = an.colon.level(p, 3) >= 1 ? kBowelWall : kStool;
      if (c == kStool && value_noise(p, 9, an.colon.seed) > 0.45) c = kGas;
      out = {c, tissue::kColon};
    }
  }
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
  if (an.pancreas.box.has_z(z) && an.pancreas.box.has_y(y) && an.pancreas.level(p) < 1) out = {kPancreas, tissue::kPancreas};
  if (an.duodenum.box.has_z(z) && an.duodenum.box.has_y(y) && an.duodenum.level(p) < 1)
    out = {an.duodenum.level(p, 2.5) >= 1 ? kDuoWall : kFluid, tissue::kDuodenum};
  if (an.aorta.level(p) < 1) out = {kAorta, tissue::kAorta};
  if (an.ivc.level(p) < 1) out = {kIvc, tissue::kIvc};
  if (an.sma.box.has_z(z) && an.sma.level(p) < 1) out = {kArtery, tissue::kOtherVessel};
  for (const Tube* v : {&an.smv, &an.portal, &an.splenic})
    if (v->box.has_z(z) && v->box.has_y(y) && v->level(p) < 1) out = {kPortal, tissue::kPortalSplenicVein};
  return out;
}

}  // namespace

PhantomCase make_phantom(const PhantomOptions& o, int index) {
  o.validate();
  if (index < 0) throw OptionError("phantom case index must be >= 0");
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

  auto image = std::make_shared<Image>(g);
  auto label = std::make_shared<Mask>(g);
  auto tissues = std::make_shared<Mask>(g);
  const std::int64_t nx = o.size[0], ny = o.size[1], nz = o.size[2];
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
        const Painted t = paint(an, p);
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
        const float hu = coarse.at<float>(int(j), int(i)) + float(noise_sd * noise.normal());
        (*image)(i, j, k) = std::round(std::clamp(hu, -1024.0f, 3071.0f));
        (*tissues)(i, j, k) = code;
        (*label)(i, j, k) = code == tissue::kPancreas ? 1 : 0;
      }
  });

  PhantomCase out;
  out.c.id = fmt::format("phantom_{:03d}", index);
  out.c.image = image;
  out.c.label = label;
  out.c.source = fmt::format("c2f-phantom seed {} case {} ({})", o.seed, index, phase_name(o.phase));
  out.c.layout.native = g;
  out.tissues = tissues;
  return out;
}

}  // namespace c2f
