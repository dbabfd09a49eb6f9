#!/usr/bin/env python3
"""A full disk: c2f-segment, c2f-train and c2f-phantom write into a small tmpfs.

Each run either succeeds with every output whole, or fails with a non-zero exit code and error
lines that name the file that could not be written and say the disk is full; in both cases no
file is left corrupt or half-written (no temporaries, every mask and checkpoint readable, every
JSON parseable). The tmpfs is mounted in a private mount namespace (`unshare -rm`, no root
needed); where the kernel does not allow that, the test is skipped (exit 77).
Usage: test_full_disk.py BIN_DIR SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

BIN, SOURCE = sys.argv[1], sys.argv[2]
WEIGHTS = os.path.join(SOURCE, "weights", "phantom-light-unet")


def exe(name):
    return os.path.join(BIN, name)


def run(args):
    return subprocess.run(args, capture_output=True, text=True, errors="replace")


def files_under(path):
    return [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs]


def whole(path):
    """Why a written file is not whole, or None."""
    name = os.path.basename(path)
    if ".tmp-" in name:
        return "a temporary was left behind"
    if name.endswith(".json"):
        try:
            with open(path) as f:
                json.load(f)
        except ValueError as e:
            return f"not valid JSON: {e}"
    if name.endswith(".h5"):
        try:
            import h5py
            with h5py.File(path, "r") as f:
                f.visititems(lambda _, obj: obj[()] if isinstance(obj, h5py.Dataset) else None)
        except Exception as e:  # noqa: BLE001 - any failure to read it back is the finding
            return f"h5py cannot read it back: {e}"
    if name.endswith((".nii.gz", ".nii")):
        r = run([exe("c2f-info"), path])
        if r.returncode != 0:
            return "c2f-info cannot read it: " + r.stderr.strip()
    if name.endswith(".pt"):
        r = run([exe("c2f-models"), "--info", path])
        if r.returncode != 0:
            return "not a readable checkpoint: " + r.stderr.strip()
    return None


def inside(mount):
    """Runs in the private mount namespace: one tmpfs size after another."""
    src = tempfile.mkdtemp(prefix="c2f-full-disk-src-")
    r = run([exe("c2f-phantom"), "-q", "--out", src, "--cases", "2", "--seed", "3", "--size", "64x64x32"])
    assert r.returncode == 0, r.stderr
    jobs = {
        # Two fine rounds: a full disk meets the same writers after any number.
        "c2f-segment": lambda out: [exe("c2f-segment"), "-q", "-i", src, "-o", out, "--save-probability",
                                    "--iterations", "2"],
        "c2f-train": lambda out: [exe("c2f-train"), "-q", "-i", src, "-o", out, "--scale", "coarse", "--view", "A",
                                  "--iterations", "4", "--checkpoint-every", "2", "--min-share", "0.002", "--folds", "2",
                                  "--preset", "paper"],
        "c2f-phantom": lambda out: [exe("c2f-phantom"), "-q", "--out", out, "--cases", "2", "--seed", "3",
                                    "--size", "64x64x32"],
    }
    failures, full_seen = [], 0
    for size_kib in (4, 24, 96, 400, 1600, 6400):
        for tool, argv in jobs.items():
            subprocess.run(["umount", mount], capture_output=True)
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", mount], check=True)
            out = os.path.join(mount, "out")
            r = run(argv(out))
            lines = [l for l in r.stderr.splitlines() if l.strip()]
            row = f"{tool} on a {size_kib} KiB disk: exit {r.returncode}"
            problems = []
            if r.returncode < 0:
                problems.append(f"killed by signal {-r.returncode}")
            if r.returncode != 0:
                full_seen += 1
                if not lines:
                    problems.append("failed without an error line")
                for l in lines:
                    if "No space left on device" not in l and "disk is full" not in l:
                        problems.append(f"error line does not say the disk is full: {l!r}")
                    if mount not in l:
                        problems.append(f"error line does not name the file: {l!r}")
            for f in files_under(mount):
                why = whole(f)
                if why:
                    problems.append(f"{f}: {why}")
            print(row + ("" if not problems else "\n  " + "\n  ".join(problems)))
            if r.returncode != 0:
                print("  " + "\n  ".join(lines))
            failures += [f"{row}: {p}" for p in problems]
    subprocess.run(["umount", mount], capture_output=True)
    if full_seen == 0:
        failures.append("no run ever met the full disk: the sizes tried are too large")
    print(f"{len(failures)} problems; {full_seen} runs met the full disk")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[3] == "--inside":
        sys.exit(inside(sys.argv[4]))
    mount = tempfile.mkdtemp(prefix="c2f-full-disk-")
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=4k tmpfs {mount}"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"SKIP: cannot mount a tmpfs in a private namespace here: {probe.stderr.strip()}")
        sys.exit(77)
    r = subprocess.run(["unshare", "-rm", sys.executable, __file__, BIN, SOURCE, "--inside", mount])
    os.rmdir(mount)
    sys.exit(r.returncode)
