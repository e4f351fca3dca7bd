"""A sweep as a Slurm job array on a real (single-node) Slurm, merged, equals `migsim sweep`."""
import os
import subprocess
import time

import numpy as np
import xarray as xr

from conftest import EXAMPLE, MIGSIM, SOURCE, data_variables, migsim

SLURM_DIR = SOURCE / "analysis" / "slurm"
VOLATILE = {"history", "start_time_utc", "host", "threads", "ranks"}


def test_job_array_and_merge_equal_the_local_sweep(slurm, tmp_path):
    exp = tmp_path / "exp.yaml"
    exp.write_text(f"experiment_format: 1\nscenario: {EXAMPLE}\nseed: 5\nreplicates: 2\nmonths: 12\n"
                   "design: grid\nparameters:\n  behaviour.move_rate: [1.0e-5, 3.0e-5]\n"
                   "  routes[COL-PAN].mortality: [0.002, 0.01]\n")
    local = tmp_path / "local.h5"
    migsim("sweep", exp, "-o", local, "--quiet", check=0)

    out_dir, ensemble = tmp_path / "members", tmp_path / "slurm.h5"
    env = dict(os.environ, MIGSIM=MIGSIM)
    p = subprocess.run([str(SLURM_DIR / "submit-sweep.sh"), str(exp), str(out_dir), str(ensemble), "--wait",
                        "--time=10"], capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    logs = "\n".join(f"{f.name}:\n{f.read_text()}" for f in sorted(out_dir.glob("slurm-*.out")))
    assert p.returncode == 0, f"{p.stdout}\n{p.stderr}\n{logs}"
    assert "job array" in p.stdout and "(8 tasks)" in p.stdout
    assert sorted(f.name for f in out_dir.glob("member-*.h5")) == [f"member-{k:05d}.h5" for k in range(8)]
    assert ensemble.exists(), logs

    a, b = data_variables(local), data_variables(ensemble)
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name].dtype == b[name].dtype and np.array_equal(a[name], b[name]), name
    da, db = xr.open_dataset(local, engine="h5netcdf"), xr.open_dataset(ensemble, engine="h5netcdf")
    assert list(da.attrs) == list(db.attrs)
    for k in da.attrs:
        if k not in VOLATILE:
            assert str(da.attrs[k]) == str(db.attrs[k]), k
    assert db.sizes["member"] == 8 and list(db.member_ok.values) == [1] * 8


def test_array_script_refuses_to_run_outside_an_array(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SLURM_ARRAY_TASK_ID"}
    p = subprocess.run(["bash", str(SLURM_DIR / "sweep-array.sh"), "x.yaml", str(tmp_path)], capture_output=True,
                       text=True, env=env)
    assert p.returncode != 0 and "job array" in p.stderr


def test_time_limit_warning_checkpoints_requeues_and_resumes(slurm, tmp_path):
    """run-checkpointed.sh: SIGUSR1 to the batch shell (what --signal=B:USR1@T sends before the
    time limit; here scancel sends it at once) -> checkpoint, exit 3, requeue -> the next start
    resumes -> the output equals an uninterrupted run's."""
    # Long enough that the signal sent after the first progress line arrives mid-run: 1,080
    # months of 3M agents, 7 s with 2 threads on the CI's 2-core VM (2026-12-01). The 60 months
    # of the example took 0.6 s there, and the job had ended before scancel reached it
    # ("Invalid job id specified", once in a fresh-clone .ci/run).
    scen = tmp_path / "big.yaml"
    scen.write_text(f"extends: {EXAMPLE}\npeople_per_agent: 5\nend: 2099-12\n")
    whole = tmp_path / "whole.h5"
    migsim("run", scen, "-o", whole, "--quiet", check=0)
    env = dict(os.environ, MIGSIM=MIGSIM)
    job = subprocess.run(["sbatch", "--parsable", "--time=10", str(SLURM_DIR / "run-checkpointed.sh"), str(scen),
                          str(tmp_path / "out.h5")], capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    jid = job.stdout.strip().split(";")[0]
    log = tmp_path / f"slurm-{jid}.out"

    def wait_for(text, timeout=240):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if log.exists() and text in log.read_text():
                return True
            time.sleep(0.5)
        return False

    assert wait_for("progress:"), log.read_text() if log.exists() else "no log"
    subprocess.run(["scancel", "--batch", "--signal=USR1", jid], check=True)
    assert wait_for("requeueing job"), log.read_text()
    # A requeued job waits a while (about two minutes) before it may start again; let it start
    # sooner, but not at once: started within a second of the requeue, slurmd may still hold
    # the killed first run ("Job credential revoked", "already killed, do not launch batch
    # job" in its logs) and the job then ends instead of starting (seen twice in CI). So once
    # the job has been pending for 5 s, ask again every 5 s while it stays pending.
    deadline = time.time() + 240
    pending_since = None
    nudged = 0.0
    while time.time() < deadline and not (log.exists() and "wrote " in log.read_text()):
        state = subprocess.run(["squeue", "-h", "-j", jid, "-o", "%T"], capture_output=True, text=True).stdout.strip()
        if state == "PENDING":
            pending_since = pending_since or time.time()
            if time.time() - pending_since >= 5 and time.time() - nudged >= 5:
                subprocess.run(["scontrol", "update", f"jobid={jid}", "starttime=now"], capture_output=True)
                nudged = time.time()
        time.sleep(0.5)
    assert wait_for("wrote ", timeout=1), log.read_text()
    text = log.read_text()
    assert "checkpoint written to" in text and "resuming from" in text and "resumed after month" in text
    a, b = data_variables(whole), data_variables(tmp_path / "out.h5")
    for name in a:
        assert np.array_equal(a[name], b[name]), f"{name} differs"
    assert not (tmp_path / "out.h5.ckpt").exists()
