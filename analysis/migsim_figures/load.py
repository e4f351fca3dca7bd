"""Open a migsim output file (single run, ensemble or comparison) through xarray.

Every file becomes a :class:`Source` holding one or more :class:`Experiment` s. An
experiment is a set of runs of one scenario that differ only by their random seed: a single
run (one run), one scenario of a comparison file (its replicates), or one combination of
parameter values of an ensemble file (its replicates; an ensemble that varies nothing is a
single experiment). Measures are computed run by run (see :meth:`Experiment.measure`), so a
large ensemble is never loaded whole.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import xarray as xr

#: Dimension name that every measure gains: one entry per run of an experiment.
REP = "rep"

#: An ensemble with more parameter sets than this is drawn as one pool of members (a band
#: over parameters and seeds together) rather than one set of figures per parameter set.
MAX_GROUPS = 8

#: Coordinates along `member` that describe a member but are not varied parameters.
_MEMBER_BOOKKEEPING = {"member", "seed", "replicate", "member_ok", "member_error"}


class FileError(Exception):
    """A file that is not a migsim output this package can read."""


@dataclass
class Experiment:
    """Runs of one scenario that differ only by seed.

    `selectors` index the file's dataset to one run each (e.g. ``{"member": 3}``, or ``{}``
    for a single-run file); `replicates` are their replicate numbers (used to pair runs of
    two experiments that share random numbers) and `seeds` their seeds.
    """

    label: str
    ds: xr.Dataset
    selectors: list[dict]
    replicates: list[int]
    seeds: list[int | None]
    scenario: str
    version: str
    path: str
    kind: str
    n_failed: int = 0
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_runs(self) -> int:
        return len(self.selectors)

    def run(self, i: int) -> xr.Dataset:
        """The single-run dataset of run i (lazily indexed: only what is used is read)."""
        return self.ds.isel(self.selectors[i]) if self.selectors[i] else self.ds

    def static(self, name: str) -> xr.DataArray:
        """A variable that does not change between runs (country_name, region_member, ...)."""
        return self.run(0)[name]

    def measure(self, fn: Callable[[xr.Dataset], xr.DataArray]) -> xr.DataArray:
        """fn applied to every run, stacked along REP (coordinate: replicate numbers).

        Results are cached per function, so figures and the brief share the work.
        """
        if fn not in self._cache:
            parts = [fn(self.run(i)).load() for i in range(self.n_runs)]
            self._cache[fn] = xr.concat(parts, dim=REP).assign_coords({REP: self.replicates})
        return self._cache[fn]

    def times(self) -> xr.DataArray:
        return self.ds["time"]

    def has(self, name: str) -> bool:
        return name in self.ds.variables

    def describe_seeds(self) -> str:
        """'seed 20100101', or 'seeds 1-4 (4 runs)', for footers and the brief."""
        seeds = [s for s in self.seeds if s is not None]
        if not seeds:
            return "seed not recorded"
        if len(seeds) == 1:
            return f"seed {seeds[0]}"
        ordered = sorted(seeds)
        if ordered == list(range(ordered[0], ordered[0] + len(ordered))):
            text = f"{ordered[0]}-{ordered[-1]}"
        elif len(ordered) <= 4:
            text = ", ".join(str(s) for s in ordered)
        else:
            text = f"{ordered[0]}, {ordered[1]}, ..., {ordered[-1]}"
        return f"seeds {text} ({len(seeds)} runs)"


@dataclass
class Source:
    """One file and the experiments in it (the first is the baseline of a comparison)."""

    path: str
    kind: str  # "run", "ensemble" or "compare"
    experiments: list[Experiment]

    def experiment(self, label: str | None) -> Experiment:
        if label is None:
            return self.experiments[0]
        for e in self.experiments:
            if e.label == label:
                return e
        names = ", ".join(e.label for e in self.experiments)
        raise FileError(f"{self.path}: no scenario or parameter set named {label!r} (there are: {names})")


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _version(ds: xr.Dataset) -> str:
    if "migsim_version" in ds.attrs:
        return _text(ds.attrs["migsim_version"])
    source = _text(ds.attrs.get("source", ""))
    if source.startswith("migsim "):
        return source.split()[1].rstrip(",")
    return "unknown"


def _ok_mask(ds: xr.Dataset, dims: tuple[str, ...]) -> np.ndarray:
    """member_ok != 0 as a boolean array over `dims` (all True when the file has none)."""
    template = xr.DataArray(np.ones(tuple(ds.sizes[d] for d in dims), dtype=bool), dims=dims)
    if "member_ok" not in ds.variables:
        return template.values
    ok = ds["member_ok"]
    if not set(ok.dims) <= set(dims):
        raise FileError(f"member_ok has dimensions {ok.dims}, expected a subset of {dims}")
    ok = (ok != 0).drop_vars(list(ok.coords))
    return (ok & template).transpose(*dims).values


def _seed_of(ds: xr.Dataset, selector: dict) -> int | None:
    """The seed of one run: a `seed` coordinate indexed by the run's selector, else the attribute."""
    if "seed" in ds.variables and ds["seed"].dims and set(ds["seed"].dims) <= set(selector):
        return int(ds["seed"].isel({d: selector[d] for d in ds["seed"].dims}).values)
    if "seed" in ds.attrs:
        return int(np.asarray(ds.attrs["seed"]).ravel()[0])
    return None


