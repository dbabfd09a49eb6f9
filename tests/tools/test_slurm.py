#!/usr/bin/env python3
"""c2f on a real Slurm: a one-node cluster started here, in a temporary folder.

munged, slurmctld and slurmd run in the foreground as children of this script (their own munge
key, configuration, state and free ports; nothing under /etc is read or written). Through it the
test submits what examples/slurm/ gives a user: c2f-segment as an array of 2 parts
(segment-array.sbatch) and the merge (segment-merge.sbatch), and one network trained
data-parallel by 2 tasks (train-data-parallel.sbatch, srun -n 2). The merged masks must equal a
single-process run's, the trained weights one process's with the same batch of two (within 1e-5).
Every daemon is stopped, and every job cancelled, however the test ends. Where the machine does
not let the daemons run (no munge or Slurm installed, a daemon that dies or never answers), the
test is skipped (exit 77) with one line saying why.
Usage: test_slurm.py BIN_DIR SOURCE_DIR
"""
import gzip
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

BIN, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
SLURM = os.path.join(SOURCE, "examples", "slurm")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
DAEMONS = ["munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo"]
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL",
            "DEADLINE"}


class Skip(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, lines=8):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).strip()
    except OSError:
        return "(no log)"


class Cluster:
    """A one-node Slurm in `root`; stop() ends every job and daemon it started."""

    def __init__(self, root):
        self.root = root
        self.procs = []
        self.env = dict(os.environ)

    def start(self):
        r = self.root
        for sub in ("munge", "state", "spool", "log"):
            os.makedirs(os.path.join(r, sub), mode=0o700, exist_ok=True)
        # munged checks that the socket's folder is reachable by everyone.
        os.chmod(r, 0o755)
        os.chmod(os.path.join(r, "munge"), 0o755)
        key, sock = os.path.join(r, "munge", "munge.key"), os.path.join(r, "munge", "munge.socket")
        k = subprocess.run(["mungekey", "--create", "--keyfile", key], capture_output=True, text=True)
        if k.returncode != 0:
            raise Skip("no munge key can be made here: " + k.stderr.strip())
        os.chmod(key, 0o600)
        self.spawn("munged", ["munged", "--foreground", "--force", "--socket", sock, "--key-file", key,
                              "--pid-file", os.path.join(r, "munge", "munged.pid"),
                              "--seed-file", os.path.join(r, "munge", "seed"),
                              "--log-file", os.path.join(r, "log", "munged.log")])
        self.wait_for(lambda: os.path.exists(sock), "munged", 10)

        host = socket.gethostname().split(".")[0]
        cpus = os.cpu_count() or 1
        with open("/proc/meminfo") as f:
            mem_mb = int(f.readline().split()[1]) // 1024
        conf = os.path.join(r, "slurm.conf")
        with open(conf, "w") as f:
            f.write(f"""ClusterName=c2ftest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser={os.getuid() and os.environ.get('USER', 'root') or 'root'}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={sock}
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/log/slurmctld.log
SlurmdLogFile={r}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=600
PlugStackConfig=/dev/null
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={max(1, mem_mb - 512)} State=UNKNOWN
PartitionName=c2f Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
""")
        self.env["SLURM_CONF"] = conf
        self.spawn("slurmctld", ["slurmctld", "-D", "-i", "-f", conf])
        self.spawn("slurmd", ["slurmd", "-D", "-f", conf, "-N", host])

        def idle():
            s = subprocess.run(["sinfo", "-h", "-o", "%T"], env=self.env, capture_output=True, text=True)
            return s.returncode == 0 and s.stdout.strip().rstrip("*") == "idle"

        self.wait_for(idle, "slurmctld and slurmd", 30)

    def spawn(self, name, argv):
        log = open(os.path.join(self.root, "log", name + ".out"), "w")
        # Its own process group, so that stop() reaches whatever the daemon forked.
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        self.procs.append((name, p))

    def wait_for(self, ready, what, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            for name, p in self.procs:
                if p.poll() is not None:
                    raise Skip(f"{name} cannot run here (exit {p.returncode}): " +
                               tail(os.path.join(self.root, "log", name + ".out"), 3).replace("\n", " | "))
            if ready():
                return
            time.sleep(0.2)
        raise Skip(f"{what} did not come up within {seconds} s: " +
                   tail(os.path.join(self.root, "log", "slurmctld.log"), 3).replace("\n", " | "))

    def sbatch(self, args, extra_env=None):
        env = dict(self.env)
        env.update(extra_env or {})
        s = subprocess.run(["sbatch", "--parsable"] + args, env=env, capture_output=True, text=True, cwd=self.root)
        if s.returncode != 0:
            raise AssertionError("sbatch " + " ".join(args) + ": " + s.stderr.strip())
        return s.stdout.strip().split(";")[0]

    def wait(self, job, seconds):
        """Waits until every task of `job` has ended; returns {task id: state}."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            s = subprocess.run(["squeue", "-h", "-j", job, "-t", "all", "-r", "-o", "%i %T"], env=self.env,
                               capture_output=True, text=True)
            states = dict(line.split() for line in s.stdout.split("\n") if line.strip())
            if states and all(v in TERMINAL for v in states.values()):
                return states
            time.sleep(0.25)
        raise AssertionError(f"job {job} did not end within {seconds} s")

    def stop(self):
        if "SLURM_CONF" in self.env:
            subprocess.run(["scancel", "--full", "-u", str(os.getuid())], env=self.env, capture_output=True)
            # Jobs end through slurmd (their slurmstepd); give them a moment before it goes.
            deadline = time.time() + 15
            while time.time() < deadline:
                s = subprocess.run(["squeue", "-h", "-t", "running,completing,configuring"], env=self.env,
                                   capture_output=True, text=True)
                if s.returncode != 0 or not s.stdout.strip():
                    break
                time.sleep(0.25)
        for name, p in reversed(self.procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for name, p in reversed(self.procs):
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def nifti_voxels(path):
    """A .nii.gz's voxel bytes (after its header), whatever the header's free-text fields say."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    offset = int(struct.unpack_from("<f", data, 108)[0]) if struct.unpack_from("<i", data, 0)[0] == 348 else 544
    return data[offset:]


def main():
    missing = [d for d in DAEMONS if shutil.which(d) is None]
    if missing:
        raise Skip("not installed: " + ", ".join(missing) + " (Debian packages slurm-wlm and munge)")
    root = tempfile.mkdtemp(prefix="c2f-slurm-")
    cluster = Cluster(root)
    failures = []

    def check(ok, what):
        print(("ok:   " if ok else "FAIL: ") + what, flush=True)
        if not ok:
            failures.append(what)

    try:
        cluster.start()
        print(f"one-node Slurm up in {root}", flush=True)
        env = {"PATH": BIN + os.pathsep + os.environ.get("PATH", "")}
        cluster.env.update(env)
        os.makedirs(os.path.join(root, "logs"))
        cohort, whole, parts = (os.path.join(root, n) for n in ("cohort", "whole", "parts"))
        subprocess.run([os.path.join(BIN, "c2f-phantom"), "--out", cohort, "--cases", "4", "--seed", "31",
                        "--size", "40x40x20"], check=True, capture_output=True)

        # Segmentation: one process against a 2-part array and its merge.
        # Two fine rounds at most: the test is about the parts, not the convergence.
        segment_args = "--iterations 2 --no-overlays"
        t0 = time.time()
        subprocess.run([os.path.join(BIN, "c2f-segment"), "-i", cohort, "-o", whole, "--threads", "1", "-q"] +
                       segment_args.split(), check=True, capture_output=True)
        one_part = time.time() - t0
        job_env = {"COHORT": cohort, "OUT": parts, "C2F_SEGMENT_ARGS": segment_args}
        t0 = time.time()
        array = cluster.sbatch(["--array=0-1", "--cpus-per-task=1", "--mem=1G",
                                os.path.join(SLURM, "segment-array.sbatch")], job_env)
        states = cluster.wait(array, 300)
        two_parts = time.time() - t0
        check(sorted(states.values()) == ["COMPLETED", "COMPLETED"], f"the array's 2 tasks completed: {states}")
        merge = cluster.sbatch(["--mem=1G", os.path.join(SLURM, "segment-merge.sbatch")], job_env)
        check(list(cluster.wait(merge, 120).values()) == ["COMPLETED"], "the merge completed")
        print(f"segmentation of 4 cases: 1 process {one_part:.1f} s, 2 array tasks {two_parts:.1f} s "
              f"(submit to last task's end)", flush=True)
        for n in ("summary.part-0-of-2.csv", "summary.part-1-of-2.csv", "summary.csv"):
            check(os.path.exists(os.path.join(parts, n)), f"parts wrote {n}")
        ids = sorted(d for d in os.listdir(whole) if os.path.isdir(os.path.join(whole, d)) and d.startswith("phantom"))
        check(len(ids) == 4, f"the whole run segmented 4 cases: {ids}")
        for i in ids:
            a, b = (os.path.join(x, i, "mask.nii.gz") for x in (whole, parts))
            check(os.path.exists(b) and nifti_voxels(a) == nifti_voxels(b), f"{i}: the merged run's mask equals one process's")

        # Training: one network, 2 tasks of srun, one image each, against one process with a batch of two.
        args = ("--folds 2 --iterations 12 --checkpoint-every 6 --log-every 6 --min-share 0.001 "
                "--preset paper --seed 5")
        one = os.path.join(root, "one")
        r = subprocess.run([os.path.join(BIN, "c2f-train"), "-i", cohort, "-o", one, "--scale", "fine", "--view", "A",
                            "--batch", "2", "--threads", "1", "-q"] + args.split(), capture_output=True, text=True)
        check(r.returncode == 0, "one process trained: " + r.stderr.strip()[-300:])
        ddp = os.path.join(root, "ddp")
        train = cluster.sbatch(["--nodes=1", "--ntasks=2", "--ntasks-per-node=2", "--cpus-per-task=1", "--mem=2G",
                                os.path.join(SLURM, "train-data-parallel.sbatch")],
                               {"COHORT": cohort, "MODELS": ddp, "SCALE": "fine", "VIEW": "A", "C2F_TRAIN_ARGS": args})
        state = cluster.wait(train, 300)
        check(list(state.values()) == ["COMPLETED"], f"the 2-task training completed: {state}")
        log = os.path.join(root, "logs", f"train-data-parallel-{train}.out")
        print("training job's log:\n  " + tail(log, 6).replace("\n", "\n  "), flush=True)
        a, b = (os.path.join(x, "fine_axial.pt") for x in (one, ddp))
        compare = subprocess.run([PYTHON, "-c", """
import json, sys, torch
a, b = (torch.jit.load(p, map_location="cpu") for p in sys.argv[1:3])
pa, pb = dict(a.named_parameters()), dict(b.named_parameters())
assert pa.keys() == pb.keys() and pa, "different parameters"
print(json.dumps({"max_difference": max((pa[k] - pb[k]).abs().max().item() for k in pa),
                  "info": json.loads(b.c2f_info)}))
""", a, b], capture_output=True, text=True)
        check(compare.returncode == 0, "both checkpoints load in Python: " + compare.stderr.strip()[-300:])
        if compare.returncode == 0:
            result = json.loads(compare.stdout)
            print(f"largest weight difference, 2 Slurm tasks vs 1 process: {result['max_difference']:.3g}", flush=True)
            check(result["max_difference"] <= 1e-5, "the 2-task weights equal one process's within 1e-5")
            check(result["info"]["iteration"] == 12 and result["info"]["hyper"]["batch"] == 2 and
                  result["info"]["hyper"]["ranks"] == 2, "the checkpoint records 12 steps, a batch of 2, 2 ranks")
    except Skip as s:
        print(f"skipped: {s}", flush=True)
        return 77
    finally:
        cluster.stop()
        if failures:
            for name in ("slurmctld.log", "slurmd.log"):
                print(f"--- {name}\n" + tail(os.path.join(root, "log", name), 15))
            for f in sorted(os.listdir(os.path.join(root, "logs"))) if os.path.isdir(os.path.join(root, "logs")) else []:
                print(f"--- {f}\n" + tail(os.path.join(root, "logs", f), 15))
        shutil.rmtree(root, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
