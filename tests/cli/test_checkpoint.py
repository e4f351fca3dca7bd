"""Checkpoint and restart: a run stopped by a signal (or killed) and resumed gives the output
of a run never interrupted, bit for bit; damaged or mismatched checkpoints are refused."""
import os
import re
import resource
import signal
import subprocess
import time

import pytest
import xarray as xr

from conftest import EXAMPLE, MIGSIM, assert_same_data, migsim

VOLATILE = {"history", "start_time_utc", "host", "threads", "ranks"}


def bigger(tmp_path):
    """The example at one agent per 10 people (1.5 million agents) over 240 months (2010-2029).

    A signal sent after a progress line must arrive before the last month, or the run ends
    normally. The example's own 60 months took about 0.3 s with 1 thread on the CI's 2-core
    VM (2026-12-01), leaving 0.1-0.3 s between the line the tests wait for and the last
    month; 240 months leave a second or more."""
    f = tmp_path / "big.yaml"
    f.write_text(f"extends: {EXAMPLE}\npeople_per_agent: 10\nend: 2029-12\n")
    return f


def start(*args):
    return subprocess.Popen([MIGSIM, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_progress(proc, lines=1, timeout=120):
    deadline, seen, err = time.time() + timeout, 0, ""
    while time.time() < deadline and seen < lines:
        line = proc.stderr.readline()
        if not line:
            break
        err += line
        seen += line.startswith("progress:")
    return err


def assert_same_run(a, b):
    assert_same_data(a, b)
    da, db = xr.open_dataset(a, engine="h5netcdf"), xr.open_dataset(b, engine="h5netcdf")
    for k in da.attrs:
        if k not in VOLATILE:
            assert str(da.attrs[k]) == str(db.attrs[k]), k


def test_sigterm_writes_a_checkpoint_and_resume_equals_an_uninterrupted_run(tmp_path):
    scen = bigger(tmp_path)
    whole = tmp_path / "whole.h5"
    migsim("run", scen, "-o", whole, "--quiet", "--threads", 2, check=0)
    out, ckpt = tmp_path / "run.h5", tmp_path / "run.ckpt"
    proc = start("run", scen, "-o", out, "--checkpoint", ckpt, "--threads", 1)
    wait_for_progress(proc, 2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err
    assert f"checkpoint written to {ckpt}; continue with: migsim run --resume {ckpt}" in err
    assert ckpt.exists() and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.yaml", "run.ckpt", "whole.h5"]
    # Resume with another thread count; the scenario and output come from the checkpoint.
    p = migsim("run", "--resume", ckpt, "--threads", 2, check=0)
    assert "resuming" in p.stderr and "resumed after month" in p.stderr
    assert_same_run(whole, out)
    assert not ckpt.exists()  # the run is complete


def test_a_killed_run_resumes_from_its_last_periodic_checkpoint(tmp_path):
    scen = bigger(tmp_path)
    whole = tmp_path / "whole.h5"
    migsim("run", scen, "-o", whole, "--quiet", check=0)
    out = tmp_path / "run.h5"
    ckpt = tmp_path / "run.h5.ckpt"  # the default name
    proc = start("run", scen, "-o", out, "--checkpoint-every", 24, "--threads", 1)
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline:
        time.sleep(0.05)
    wait_for_progress(proc, 2)
    proc.kill()  # SIGKILL: no chance to write anything more
    proc.communicate(timeout=60)
    assert ckpt.exists() and not out.exists()
    migsim("run", scen, "--resume", ckpt, "--quiet", check=0)
    assert_same_run(whole, out)


def test_sigusr1_checkpoints_even_without_checkpoint_options(tmp_path):
    scen = bigger(tmp_path)
    out = tmp_path / "u.h5"
    proc = start("run", scen, "-o", out, "--threads", 1)
    wait_for_progress(proc, 1)
    proc.send_signal(signal.SIGUSR1)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err
    assert (tmp_path / "u.h5.ckpt").exists()
    migsim("run", "--resume", tmp_path / "u.h5.ckpt", "--quiet", check=0)
    assert xr.open_dataset(out, engine="h5netcdf").sizes["time"] == 240


def checkpoint_of(tmp_path, months=180):
    """A checkpoint of the example after a SIGUSR1, made quickly."""
    out = tmp_path / "c.h5"
    proc = start("run", bigger(tmp_path), "-o", out, "--threads", 1, "--months", months)
    wait_for_progress(proc, 1)
    proc.send_signal(signal.SIGUSR1)
    proc.communicate(timeout=120)
    assert proc.returncode == 3
    return tmp_path / "c.h5.ckpt"


def test_damaged_and_mismatched_checkpoints_are_refused(tmp_path):
    ckpt = checkpoint_of(tmp_path)
    data = ckpt.read_bytes()
    cases = {
        "truncated.ckpt": (data[: len(data) // 2], "truncated or damaged"),
        "flipped.ckpt": (data[:1000] + bytes([data[1000] ^ 0xFF]) + data[1001:], "damaged (its checksum does not match"),
        # a byte of the last agent's record (the 8 bytes after it are the checksum)
        "flipped-agent.ckpt": (data[:-12] + bytes([data[-12] ^ 0x01]) + data[-11:], "damaged (its checksum does not match"),
        "other.ckpt": (b"hello, world\n" * 10, "not a migsim checkpoint"),
        "empty.ckpt": (b"", "not a migsim checkpoint"),
    }
    for name, (content, message) in cases.items():
        f = tmp_path / name
        f.write_bytes(content)
        p = migsim("run", "--resume", f, "-o", tmp_path / "x.h5", check=2)
        assert f"{f}: cannot resume from this checkpoint: {message}" in p.stderr, (name, p.stderr)
    p = migsim("run", "--resume", tmp_path / "none.ckpt", check=2)
    assert "no such file" in p.stderr
    # Another scenario, another seed, another length.
    other = tmp_path / "other.yaml"
    other.write_text(f"extends: {EXAMPLE}\npeople_per_agent: 11\nend: 2029-12\n")
    p = migsim("run", other, "--resume", ckpt, "-o", tmp_path / "x.h5", check=2)
    assert "it was written for another scenario" in p.stderr
    p = migsim("run", "--resume", ckpt, "--seed", 1, "-o", tmp_path / "x.h5", check=2)
    assert "it was written with seed" in p.stderr
    p = migsim("run", "--resume", ckpt, "--months", 13, "-o", tmp_path / "x.h5", check=2)
    assert "its run goes to 180 months, not 13" in p.stderr
    assert not (tmp_path / "x.h5").exists()
    assert migsim("run", check=2).stderr.count("SCENARIO") >= 1


REFUSE_MMAP = os.environ.get("MIGSIM_REFUSE_MMAP", "")


def resume(ckpt, limit_mib=None, mmap=True):
    """`migsim run --resume ckpt`, under an address-space limit (ulimit -v) of `limit_mib`.
    Without `mmap`, as on a file system that cannot map files: tests/support/refuse_mmap.cpp,
    preloaded, fails every mmap of a .ckpt file (ENODEV), so migsim reads it into memory."""
    env = None
    if not mmap:
        if os.environ.get("MIGSIM_SANITIZED") == "1" or not REFUSE_MMAP:
            pytest.skip("the mmap stand-in is not built here (sanitizer builds: their runtime must load first)")
        env = dict(os.environ, LD_PRELOAD=REFUSE_MMAP)

    def limit():
        if limit_mib is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit_mib << 20, resource.RLIM_INFINITY))

    return subprocess.run([MIGSIM, "run", "--resume", str(ckpt), "--threads", "1", "--quiet"], capture_output=True,
                          text=True, timeout=300, preexec_fn=limit, env=env)


def first_check(ckpt, mmap):
    """The memory check made before the checkpoint is read, under a limit below the run's
    estimate: (the estimate, what the process maps before the check), in MiB."""
    available = re.compile(r"the run needs about (\d+) MiB of memory .*?, but (\d+) MiB is available "
                           r"\(the address-space limit \(ulimit -v\)\)")
    for low in range(64, 1024, 32):
        p = resume(ckpt, low, mmap)
        m = available.search(p.stderr)
        if p.returncode == 2 and m:
            break
    else:
        pytest.fail(f"no limit gave the first check's refusal; the last said:\n{p.stderr}")
    assert "the checkpoint, " not in p.stderr  # refused before the file was read
    assert f"{ckpt}: cannot resume from this checkpoint: " in p.stderr
    assert "set people_per_agent" not in p.stderr  # a resume cannot change its scenario
    return int(m.group(1)), low - int(m.group(2))


def test_a_checkpoint_that_cannot_be_mapped_is_read_and_resumes_the_same(tmp_path):
    ckpt = checkpoint_of(tmp_path)
    whole = tmp_path / "whole.h5"
    migsim("run", bigger(tmp_path), "-o", whole, "--months", 180, "--quiet", check=0)
    p = resume(ckpt, mmap=False)
    assert p.returncode == 0, p.stderr
    assert_same_run(whole, tmp_path / "c.h5")


def test_a_resume_that_does_not_fit_beside_its_checkpoint_is_refused(tmp_path):
    """The memory check is made before the checkpoint is read; read into memory, the copy is
    held while the model is restored, and the run is checked again with it. Under an
    address-space limit that the run fits in but not beside the checkpoint (24 MB), the resume
    is refused naming it; under ulimit -v a mapped checkpoint takes the same room."""
    ckpt = checkpoint_of(tmp_path)
    keep = ckpt.read_bytes()
    assert len(keep) > (10 << 20)
    for mmap, held, advice in [
            (False, "read into memory because its file system cannot map files",
             "or from a copy of the checkpoint on a file system that can map files"),
            (True, "mapped into the address space that ulimit -v limits", "raise ulimit -v")]:
        needed, mapped_before = first_check(ckpt, mmap)
        # Room for the run, 3-4 MiB to spare (the MiB above are rounded up), not for the file.
        limit = mapped_before + needed + 4
        p = resume(ckpt, limit, mmap)
        assert p.returncode == 2, p.stderr
        assert f"{ckpt}: cannot resume from this checkpoint: the run needs about " in p.stderr
        assert f"; the checkpoint, {held}: " in p.stderr and advice in p.stderr, p.stderr
        assert ckpt.read_bytes() == keep and not (tmp_path / "c.h5").exists()
    # With room for the file too (its MiB, and one for the rounding), the mapped resume runs.
    p = resume(ckpt, limit + (len(keep) >> 20) + 1)
    assert p.returncode == 0, p.stderr


def test_a_checkpoint_path_never_takes_a_file_that_is_not_the_runs_own(tmp_path):
    """The checkpoint is written over and removed when the run ends: it must not be the output,
    the scenario, an unrelated file, or another run's checkpoint (without --force); a run that
    wrote no checkpoint removes nothing."""
    scen = tmp_path / "s.yaml"
    scen.write_text(f"extends: {EXAMPLE}\nend: 2010-06\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me\n")
    p = migsim("run", scen, "-o", tmp_path / "a.h5", "--checkpoint", notes, check=2)
    assert "a file that is not a migsim checkpoint is there" in p.stderr
    p = migsim("run", scen, "-o", tmp_path / "a.h5", "--checkpoint", scen, check=2)
    assert "is the scenario file" in p.stderr
    p = migsim("run", scen, "-o", tmp_path / "z.h5", "--checkpoint", tmp_path / "z.h5", "--force", check=2)
    assert "the checkpoint and the output must be different files" in p.stderr
    p = migsim("run", scen, "-o", scen, "--force", check=2)
    assert "the output is also one of the inputs" in p.stderr
    assert notes.read_text() == "keep me\n" and scen.exists()
    assert not (tmp_path / "a.h5").exists() and not (tmp_path / "z.h5").exists()
    # Another run's checkpoint at this run's default checkpoint path: kept unless --force.
    ckpt = checkpoint_of(tmp_path)  # tmp_path / "c.h5.ckpt", the checkpoint of c.h5's run
    before = ckpt.read_bytes()
    p = migsim("run", scen, "-o", tmp_path / "c.h5", "--checkpoint-every", 2, check=2)
    assert "another run's checkpoint is there" in p.stderr and ckpt.read_bytes() == before
    # An explicit --checkpoint that this run never writes (no signal, no periodic saves) is
    # not removed at the end when it is another run's, with --force.
    migsim("run", scen, "-o", tmp_path / "d.h5", "--checkpoint", ckpt, "--force", check=0)
    assert (tmp_path / "d.h5").exists() and ckpt.read_bytes() == before
