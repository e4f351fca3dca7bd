"""Nothing lost: a run that is interrupted, killed or runs out of disk leaves any earlier
output byte for byte as it was, never a partial file under the output's name, and says what
happened (exit 1).

The earlier output is a real migsim file (a short run); the later run is told to replace it
(--force), so only the write-to-a-temporary-then-rename discipline protects it.
"""
import os
import resource
import signal
import subprocess
import time
from pathlib import Path

import h5py
import pytest

SOURCE = Path(os.environ.get("MIGSIM_SOURCE_DIR", Path(__file__).resolve().parents[2]))
MIGSIM = os.environ.get("MIGSIM", str(SOURCE / "build" / "migsim"))
EXAMPLE = SOURCE / "configs" / "examples" / "corridor.yaml"


def run(*args, **kw):
    return subprocess.run([MIGSIM, *map(str, args)], capture_output=True, text=True, **kw)


@pytest.fixture()
def earlier(tmp_path):
    """An earlier output (two months of the example) at tmp/out.h5, and its bytes."""
    out = tmp_path / "out.h5"
    p = run("run", EXAMPLE, "-o", out, "--months", 2, "--quiet")
    assert p.returncode == 0, p.stderr
    return out, out.read_bytes()


@pytest.fixture()
def big(tmp_path):
    """The example at 2 people per agent (7.5 million agents): a run of several seconds."""
    path = tmp_path / "big.yaml"
    path.write_text(f"extends: {EXAMPLE}\npeople_per_agent: 2\n")
    return path


def start(args):
    return subprocess.Popen([MIGSIM, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_progress(proc, timeout=120):
    """Reads stderr until the run reports a month (so the loop is under way)."""
    deadline = time.time() + timeout
    seen = []
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith("progress: month"):
            return "".join(seen)
    proc.kill()
    raise AssertionError("the run never reported progress:\n" + "".join(seen))


def only_files(folder):
    return sorted(p.name for p in folder.iterdir())


def assert_complete(path, months):
    """A finished migsim output: opens, and holds `months` months."""
    with h5py.File(path, "r") as f:
        assert f["time"].shape == (months,)
        assert f["migrant_stock"].shape[0] == months


@pytest.mark.parametrize("sig,name", [(signal.SIGINT, "Interrupt"), (signal.SIGTERM, "Terminated")])
def test_a_signal_stops_the_run_and_keeps_the_earlier_output(tmp_path, earlier, big, sig, name):
    out, before = earlier
    proc = start(["run", big, "-o", out, "--force", "--threads", 1])
    wait_for_progress(proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    assert f"interrupted by {name}" in err and "no output written" in err, err
    assert out.read_bytes() == before
    assert only_files(tmp_path) == ["big.yaml", "out.h5"]


def test_a_second_signal_stops_at_once(tmp_path, earlier, big):
    """Ctrl-C twice: the second one ends the process without waiting for the month."""
    out, before = earlier
    proc = start(["run", big, "-o", out, "--force", "--threads", 1])
    wait_for_progress(proc)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=300)
    assert proc.returncode in (1, -signal.SIGINT)
    assert out.read_bytes() == before
    assert only_files(tmp_path) == ["big.yaml", "out.h5"]


def test_sigkill_at_any_moment_never_leaves_a_partial_file(tmp_path, earlier):
    """kill -9 cannot be caught: at every moment the output's name holds either the earlier
    file or the complete new one; a killed writer may leave its hidden temporary file."""
    out, before = earlier
    # The kills fall at fractions of an uninterrupted run's time on this machine, from early in
    # the run to after its end. Fixed delays (0.05 to 3 s) all fell after the end of the
    # example's run once it took under 0.05 s (the 2-core Intel guest, 2026-12-01): no kill
    # then came before the output was replaced, and the test could not see the earlier file.
    scenario = tmp_path.parent / f"{tmp_path.name}-scenario.yaml"
    scenario.write_text(f"extends: {EXAMPLE}\npeople_per_agent: 20\n")
    whole = tmp_path.parent / f"{tmp_path.name}-whole.h5"
    t0 = time.monotonic()
    p = run("run", scenario, "-o", whole, "--quiet", "--threads", 1)
    seconds = time.monotonic() - t0
    assert p.returncode == 0, p.stderr
    outcomes = set()
    for fraction in [0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 1.0, 1.5]:
        proc = start(["run", scenario, "-o", out, "--force", "--quiet", "--threads", 1])
        time.sleep(fraction * seconds)
        proc.kill()
        proc.communicate()
        if out.read_bytes() == before:
            outcomes.add("earlier")
        else:
            assert_complete(out, 60)
            outcomes.add("new")
            out.write_bytes(before)
        for name in only_files(tmp_path):
            assert name == "out.h5" or (name.startswith(".out.h5.tmp.")), name
    assert "earlier" in outcomes


def test_a_full_disk_keeps_the_earlier_output(tmp_path):
    """A 512 KiB tmpfs: the earlier (2-month) output fits, the 60-month one does not."""
    disk = tmp_path / "disk"
    disk.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + p.stderr.strip())
    try:
        out = disk / "out.h5"
        assert run("run", EXAMPLE, "-o", out, "--months", 2, "--quiet").returncode == 0
        before = out.read_bytes()
        # Fill the rest of the disk, leaving too little for the full run's file.
        filler = disk / "filler"
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        filler.write_bytes(b"\0" * max(0, free - 48 * 1024))
        p = run("run", EXAMPLE, "-o", out, "--force", "--quiet")
        assert p.returncode == 1, p.stderr
        errors = [l for l in p.stderr.splitlines() if l.startswith("error: ")]
        assert len(errors) == 1, p.stderr
        assert str(out) in errors[0] and "No space left on device" in errors[0], errors[0]
        assert out.read_bytes() == before
        assert only_files(disk) == ["filler", "out.h5"]
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_file_size_limit_is_reported_like_a_full_disk(tmp_path, earlier):
    """ulimit -f: writes fail with EFBIG (migsim ignores SIGXFSZ, which would kill it)."""
    out, before = earlier

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (32 * 1024, 32 * 1024))

    p = subprocess.run([MIGSIM, "run", str(EXAMPLE), "-o", str(out), "--force", "--quiet"],
                       capture_output=True, text=True, preexec_fn=limit)
    assert p.returncode == 1, p.stderr
    assert "File too large" in p.stderr and "nothing was written under this name" in p.stderr, p.stderr
    assert out.read_bytes() == before
    assert only_files(tmp_path) == ["out.h5"]


def test_the_output_folder_removed_during_the_run(tmp_path, big):
    sub = tmp_path / "results"
    sub.mkdir()
    out = sub / "out.h5"
    proc = start(["run", big, "-o", out, "--threads", 1, "--months", 24])
    wait_for_progress(proc)
    sub.rmdir()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    errors = [l for l in err.splitlines() if l.startswith("error: ")]
    assert len(errors) == 1 and str(out) in errors[0] and "does not exist" in errors[0], err
    assert "this run's results are lost" in errors[0], err
    assert not sub.exists()


def test_an_existing_output_is_never_replaced_without_force(tmp_path, earlier):
    out, before = earlier
    p = run("run", EXAMPLE, "-o", out, "--quiet")
    assert p.returncode == 2 and "--force" in p.stderr
    assert out.read_bytes() == before
