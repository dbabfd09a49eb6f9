#include <doctest/doctest.h>

#include <cstdlib>

#include <fmt/format.h>

#include "../../io/case_store.hpp"
#include "../../phantom/phantom.hpp"
#include "../../pipeline/errors.hpp"
#include "test_support.hpp"

using namespace c2f;

namespace {
Case sample_case(int index) {
  PhantomOptions o;
  o.size = {20, 18, 8};
  Case c = make_phantom(o, index).c;
  c.layout = layout_with_orientation(c.image->geometry(), "LAS");
  return c;
}
}  // namespace

TEST_CASE("the HDF5 case store round-trips images, labels, probability maps and geometry") {
  test::ScratchDir dir("store");
  const Case a = sample_case(0), b = sample_case(1);
  ProbabilityMap p(a.image->geometry());
  for (std::int64_t i = 0; i < p.size(); ++i) p.data()[i] = float(i % 100) / 100.0f;
  {
    CaseStoreWriter w(dir / "cohort.h5");
    w.add(a);
    w.add(b);
    w.add_probability(a.id, "coarse", p);
    w.commit();
  }
  CaseStoreReader r(dir / "cohort.h5");
  CHECK(r.case_ids() == std::vector<std::string>{a.id, b.id});
  const Case back = r.read_case(a.id);
  CHECK(back.image->geometry().same_grid(a.image->geometry(), 1e-9));
  CHECK(std::equal(back.image->voxels().begin(), back.image->voxels().end(), a.image->voxels().begin()));
  REQUIRE(back.label);
  CHECK(std::equal(back.label->voxels().begin(), back.label->voxels().end(), a.label->voxels().begin()));
  CHECK(back.layout.source_axis == a.layout.source_axis);
  CHECK(back.layout.flipped == a.layout.flipped);
  CHECK(back.layout.native.same_grid(a.layout.native, 1e-9));
  CHECK(back.source == a.source);
  const auto q = r.read_probability(a.id, "coarse");
  REQUIRE(q);
  CHECK(std::equal(q->voxels().begin(), q->voxels().end(), p.voxels().begin()));
  CHECK_FALSE(r.read_probability(b.id, "coarse"));
  CHECK_THROWS_AS(r.read_case("nobody"), InputError);
}

TEST_CASE("h5py reads the case store as plain numpy arrays in [z, y, x] order") {
  test::ScratchDir dir("store-h5py");
  const Case a = sample_case(2);
  {
    CaseStoreWriter w(dir / "s.h5");
    w.add(a);
    w.commit();
  }
  const Index3 d = a.image->dims();
  const std::string check = fmt::format(
      "import h5py, numpy as np, sys\n"
      "f = h5py.File(sys.argv[1], 'r')\n"
      "g = f['cases/{id}']\n"
      "img, lab = g['image'][()], g['label'][()]\n"
      "assert img.shape == ({z}, {y}, {x}) and img.dtype == np.float32, (img.shape, img.dtype)\n"
      "assert lab.dtype == np.uint8 and int(lab.sum()) == {n}, int(lab.sum())\n"
      "assert abs(float(img[{kz}, {ky}, {kx}]) - ({v})) < 1e-3\n"
      "assert list(g.attrs['dims_xyz']) == [{x}, {y}, {z}]\n"
      "assert g['image'].chunks is not None and g['image'].compression == 'gzip'\n"
      "print('h5py ok')\n",
      fmt::arg("id", a.id), fmt::arg("x", d[0]), fmt::arg("y", d[1]), fmt::arg("z", d[2]),
      fmt::arg("n", count_foreground(*a.label)), fmt::arg("kx", 5), fmt::arg("ky", 7), fmt::arg("kz", 3),
      fmt::arg("v", (*a.image)(5, 7, 3)));
  test::write_bytes(dir / "check.py", check);
  const std::string cmd = std::string(C2F_PYTHON) + " " + (dir / "check.py").string() + " " + (dir / "s.h5").string();
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("an uncommitted store leaves no file, and non-stores are refused by name") {
  test::ScratchDir dir("store-bad");
  {
    CaseStoreWriter w(dir / "never.h5");
    w.add(sample_case(0));
  }
  CHECK(test::count_entries(dir.path()) == 0);
  CHECK_THROWS_WITH_AS(CaseStoreReader(dir / "never.h5"), doctest::Contains("no such file"), InputError);
  test::write_bytes(dir / "text.h5", "plain text, not HDF5");
  CHECK_THROWS_WITH_AS(CaseStoreReader(dir / "text.h5"), doctest::Contains("not an HDF5 file"), InputError);
  {
    CaseStoreWriter w(dir / "good.h5");
    w.add(sample_case(0));
    w.commit();
  }
  const std::string bytes = test::read_bytes(dir / "good.h5");
  test::write_bytes(dir / "cut.h5", bytes.substr(0, bytes.size() / 3));
  CHECK_THROWS_AS(
      {
        CaseStoreReader r(dir / "cut.h5");
        r.read_case("phantom_000");
      },
      InputError);
}
