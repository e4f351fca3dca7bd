"""Figures and the brief from files made by the engine's own `migsim sweep` and `migsim
compare` (the other tests build ensemble and comparison files by hand, to the agreed format)."""
import os
import subprocess

import xarray as xr

from conftest import ROOT
from migsim_figures.brief import make_brief
from migsim_figures.figures import make_figures
from migsim_figures.load import open_source

MIGSIM = os.environ.get("MIGSIM") or os.path.join(ROOT, "build", "migsim")
EXAMPLES = os.path.join(ROOT, "configs", "examples")


def run(*args):
    subprocess.run([MIGSIM, *map(str, args)], check=True, capture_output=True)


def test_figures_and_brief_from_sweep_and_compare(tmp_path):
    exp = tmp_path / "exp.yaml"
    exp.write_text(f"experiment_format: 1\nscenario: {EXAMPLES}/corridor.yaml\nseed: 3\nreplicates: 2\n"
                   "months: 12\ndesign: values\nparameters:\n  behaviour.move_rate: [1.0e-5, 4.0e-5]\n")
    ens, cmp_ = tmp_path / "ens.h5", tmp_path / "cmp.h5"
    run("sweep", exp, "-o", ens, "--quiet")
    run("compare", f"{EXAMPLES}/corridor.yaml", f"{EXAMPLES}/corridor-labour-pathways.yaml", "--replicates", 2,
        "--months", 24, "-o", cmp_, "--quiet")
    assert xr.open_dataset(ens, engine="h5netcdf").sizes["member"] == 4
    assert list(xr.open_dataset(cmp_, engine="h5netcdf")["scenario"].values) == ["corridor", "corridor-labour-pathways"]
    quiet = dict(log=lambda *_: None)
    # One group per value of the varied parameter, two replicates each (all four members in
    # one band was a bug: the parameter is a variable along member, not a coordinate).
    src = open_source(str(ens))
    assert [(e.label, len(e.selectors)) for e in src.experiments] == [
        ("behaviour.move_rate = 1e-05", 2), ("behaviour.move_rate = 4e-05", 2)]
    written = make_figures(src, str(tmp_path / "fig-ens"), **quiet)
    assert sum(w.endswith(".png") for w in written) >= 7
    assert any("difference" in w and w.endswith(".png") for w in written)
    written = make_figures(open_source(str(cmp_)), str(tmp_path / "fig-cmp"), **quiet)
    assert any("difference" in w and w.endswith(".png") for w in written)
    pdf = tmp_path / "brief.pdf"
    make_brief(str(cmp_), None, str(pdf))
    assert pdf.read_bytes()[:4] == b"%PDF"
