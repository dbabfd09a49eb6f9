#!/usr/bin/env python3
"""The bad-input matrix: malformed inputs of one kind, each given to the executable that reads it.

Every row must end the same way: a non-zero exit code (1 for bad data, 2 for a bad command line),
exactly one line on stderr, "<tool>: error: ..." naming the file (or the option), and no output
file. Usage: test_bad_input.py BIN_DIR SOURCE_DIR KIND, KIND one of nifti, dicom, hdf5,
checkpoint, folds, options.
"""
import gzip
import io
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor

BIN, SOURCE, KIND = sys.argv[1], sys.argv[2], sys.argv[3]
WEIGHTS = os.path.join(SOURCE, "weights", "phantom-light-unet")
WORK = tempfile.mkdtemp(prefix=f"c2f-bad-{KIND}-")


def exe(name):
    return os.path.join(BIN, name)


def run(args):
    return subprocess.run(args, capture_output=True, text=True, errors="replace")


def files_under(path):
    if not os.path.exists(path):
        return []
    if os.path.isfile(path):
        return [path]
    return [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Matrix:
    def __init__(self):
        self.rows = []  # (name, argv, must_name, out_dir, allowed_files)

    def add(self, name, argv, must_name, out_dir, allowed=()):
        self.rows.append((name, argv, must_name, out_dir, set(allowed)))

    def check(self):
        def one(row):
            name, argv, must_name, out_dir, allowed = row
            r = run(argv)
            lines = [l for l in r.stderr.splitlines() if l.strip()]
            problems = []
            if r.returncode not in (1, 2):
                problems.append(f"exit code {r.returncode} (expected 1 or 2)")
            if len(lines) != 1:
                problems.append(f"{len(lines)} stderr lines (expected 1)")
            tool = os.path.basename(argv[0])
            if not lines or not lines[-1].startswith(f"{tool}: error: "):
                problems.append("no '<tool>: error: ' line")
            elif must_name not in lines[-1]:
                problems.append(f"the error does not name {must_name!r}")
            left = [f for f in files_under(out_dir) if f not in allowed]
            if left:
                problems.append(f"output written: {left[:3]}")
            return name, problems, r.stderr.strip()[-600:]

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(one, self.rows))
        failed = 0
        for name, problems, err in results:
            status = "ok  " if not problems else "FAIL"
            print(f"{status} {name}: {err.splitlines()[-1] if err else '(no stderr)'}")
            if problems:
                failed += 1
                print(f"     {'; '.join(problems)}\n     stderr: {err}")
        print(f"{KIND}: {len(results)} malformed inputs, {len(results) - failed} handled as required")
        if len(results) < 25:
            print(f"{KIND}: fewer than 25 rows")
            return 1
        return 1 if failed else 0


def phantom(out, *extra, size="32x32x16", seed=5):  # ~12-15 mm voxels: inside the 20 mm c2f resamples from
    r = run([exe("c2f-phantom"), "-q", "--out", out, "--cases", "1", "--seed", str(seed), "--size", size, *extra])
    assert r.returncode == 0, r.stderr


def segment_argv(image, out, *extra):
    return [exe("c2f-segment"), "-q", "-i", image, "-o", out, "--iterations", "1", "--no-overlays", *extra]


