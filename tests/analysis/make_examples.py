"""Small migsim outputs for the figure tests: single runs, an ensemble and a comparison.

The ensemble and comparison files imitate what `migsim sweep` and `migsim compare` write
(see docs/figures.md): runs of the corridor example with several seeds, stacked with xarray
along `member` (with seed, replicate, a varied parameter and member_ok as coordinates) or
along `scenario` and `replicate`, and written with engine h5netcdf.

    /usr/bin/python3 tests/analysis/make_examples.py OUTDIR     # writes the files into OUTDIR
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import xarray as xr

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLE = os.path.join(ROOT, "configs", "examples", "corridor.yaml")
#: The project's own policy variant of the example (extends corridor.yaml, adds a pathway).
LABOUR_VARIANT = os.path.join(ROOT, "configs", "examples", "corridor-labour-pathways.yaml")
SEEDS = [101, 102, 103]

#: The policy variant of the example: wider regular pathways. (find, replace) pairs applied to
#: corridor.yaml's text; each must match exactly once, so a changed example fails loudly here.
POLICY_EDITS = [
    ("name: corridor\n", "name: corridor-wider-pathways\n"),
    ("    quota: 6000\n", "    quota: 15000\n"),           # usa-seasonal-agriculture
    ("set: {quota: 9000}", "set: {quota: 20000}"),        # its 2012 increase
    ("    quota: 500\n", "    quota: 3000\n"),            # usa-humanitarian-parole
    ("    quota: 300\n", "    quota: 2000\n"),            # mex-humanitarian-visa
]
#: The ensemble varies this parameter (key path as `migsim sweep` names it).
SWEEP_KEY = "behaviour.move_rate"
SWEEP_EDIT = ("move_rate: 2.0e-5", "move_rate: {}")
SWEEP_VALUES = [2.0e-5, 4.0e-5]


def migsim_binary() -> str:
    path = os.environ.get("MIGSIM") or os.path.join(ROOT, "build", "migsim")
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"migsim binary not found at {path}: build it (make build) or set MIGSIM")
    return path


def edited(text: str, edits) -> str:
    for old, new in edits:
        if text.count(old) != 1:
            raise ValueError(f"corridor.yaml changed: {old!r} occurs {text.count(old)} times, expected once")
        text = text.replace(old, new)
    return text


def write_scenarios(outdir: str) -> dict[str, str]:
    with open(EXAMPLE) as f:
        base = f.read()
    paths = {"base": EXAMPLE}
    paths["policy"] = os.path.join(outdir, "corridor_policy.yaml")
    with open(paths["policy"], "w") as f:
        f.write(edited(base, POLICY_EDITS))
    for v in SWEEP_VALUES:
        p = os.path.join(outdir, f"corridor_move_rate_{v:g}.yaml")
        with open(p, "w") as f:
            f.write(edited(base, [(SWEEP_EDIT[0], SWEEP_EDIT[1].format(f"{v:.1e}"))]))
        paths[f"sweep_{v:g}"] = p
    return paths


def run(scenario: str, out: str, seed: int | None = None) -> str:
    cmd = [migsim_binary(), "run", scenario, "-o", out, "--force", "--quiet", "--threads", "1"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    subprocess.run(cmd, check=True)
    return out


def _load(path: str) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _stack(runs: list[xr.Dataset], dim: str) -> xr.Dataset:
    """Time-dependent variables gain `dim`; static ones (country_name, ...) stay as they are."""
    timed = [r[[v for v in r.data_vars if "time" in r[v].dims]] for r in runs]
    static = runs[0][[v for v in runs[0].data_vars if "time" not in runs[0][v].dims]]
    out = xr.merge([xr.concat(timed, dim=dim), static])
    out.attrs = dict(runs[0].attrs)
    out.attrs.pop("seed", None)
    return out


def make_ensemble(runs_by_value: dict[float, list[xr.Dataset]], out: str, failed: bool = True) -> str:
    """A sweep file: len(values) x len(SEEDS) members, plus one failed member if `failed`."""
    members, seed, rep, val, ok = [], [], [], [], []
    for v, runs in runs_by_value.items():
        for r, ds in enumerate(runs):
            members.append(ds)
            seed.append(SEEDS[r])
            rep.append(r)
            val.append(v)
            ok.append(1)
    if failed:  # a member whose run failed: its numbers are garbage and must be ignored
        bad = members[0].copy(deep=True)
        for name in bad.data_vars:
            if "time" in bad[name].dims and bad[name].dtype.kind in "if":
                bad[name].values[...] = 10**9
        members.append(bad)
        seed.append(999)
        rep.append(len(SEEDS))
        val.append(SWEEP_VALUES[0])
        ok.append(0)
    ens = _stack(members, "member")
    # As `migsim sweep` writes them: seed, replicate, the varied parameter, member_ok and
    # member_error are variables along member, not coordinates (xarray reads them as data
    # variables; an earlier stand-in made them coordinates, which hid a grouping bug).
    ens = ens.assign_coords({"member": np.arange(len(members), dtype=np.int32)})
    ens["seed"] = ("member", np.array(seed, dtype=np.uint64))
    ens["replicate"] = ("member", np.array(rep, dtype=np.int32))
    ens[SWEEP_KEY] = ("member", np.array(val, dtype=float))
    ens[SWEEP_KEY].attrs["long_name"] = f"scenario parameter {SWEEP_KEY} (varied by the experiment)"
    ens["member_ok"] = ("member", np.array(ok, dtype=np.int8))
    ens["member_error"] = ("member", np.array(["" if k else "failed" for k in ok], dtype=object))
    ens.to_netcdf(out, engine="h5netcdf")
    return out


def make_compare(base_runs: list[xr.Dataset], policy_runs: list[xr.Dataset], names: list[str], out: str) -> str:
    per = [_stack(base_runs, "replicate"), _stack(policy_runs, "replicate")]
    timed = [p[[v for v in p.data_vars if "replicate" in p[v].dims]] for p in per]
    cmp = xr.merge([xr.concat(timed, dim="scenario"),
                    per[0][[v for v in per[0].data_vars if "replicate" not in per[0][v].dims]]])
    cmp.attrs = dict(per[0].attrs)
    cmp.attrs.pop("scenario_name", None)
    cmp = cmp.assign_coords({"scenario": names, "replicate": np.arange(len(SEEDS), dtype=np.int32),
                             "seed": ("replicate", np.array(SEEDS, dtype=np.uint64))})
    cmp.to_netcdf(out, engine="h5netcdf")
    return out


def make_all(outdir: str) -> dict[str, str]:
    """Every example file; returns their paths by role."""
    os.makedirs(outdir, exist_ok=True)
    sc = write_scenarios(outdir)
    files = {"run": run(sc["base"], os.path.join(outdir, "corridor.h5")),
             "policy_run": run(sc["policy"], os.path.join(outdir, "corridor_policy.h5")),
             "labour_run": run(LABOUR_VARIANT, os.path.join(outdir, "corridor_labour_pathways.h5"))}
    base_runs = [_load(run(sc["base"], os.path.join(outdir, f"base_{s}.h5"), s)) for s in SEEDS]
    policy_runs = [_load(run(sc["policy"], os.path.join(outdir, f"policy_{s}.h5"), s)) for s in SEEDS]
    sweep = {v: [_load(run(sc[f"sweep_{v:g}"], os.path.join(outdir, f"sweep_{v:g}_{s}.h5"), s)) for s in SEEDS]
             for v in SWEEP_VALUES}
    files["ensemble"] = make_ensemble(sweep, os.path.join(outdir, "ensemble.h5"))
    files["compare"] = make_compare(base_runs, policy_runs,
                                    ["corridor", "corridor-wider-pathways"], os.path.join(outdir, "compare.h5"))
    return files


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for role, path in make_all(sys.argv[1]).items():
        print(f"{role}: {path}")
    shutil.rmtree(os.path.join(sys.argv[1], "__pycache__"), ignore_errors=True)
