"""Helpers for the cluster tests: a local single-node Slurm and OpenMPI's mpirun."""
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# The command-line tests' helpers (where migsim is, how to run it), shared.
_spec = importlib.util.spec_from_file_location("cli_helpers", HERE.parent / "cli" / "conftest.py")
cli_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cli_helpers)
EXAMPLE, MIGSIM, SOURCE = cli_helpers.EXAMPLE, cli_helpers.MIGSIM, cli_helpers.SOURCE
data_variables, migsim = cli_helpers.data_variables, cli_helpers.migsim

LOCAL_SLURM = HERE / "local-slurm.sh"
# CI (.ci/run) sets this: there a missing mpirun or Slurm is a failure, not a skip that ctest
# would report as passed.
REQUIRED = os.environ.get("MIGSIM_REQUIRE_HPC") == "1"


def skip_unless_required(reason):
    """Skips the test, saying why; fails it instead where MIGSIM_REQUIRE_HPC=1 (CI)."""
    if REQUIRED:
        pytest.fail(f"{reason} (MIGSIM_REQUIRE_HPC=1: required here)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def slurm():
    """A running Slurm: the one CI started (.ci/run), or one this session starts and stops.
    Skips, saying why, only when the daemons cannot be started here (fails in CI)."""
    if shutil.which("sbatch") is None:
        skip_unless_required("Slurm is not installed (apt-get install slurm-wlm munge; `make deps` does it)")
    status = subprocess.run([str(LOCAL_SLURM), "status"], capture_output=True, text=True)
    started = False
    if status.returncode != 0:
        p = subprocess.run([str(LOCAL_SLURM), "start"], capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            skip_unless_required(f"could not start a local Slurm: {p.stderr.strip() or p.stdout.strip()}")
        started = True
    yield
    if started:
        subprocess.run([str(LOCAL_SLURM), "stop"], capture_output=True, text=True, timeout=60)
