"""Damaged output files given to the analysis tools (analysis/migsim_figures): a truncated,
empty or overwritten file is refused with a FileError (the command prints one `error:` line
and exits 1), or, when the damage is only in data values, read; never a crash.

HDF5 1.10 segfaults or aborts on some damage (its global heap and chunk indexes carry no
checksum); migsim_figures reads a file once in a child process first (load._check_readable)
so that this process survives. This test runs in-process: a crash here fails it.
"""
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("MIGSIM_SOURCE_DIR", Path(__file__).resolve().parents[2]))
MIGSIM = os.environ.get("MIGSIM", str(SOURCE / "build" / "migsim"))
EXAMPLE = SOURCE / "configs" / "examples" / "corridor.yaml"
sys.path.insert(0, str(SOURCE / "analysis"))

from migsim_figures.load import FileError, open_source  # noqa: E402


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    out = tmp_path_factory.mktemp("good") / "good.h5"
    p = subprocess.run([MIGSIM, "run", str(EXAMPLE), "-o", str(out), "--months", "12", "--quiet"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return out.read_bytes()


def outcome(path):
    """'refused' (FileError naming the file) or 'read' (every variable of every run read)."""
    try:
        src = open_source(str(path))
    except FileError as exc:
        assert str(exc).startswith(str(path)), exc
        return "refused"
    for exp in src.experiments:
        for i in range(exp.n_runs):
            run = exp.run(i)
            for name in run.variables:
                run[name].values
    return "read"


def test_files_that_are_not_outputs(tmp_path):
    (tmp_path / "empty.h5").write_bytes(b"")
    (tmp_path / "text.h5").write_text("scenario_format: 1\n")
    assert outcome(tmp_path / "empty.h5") == "refused"
    assert outcome(tmp_path / "text.h5") == "refused"
    assert outcome(tmp_path / "missing.h5") == "refused"


def test_truncated_outputs_are_refused(tmp_path, good):
    for frac in (0.001, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999):
        path = tmp_path / f"cut{frac}.h5"
        path.write_bytes(good[: int(len(good) * frac)])
        assert outcome(path) == "refused", frac


def test_overwritten_bytes_never_crash(tmp_path, good):
    rnd = random.Random(2026)
    results = {"refused": 0, "read": 0}
    for k in range(60):
        data = bytearray(good)
        at = rnd.randrange(len(data))
        data[at] ^= rnd.randrange(1, 256)
        path = tmp_path / f"flip{k}-{at}.h5"
        path.write_bytes(bytes(data))
        results[outcome(path)] += 1
        path.unlink()
    assert results["refused"] > 0


def test_the_command_says_error_and_exits_1(tmp_path, good):
    path = tmp_path / "cut.h5"
    path.write_bytes(good[: len(good) // 2])
    env = dict(os.environ, PYTHONPATH=str(SOURCE / "analysis"), MPLBACKEND="Agg")
    p = subprocess.run([sys.executable, "-m", "migsim_figures", "figures", str(path), "-o", str(tmp_path / "figs")],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 1, p.stderr
    assert p.stderr.startswith(f"error: {path}:") and "Traceback" not in p.stderr, p.stderr
    assert not (tmp_path / "figs").exists() or not any((tmp_path / "figs").iterdir())
