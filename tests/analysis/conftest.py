"""Fixtures: small migsim outputs made once per session (see make_examples.py), and the
reference reader the tests use to compute expected numbers independently of the package
(h5py and numpy only, never xarray or migsim_figures)."""
from __future__ import annotations

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "analysis"))
sys.path.insert(0, HERE)

import make_examples  # noqa: E402


@pytest.fixture(scope="session")
def examples(tmp_path_factory):
    """Paths of: run, policy_run (single runs), ensemble and compare files."""
    return make_examples.make_all(str(tmp_path_factory.mktemp("examples")))


@pytest.fixture(scope="session")
def run_figures(examples, tmp_path_factory):
    """Every figure of the single-run example, written as `make figures` writes them."""
    from migsim_figures.figures import make_figures
    from migsim_figures.load import open_source
    out = str(tmp_path_factory.mktemp("figures"))
    make_figures(open_source(examples["run"]), out, log=lambda *_: None)
    return out