def _format_value(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    return _text(v.item() if hasattr(v, "item") else v)


# Reads every dataset and attribute of a file; run in a child process by _check_readable.
_READ_ALL = """
import sys, h5py
def visit(name, obj):
    for key in obj.attrs:
        obj.attrs[key]
    if isinstance(obj, h5py.Dataset):
        obj[()]
with h5py.File(sys.argv[1], "r") as f:
    for key in f.attrs:
        f.attrs[key]
    f.visititems(visit)
"""


def _check_readable(path: str) -> None:
    """Reads the whole file once in a child process, so that damage the HDF5 library cannot
    survive becomes a FileError instead of killing this process.

    HDF5 checksums the metadata of migsim's files but not its global heap (variable-length
    strings) nor chunk indexes and data, and HDF5 1.10 segfaults or aborts on some damage
    there (tests/reliability/test_damaged_analysis.py); migsim's own reader does the same
    (sim/output/netcdf.cpp). Damage that only makes a read fail (a chunk that does not
    decompress) is reported the same way, before any figure is drawn.
    """
    try:
        p = subprocess.run([sys.executable, "-c", _READ_ALL, path], capture_output=True, timeout=3600)
    except (OSError, subprocess.TimeoutExpired):
        return  # cannot check: the open below gives whatever error there is
    if p.returncode < 0:
        name = signal.Signals(-p.returncode).name
        raise FileError(f"{path}: the file is damaged: reading it crashed the HDF5 library ({name}); "
                        "run migsim again or restore the file")
    if p.returncode > 0:
        lines = [l for l in p.stderr.decode(errors="replace").splitlines() if l.strip()]
        raise FileError(f"{path}: cannot be opened as netCDF-4/HDF5: {lines[-1] if lines else 'unknown error'}")


def open_source(path: str) -> Source:
    """Open FILE with xarray (engine h5netcdf) and split it into experiments."""
    if not os.path.exists(path):
        raise FileError(f"{path}: no such file (run migsim first, or give the path of an output it wrote)")
    _check_readable(path)
    try:
        ds = xr.open_dataset(path, engine="h5netcdf")
    except Exception as exc:  # h5netcdf raises several types for a non-netCDF file
        raise FileError(f"{path}: cannot be opened as netCDF-4/HDF5: {exc}") from exc
    if "migrant_stock" not in ds.variables or "time" not in ds.dims:
        raise FileError(f"{path}: not a migsim output (no migrant_stock or time)")
    scenario = _text(ds.attrs.get("scenario_name", os.path.splitext(os.path.basename(path))[0]))
    version = _version(ds)
    common = dict(ds=ds, version=version, path=path)

    if "member" in ds.dims:
        ok = _ok_mask(ds, ("member",))
        # The varied parameters: every variable along member alone but the bookkeeping
        # (`migsim sweep` writes them as data variables, named by their key paths).
        params = [c for c in ds.variables if ds[c].dims == ("member",) and c not in _MEMBER_BOOKKEEPING]
        groups: dict[tuple, list[int]] = {}
        for m in range(ds.sizes["member"]):
            key = tuple(ds[p].values[m].item() for p in params)
            groups.setdefault(key, []).append(m)
        pooled = len(groups) > MAX_GROUPS
        if pooled:  # e.g. a Latin hypercube: one member per parameter set, so pool them all
            groups = {(): list(range(ds.sizes["member"]))}
        experiments = []
        for key, members in groups.items():
            good = [m for m in members if ok[m]]
            label = ", ".join(f"{p} = {_format_value(v)}" for p, v in zip(params, key)) or scenario
            if pooled:
                label = f"all members ({', '.join(params)} varied)"
            if not good:
                raise FileError(f"{path}: every member of {label} failed (member_ok = 0)")
            reps = ([int(ds["replicate"].values[m]) for m in good] if "replicate" in ds.variables
                    and not pooled else list(range(len(good))))
            sel = [{"member": m} for m in good]
            experiments.append(Experiment(
                label=label, selectors=sel, replicates=reps, seeds=[_seed_of(ds, s) for s in sel],
                scenario=scenario, kind="ensemble", n_failed=len(members) - len(good), **common))
        return Source(path, "ensemble", experiments)

    if "scenario" in ds.dims:
        names = [_text(v) for v in ds["scenario"].values] if "scenario" in ds.variables \
            else [f"scenario {i}" for i in range(ds.sizes["scenario"])]
        rep_dim = "replicate" if "replicate" in ds.dims else None
        n_rep = ds.sizes[rep_dim] if rep_dim else 1
        dims = ("scenario", rep_dim) if rep_dim else ("scenario",)
        ok = _ok_mask(ds, dims).reshape(len(names), n_rep)
        reps_all = ([int(v) for v in ds[rep_dim].values] if rep_dim and rep_dim in ds.variables
                    else list(range(n_rep)))
        experiments = []
        for i, name in enumerate(names):
            good = [r for r in range(n_rep) if ok[i, r]]
            if not good:
                raise FileError(f"{path}: every replicate of scenario {name} failed (member_ok = 0)")
            sel = [{"scenario": i, rep_dim: r} if rep_dim else {"scenario": i} for r in good]
            experiments.append(Experiment(
                label=name, selectors=sel, replicates=[reps_all[r] for r in good],
                seeds=[_seed_of(ds, s) for s in sel], scenario=name, kind="compare",
                n_failed=n_rep - len(good), **common))
        return Source(path, "compare", experiments)

    return Source(path, "run", [Experiment(
        label=scenario, selectors=[{}], replicates=[0], seeds=[_seed_of(ds, {})],
        scenario=scenario, kind="run", **common)])
