"""Shared helpers for the command-line tests: where migsim is, and how to run it."""
import os
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

SOURCE = Path(os.environ.get("MIGSIM_SOURCE_DIR", Path(__file__).resolve().parents[2]))
MIGSIM = os.environ.get("MIGSIM", str(SOURCE / "build" / "migsim"))
EXAMPLE = SOURCE / "configs" / "examples" / "corridor.yaml"


def migsim(*args, check=None, **kw):
    """Runs migsim; returns the CompletedProcess (text mode)."""
    p = subprocess.run([MIGSIM, *map(str, args)], capture_output=True, text=True, **kw)
    if check is not None:
        assert p.returncode == check, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p


def data_variables(path):
    """Every dataset of the file (values only), as {name: numpy array}."""
    out = {}
    with h5py.File(path, "r") as f:
        for name, obj in f.items():
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]
    return out


def assert_same_data(a, b):
    va, vb = data_variables(a), data_variables(b)
    assert sorted(va) == sorted(vb)
    for name in va:
        assert va[name].dtype == vb[name].dtype, name
        assert np.array_equal(va[name], vb[name]), f"{name} differs"


@pytest.fixture(scope="session")
def example_run(tmp_path_factory):
    """The example scenario run once at the default thread count."""
    out = tmp_path_factory.mktemp("run") / "corridor.h5"
    migsim("run", EXAMPLE, "-o", out, "--quiet", check=0)
    return out