# --------------------------------------------------------------------------------------------
# NIfTI: c2f-segment -i bad.nii[.gz]
def nifti_rows(m):
    phantom(os.path.join(WORK, "src"))
    gz = read(os.path.join(WORK, "src", "phantom_000.nii.gz"))
    raw = bytearray(gzip.decompress(gz))
    hdr_end = int(struct.unpack_from("<f", raw, 108)[0])

    def patched(fmt, offset, *values):
        b = bytearray(raw)
        struct.pack_into(fmt, b, offset, *values)
        return bytes(b)

    cases = {
        "empty file": b"",
        "ten bytes": bytes(raw[:10]),
        "header cut at 200 bytes": bytes(raw[:200]),
        "header cut at 347 bytes": bytes(raw[:347]),
        "header only, no voxels": bytes(raw[:hdr_end]),
        "voxels cut in half": bytes(raw[: hdr_end + (len(raw) - hdr_end) // 2]),
        "last voxel byte missing": bytes(raw[:-1]),
        "sizeof_hdr 0": patched("<i", 0, 0),
        "sizeof_hdr 1000": patched("<i", 0, 1000),
        "magic 'abc'": patched("4s", 344, b"abc\0"),
        "dim[0] = 0": patched("<h", 40, 0),
        "dim[0] = 9": patched("<h", 40, 9),
        "dim[1] = 0": patched("<h", 42, 0),
        "dim[2] = -5": patched("<h", 44, -5),
        "dims 30000^3 (data absent)": patched("<hhh", 42, 30000, 30000, 30000),
        "three volumes (4D)": patched("<h", 40, 4)[:48] + struct.pack("<h", 3) + bytes(raw[50:]),
        "datatype 9999": patched("<h", 70, 9999),
        "datatype complex64": patched("<hh", 70, 32, 64),
        "datatype RGB24": patched("<hh", 70, 128, 24),
        "bitpix disagrees with datatype": patched("<h", 72, 64),
        "no transform and spacing 0": patched("<hh", 252, 0, 0)[:80] + struct.pack("<f", 0.0) + patched("<hh", 252, 0, 0)[84:],
        "spacing NaN": patched("<f", 84, float("nan")),
        "spacing infinite": patched("<f", 88, float("inf")),
        # Spacings c2f refuses when it resamples to the networks' grid (0.05-20 mm on every axis).
        "no transform and spacing 25 mm": patched("<hh", 252, 0, 0)[:80] + struct.pack("<f", 25.0) + patched("<hh", 252, 0, 0)[84:],
        "no transform and spacing 0.01 mm": patched("<hh", 252, 0, 0)[:80] + struct.pack("<f", 0.01) + patched("<hh", 252, 0, 0)[84:],
        "vox_offset beyond the file": patched("<f", 108, float(len(raw) + 4096)),
        "vox_offset 100 (inside the header)": patched("<f", 108, 100.0),
        "scl_slope infinite": patched("<f", 112, float("-inf")),
        "scl_inter infinite": patched("<ff", 112, 1.0, float("inf")),
        "sform singular": patched("<hh", 252, 0, 1)[:280] + bytes(48) + bytes(raw[328:]),
        "qform quaternion NaN": patched("<hhfff", 252, 1, 0, float("nan"), 0.0, 0.0),
        "text file": b"this is not an image\n" * 40,
    }
    for i, (name, data) in enumerate(cases.items()):
        path = write(os.path.join(WORK, "in", f"case{i:02d}.nii"), data)
        m.add(f"{name} (.nii)", segment_argv(path, os.path.join(WORK, f"out{i:02d}")), path, os.path.join(WORK, f"out{i:02d}"))
    gz_cases = {
        "gzip stream corrupt": gz[:40] + bytes(b ^ 0x5A for b in gz[40:80]) + gz[80:],
        "gzip cut in half": gz[: len(gz) // 2],
        "gzip of a text": gzip.compress(b"not an image at all" * 30),
        "gzip of an empty file": gzip.compress(b""),
        "gzip trailer damaged": gz[:-4] + b"\0\0\0\0",
    }
    for i, (name, data) in enumerate(gz_cases.items()):
        path = write(os.path.join(WORK, "in", f"gz{i:02d}.nii.gz"), data)
        m.add(f"{name} (.nii.gz)", segment_argv(path, os.path.join(WORK, f"outgz{i}")), path, os.path.join(WORK, f"outgz{i}"))
    # A label that does not fit its image.
    label = write(os.path.join(WORK, "in", "small_label.nii.gz"), gzip.compress(patched("<hhh", 42, 12, 24, 12)))
    img = os.path.join(WORK, "src", "phantom_000.nii.gz")
    m.add("label grid differs from the image", segment_argv(img, os.path.join(WORK, "outlab"), "--label", label), label,
          os.path.join(WORK, "outlab"))


# --------------------------------------------------------------------------------------------
# DICOM: c2f-segment -i series_folder. The phantom writes implicit-VR little-endian files.
def dicom_parse(b):
    """(prefix, [(group, element, value)]): the file meta part kept as bytes, the data set split."""
    i = 132
    gl = struct.unpack_from("<I", b, 132 + 8)[0]
    i = 132 + 12 + gl
    prefix, elems = b[:i], []
    while i < len(b):
        g, e, n = struct.unpack_from("<HHI", b, i)
        elems.append([g, e, b[i + 8 : i + 8 + n]])
        i += 8 + n
    return prefix, elems


def dicom_build(prefix, elems):
    return prefix + b"".join(struct.pack("<HHI", g, e, len(v)) + v for g, e, v in elems)


def dicom_set(b, tag, value=None, delete=False):
    prefix, elems = dicom_parse(b)
    found = False
    for el in elems:
        if (el[0], el[1]) == tag:
            found = True
            el[2] = value
    if delete:
        elems = [el for el in elems if (el[0], el[1]) != tag]
    elif not found:
        elems.append([tag[0], tag[1], value])
        elems.sort(key=lambda el: (el[0], el[1]))
    return dicom_build(prefix, elems)


def dicom_get(b, tag):
    return next(v for g, e, v in dicom_parse(b)[1] if (g, e) == tag)


def ds(text):
    t = text.encode()
    return t + (b" " if len(t) % 2 else b"")


def dicom_rows(m):
    phantom(os.path.join(WORK, "src"), "--layout", "nih", size="16x16x8")
    series = next(d for d, _, fs in os.walk(os.path.join(WORK, "src", "PANCREAS_0001")) if fs)
    names = sorted(os.listdir(series))
    slices = [read(os.path.join(series, n)) for n in names]
    # Slices sorted by position along z, so "middle" and "first" mean what they say.
    slices.sort(key=lambda s: float(dicom_get(s, (0x0020, 0x0032)).decode().split("\\")[2]))
    PIX, ROWS, COLS = (0x7FE0, 0x0010), (0x0028, 0x0010), (0x0028, 0x0011)

    def one_changed(k, **kw):
        out = list(slices)
        out[k] = dicom_set(out[k], **kw)
        return out

    variants = {
        "empty folder": [],
        "only a text file": ["text"],
        "a zero-byte slice": [b""] + slices[1:],
        "a slice cut to 100 bytes": [slices[0][:100]] + slices[1:],
        "a slice's pixel data cut short": [slices[0][:-100]] + slices[1:],
        "a slice without pixel data": one_changed(0, tag=PIX, delete=True),
        "two series in the folder": one_changed(3, tag=(0x0020, 0x000E), value=ds("2.25.999")),
        "two slices at one position": slices[:4] + [slices[3]] + slices[5:],
        "a slice missing in the middle": slices[:3] + slices[4:],
        "rows differ in one slice": one_changed(2, tag=ROWS, value=struct.pack("<H", 15)),
        "columns differ in one slice": one_changed(2, tag=COLS, value=struct.pack("<H", 17)),
        "bits allocated 12": [dicom_set(s, tag=(0x0028, 0x0100), value=struct.pack("<H", 12)) for s in slices],
        "bits allocated 32, data for 16": [dicom_set(s, tag=(0x0028, 0x0100), value=struct.pack("<H", 32)) for s in slices],
        "three samples per pixel": [dicom_set(s, tag=(0x0028, 0x0002), value=struct.pack("<H", 3)) for s in slices],
        "photometric RGB": [dicom_set(s, tag=(0x0028, 0x0004), value=ds("RGB")) for s in slices],
        "pixel spacing 0": [dicom_set(s, tag=(0x0028, 0x0030), value=ds("0\\0")) for s in slices],
        "pixel spacing not numbers": [dicom_set(s, tag=(0x0028, 0x0030), value=ds("ab\\cd")) for s in slices],
        "pixel spacing NaN": [dicom_set(s, tag=(0x0028, 0x0030), value=ds("nan\\1")) for s in slices],
        "position not numbers": one_changed(1, tag=(0x0020, 0x0032), value=ds("x\\y\\z")),
        "position missing": one_changed(1, tag=(0x0020, 0x0032), delete=True),
        "orientation zero vectors": [dicom_set(s, tag=(0x0020, 0x0037), value=ds("0\\0\\0\\0\\0\\0")) for s in slices],
        "orientation differs in one slice": one_changed(2, tag=(0x0020, 0x0037), value=ds("0\\1\\0\\1\\0\\0")),
        "rescale slope not a number": [dicom_set(s, tag=(0x0028, 0x1053), value=ds("abc")) for s in slices],
        "rescale slope 0": [dicom_set(s, tag=(0x0028, 0x1053), value=ds("0")) for s in slices],
        "rescale intercept infinite": [dicom_set(s, tag=(0x0028, 0x1052), value=ds("inf")) for s in slices],
        "no DICM magic": [s[:128] + b"XXXX" + s[132:] for s in slices],
        "unknown transfer syntax": [s.replace(b"1.2.840.10008.1.2\0", b"1.2.840.10008.9.9\0") for s in slices],
        "only one slice": slices[:1],
        "pixel data of odd length": one_changed(0, tag=PIX, value=dicom_get(slices[0], PIX)[:-1]),
    }
    for i, (name, files) in enumerate(variants.items()):
        folder = os.path.join(WORK, "in", f"series{i:02d}")
        os.makedirs(folder)
        for k, data in enumerate(files):
            write(os.path.join(folder, f"slice{k:03d}.dcm"), data.encode() if isinstance(data, str) else data)
        out = os.path.join(WORK, f"out{i:02d}")
        m.add(name, segment_argv(folder, out), folder, out)


# --------------------------------------------------------------------------------------------
# HDF5 case store: c2f-segment -i store.h5
def hdf5_rows(m):
    import h5py
    import numpy as np

    phantom(os.path.join(WORK, "src"))
    r = run(segment_argv(os.path.join(WORK, "src"), os.path.join(WORK, "seg"), "--save-probability"))
    assert r.returncode == 0, r.stderr
    base = os.path.join(WORK, "seg", "phantom_000", "probability.h5")
    raw = read(base)

    def edited(i, edit):
        path = os.path.join(WORK, "in", f"store{i:02d}.h5")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copy(base, path)
        with h5py.File(path, "r+") as f:
            edit(f, f["cases"]["phantom_000"])
        return path

    def set_attr(name, value):
        return lambda f, c: c.attrs.__setitem__(name, value)

    def replace(name, value):
        def edit(f, c):
            del c[name]
            c.create_dataset(name, data=value)
        return edit

    edits = {
        "no /cases group": lambda f, c: (f.move("cases", "other")),
        "/cases is empty": lambda f, c: f["cases"].__delitem__("phantom_000"),
        "a case without image": lambda f, c: c.__delitem__("image"),
        "image of rank 2": replace("image", np.zeros((4, 4), np.float32)),
        "image of strings": replace("image", np.array([b"abc"] * 8)),
        "image smaller than dims_xyz": replace("image", np.zeros((12, 24, 23), np.float32)),
        "image holds NaN": lambda f, c: c["image"].__setitem__((0, 0, 0), np.nan),
        "label shape differs": replace("label", np.zeros((12, 24, 20), np.uint8)),
        "dims_xyz of 2 values": set_attr("dims_xyz", np.array([24, 24], np.int64)),
        "dims_xyz negative": set_attr("dims_xyz", np.array([-24, 24, 12], np.int64)),
        "spacing 0": set_attr("spacing_mm", np.array([0.0, 1.0, 1.0])),
        "spacing negative": set_attr("spacing_mm", np.array([1.0, -1.0, 1.0])),
        "spacing NaN": set_attr("spacing_mm", np.array([1.0, 1.0, np.nan])),
        "origin infinite": set_attr("origin_mm", np.array([np.inf, 0.0, 0.0])),
        "direction singular": set_attr("direction", np.zeros(9)),
        "direction of 4 values": set_attr("direction", np.eye(2).ravel()),
        "no spacing attribute": lambda f, c: c.attrs.__delitem__("spacing_mm"),
        "no dims attribute": lambda f, c: c.attrs.__delitem__("dims_xyz"),
        "native dims of another grid": set_attr("native_dims_xyz", np.array([5, 5, 5], np.int64)),
        "source axis 7": set_attr("source_axis", np.array([7, 1, 2], np.int64)),
        "spacing as a string": set_attr("spacing_mm", "one millimetre"),
    }
    rows = {}
    for i, (name, edit) in enumerate(edits.items()):
        rows[name] = edited(i, edit)
    cuts = {
        "empty file": b"",
        "text named .h5": b"not hdf5\n" * 100,
        "cut at 100 bytes": raw[:100],
        "cut at a quarter": raw[: len(raw) // 4],
        "cut in half": raw[: len(raw) // 2],
        "last 100 bytes missing": raw[:-100],
        "superblock zeroed": bytes(64) + raw[64:],
    }
    for i, (name, data) in enumerate(cuts.items()):
        rows[name] = write(os.path.join(WORK, "in", f"cut{i:02d}.h5"), data)
    for i, (name, path) in enumerate(rows.items()):
        out = os.path.join(WORK, f"out{i:02d}")
        m.add(name, segment_argv(path, out), path, out)


# --------------------------------------------------------------------------------------------
# Checkpoints: c2f-segment --models DIR with one of the six malformed.
def checkpoint_rows(m):
    phantom(os.path.join(WORK, "src"))
    image = os.path.join(WORK, "src", "phantom_000.nii.gz")
    good = read(os.path.join(WEIGHTS, "coarse_axial.pt"))

    def rezip(data, edit):
        src = zipfile.ZipFile(io.BytesIO(data))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as dst:
            for info in src.infolist():
                body = edit(info.filename, src.read(info.filename))
                if body is not None:
                    dst.writestr(info.filename, body)
        return buf.getvalue()

    def in_pickle(old, new):
        assert len(old) == len(new)
        def edit(name, body):
            if name.endswith("data.pkl") and old in body:
                return body.replace(old, new, 1)
            return body
        return lambda data: rezip(data, edit)

    def drop(suffix):
        return lambda data: rezip(data, lambda name, body: None if name.endswith(suffix) else body)

    def shorten_tensors(data):
        return rezip(data, lambda name, body: body[: len(body) // 2] if "/data/" in name else body)

    def text_zip(data):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("readme.txt", "not a checkpoint")
        return buf.getvalue()

    variants = {
        "empty file": lambda d: b"",
        "cut at 10 bytes": lambda d: d[:10],
        "cut at 1000 bytes": lambda d: d[:1000],
        "cut in half": lambda d: d[: len(d) // 2],
        "last byte missing": lambda d: d[:-1],
        "random bytes": lambda d: os.urandom(4096),
        "a text file": lambda d: b"weights\n" * 100,
        "a zip of a text file": text_zip,
        "bytes flipped in the middle": lambda d: d[: len(d) // 2] + bytes(b ^ 0xFF for b in d[len(d) // 2 : len(d) // 2 + 64]) + d[len(d) // 2 + 64 :],
        "no data.pkl record": drop("data.pkl"),
        "no version record": drop("version"),
        "tensor data cut short": shorten_tensors,
        "tensor data missing": drop("data/0"),
        "model name unknown": in_pickle(b'"model":"light-unet"', b'"model":"light-xnet"'),
        "view of another network": in_pickle(b'"view":"axial"', b'"view":"coron"'),
        "scale of another network": in_pickle(b'"scale":"coarse"', b'"scale":"fine"  '),
        "format version unknown": in_pickle(b'"format":"c2f checkpoint 1"', b'"format":"c2f checkpoint 9"'),
        "info is not JSON": in_pickle(b'"format":', b'"format" '),
        "info lacks the model": in_pickle(b'"model":', b'"mudel":'),
        "window differs from the other five": in_pickle(b'"window_hu":[-100.0', b'"window_hu":[-101.0'),
        "trained at another spacing than the other five": in_pickle(b'"spacing_mm":[2.0', b'"spacing_mm":[3.0'),
    }
    rows = {}
    damaged_files = []  # damaged bytes (not an info a single file may hold): the ONNX export refuses them too
    for i, (name, make) in enumerate(variants.items()):
        models = os.path.join(WORK, "in", f"models{i:02d}")
        shutil.copytree(WEIGHTS, models)
        data = make(good)
        if data == good:
            raise SystemExit(f"variant '{name}' did not change the checkpoint: its edit did not apply")
        write(os.path.join(models, "coarse_axial.pt"), data)
        rows[name] = (models, os.path.join(models, "coarse_axial.pt"))
        if name in ("empty file", "cut in half", "random bytes", "bytes flipped in the middle", "tensor data cut short",
                    "tensor data missing", "model name unknown", "format version unknown", "info is not JSON"):
            damaged_files.append((name, os.path.join(models, "coarse_axial.pt")))
    for i, (name, path) in enumerate(damaged_files):
        out = os.path.join(WORK, f"onnx{i:02d}.onnx")
        m.add("ONNX export: " + name, [exe("c2f-models"), "--export-onnx", path, out], path, out)
    # The set itself is wrong.
    def custom(i, name, edit):
        models = os.path.join(WORK, "in", f"set{i:02d}")
        shutil.copytree(WEIGHTS, models)
        named = edit(models)
        rows[name] = (models, named)
    custom(0, "one of the six missing", lambda d: (os.remove(os.path.join(d, "fine_sagittal.pt")), os.path.join(d, "fine_sagittal.pt"))[1])
    custom(1, "a folder in place of a checkpoint", lambda d: (os.remove(os.path.join(d, "fine_axial.pt")), os.makedirs(os.path.join(d, "fine_axial.pt")), os.path.join(d, "fine_axial.pt"))[2])
    custom(2, "coronal weights in the axial slot", lambda d: (shutil.copy(os.path.join(d, "coarse_coronal.pt"), os.path.join(d, "coarse_axial.pt")), os.path.join(d, "coarse_axial.pt"))[1])
    custom(3, "fine weights in a coarse slot", lambda d: (shutil.copy(os.path.join(d, "fine_axial.pt"), os.path.join(d, "coarse_axial.pt")), os.path.join(d, "coarse_axial.pt"))[1])
    custom(4, "a dangling link", lambda d: (os.remove(os.path.join(d, "coarse_sagittal.pt")), os.symlink("nowhere.pt", os.path.join(d, "coarse_sagittal.pt")), os.path.join(d, "coarse_sagittal.pt"))[2])
    rows["models folder missing"] = (os.path.join(WORK, "in", "no-such-models"), os.path.join(WORK, "in", "no-such-models"))
    for i, (name, (models, named)) in enumerate(rows.items()):
        out = os.path.join(WORK, f"out{i:02d}")
        m.add(name, segment_argv(image, out, "--models", models), named, out)


# --------------------------------------------------------------------------------------------
# Fold files: c2f-eval --folds bad.json over a cohort of four, models fold0..fold3.
def folds_rows(m):
    cohort = os.path.join(WORK, "cohort")
    run([exe("c2f-phantom"), "-q", "--out", cohort, "--cases", "4", "--seed", "6", "--size", "24x24x12"])
    models = os.path.join(WORK, "models")
    for k in range(4):
        os.makedirs(models, exist_ok=True)
        os.symlink(WEIGHTS, os.path.join(models, f"fold{k}"))
    ids = [f"phantom_{i:03d}" for i in range(4)]
    ok = {"format": "c2f folds 1", "folds": [[i] for i in ids]}

    def with_(**kw):
        d = dict(ok)
        d.update(kw)
        return json.dumps(d)

    texts = {
        "empty file": "",
        "not JSON": "folds: 1, 2, 3",
        "cut mid-way": json.dumps(ok)[:30],
        "trailing garbage": json.dumps(ok) + " }}",
        "a JSON array": json.dumps([[i] for i in ids]),
        "a JSON string": '"folds"',
        "null": "null",
        "no format": json.dumps({"folds": ok["folds"]}),
        "format of another file": with_(format="c2f checkpoint 1"),
        "format a number": with_(format=1),
        "no folds": json.dumps({"format": "c2f folds 1"}),
        "folds an object": with_(folds={"0": ids}),
        "folds empty": with_(folds=[]),
        "folds a string": with_(folds="0,1,2,3"),
        "a fold of numbers": with_(folds=[[0], [1], [2], [3]]),
        "a fold not a list": with_(folds=[ids[0], [ids[1]], [ids[2]], [ids[3]]]),
        "an empty fold": with_(folds=[[ids[0], ids[1]], [], [ids[2]], [ids[3]]]),
        "an empty case id": with_(folds=[[""], [ids[1]], [ids[2]], [ids[3]]]),
        "a case in two folds": with_(folds=[[ids[0]], [ids[0], ids[1]], [ids[2]], [ids[3]]]),
        "a case twice in one fold": with_(folds=[[ids[0], ids[0]], [ids[1]], [ids[2]], [ids[3]]]),
        "a case the cohort lacks": with_(folds=[["phantom_999"], [ids[1]], [ids[2]], [ids[3]]]),
        "more folds than model folders": with_(folds=[[ids[0]], [ids[1]], [ids[2]], [ids[3]], []][:4] + [["phantom_x"]]),
        "nested lists": with_(folds=[[[ids[0]]], [ids[1]], [ids[2]], [ids[3]]]),
        "a case id with a slash": with_(folds=[["../phantom_000"], [ids[1]], [ids[2]], [ids[3]]]),
        "numbers as text with NaN": '{"format": "c2f folds 1", "folds": [[NaN]]}',
        "binary bytes": "\x00\x01\x02\x03",
    }
    for i, (name, text) in enumerate(texts.items()):
        path = os.path.join(WORK, "in", f"folds{i:02d}.json")
        write(path, text.encode())
        out = os.path.join(WORK, f"out{i:02d}")
        m.add(name, [exe("c2f-eval"), "-q", "-i", cohort, "-m", models, "--folds", path, "-o", out, "--iterations", "1"],
              path, out)
    path = os.path.join(WORK, "in", "missing.json")
    m.add("fold file missing", [exe("c2f-eval"), "-q", "-i", cohort, "-m", models, "--folds", path, "-o",
                                os.path.join(WORK, "outmissing")], path, os.path.join(WORK, "outmissing"))


# --------------------------------------------------------------------------------------------
# Command-line values out of range: exit code 2, the error names the option.
def options_rows(m):
    phantom(os.path.join(WORK, "src"))
    image = os.path.join(WORK, "src", "phantom_000.nii.gz")
    cohort = os.path.join(WORK, "src")
    rows = [
        ("c2f-segment", ["-i", image], "--iterations", "-1"),
        ("c2f-segment", ["-i", image], "--iterations", "abc"),
        ("c2f-segment", ["-i", image], "--stop-dsc", "1.5"),
        ("c2f-segment", ["-i", image], "--stop-dsc", "-0.1"),
        ("c2f-segment", ["-i", image], "--stop-dsc", "nan"),
        ("c2f-segment", ["-i", image], "--frame", "-3"),
        ("c2f-segment", ["-i", image], "--window", "240,-100"),
        ("c2f-segment", ["-i", image], "--window", "abc"),
        ("c2f-segment", ["-i", image], "--cases-in-flight", "0"),
        ("c2f-segment", ["-i", image], "--batch", "0"),
        ("c2f-segment", ["-i", image], "--precision", "fp8"),
        ("c2f-segment", ["-i", image], "--device", "tpu"),
        ("c2f-segment", ["-i", image], "--preset", "fastest"),
        ("c2f-segment", ["-i", image], "--coarse-fusion", "max"),
        ("c2f-segment", ["-i", image], "--fusion-weights", "1,2"),
        ("c2f-segment", ["-i", image], "--fusion-weights", "-1,1,1"),
        ("c2f-segment", ["-i", image], "--threads", "-2"),
        ("c2f-phantom", [], "--size", "0x10x10"),
        ("c2f-phantom", [], "--size", "64x64"),
        ("c2f-phantom", [], "--cases", "0"),
        ("c2f-phantom", [], "--noise", "-1"),
        ("c2f-phantom", [], "--phase", "delayed"),
        ("c2f-phantom", [], "--orientation", "XYZ"),
        ("c2f-phantom", [], "--layout", "bids"),
        ("c2f-train", ["-i", cohort], "--iterations", "0"),
        ("c2f-train", ["-i", cohort], "--model", "resnet"),
        ("c2f-train", ["-i", cohort], "--scale", "medium"),
        ("c2f-train", ["-i", cohort], "--view", "Q"),
        ("c2f-train", ["-i", cohort], "--folds", "0"),
        ("c2f-train", ["-i", cohort], "--fold", "7"),
        ("c2f-train", ["-i", cohort], "--lr", "-1"),
        ("c2f-eval", ["-i", cohort, "-m", WEIGHTS], "--iterations", "-2"),
        ("c2f-bench", [], "--repeats", "0"),
    ]
    for i, (tool, base, option, value) in enumerate(rows):
        out = os.path.join(WORK, f"out{i:02d}")
        m.add(f"{tool} {option} {value}", [exe(tool), "-q" if tool != "c2f-bench" else "--quick", *base, "-o", out, option, value],
              option, out)


if __name__ == "__main__":
    matrix = Matrix()
    {"nifti": nifti_rows, "dicom": dicom_rows, "hdf5": hdf5_rows, "checkpoint": checkpoint_rows, "folds": folds_rows,
     "options": options_rows}[KIND](matrix)
    status = matrix.check()
    if status == 0:
        shutil.rmtree(WORK, ignore_errors=True)
    else:
        print(f"inputs kept in {WORK}")
    sys.exit(status)
