"""Summaries across the runs of an experiment, and paired policy-minus-baseline differences.

The band is the central 90% of the runs: the 5th and 95th percentiles across replicates
(numpy's default linear interpolation between order statistics), around their median. With
one run the median and both bounds are that run's value. With few runs the band is a rough
guide: with n runs the 5th and 95th percentiles lie between the two lowest and the two
highest values.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from .load import REP

LOW, HIGH = 0.05, 0.95


def band(da: xr.DataArray) -> xr.Dataset:
    """median, q05 and q95 across REP (NaN runs ignored)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells (no vacancies) stay NaN
        q = da.quantile([LOW, 0.5, HIGH], dim=REP, skipna=True)
    return xr.Dataset({"median": q.sel(quantile=0.5, drop=True),
                       "q05": q.sel(quantile=LOW, drop=True),
                       "q95": q.sel(quantile=HIGH, drop=True)})


def paired_difference(base: xr.DataArray, policy: xr.DataArray) -> xr.DataArray:
    """policy - base, run by run, pairing runs with the same replicate number.

    Replicates with the same number share their random numbers (common random numbers), so
    the difference of a pair is the effect of the policy with most of the noise removed.
    Single-run files pair with each other.
    """
    if base.sizes[REP] == 1 and policy.sizes[REP] == 1:
        return policy.assign_coords({REP: [0]}) - base.assign_coords({REP: [0]})
    common = np.intersect1d(base[REP].values, policy[REP].values)
    if common.size == 0:
        raise ValueError("the two experiments share no replicate number, so their runs cannot be paired")
    return policy.sel({REP: common}) - base.sel({REP: common})


def table(da: xr.DataArray, value: str = "persons") -> pd.DataFrame:
    """A tidy table of a measure: one row per cell, with the run count.

    A single run gives a `value` column; several runs give `median`, `q05`, `q95`.
    """
    n = da.sizes[REP]
    if n == 1:
        df = da.isel({REP: 0}, drop=True).to_dataframe(name=value)
    else:
        b = band(da)
        df = b.to_dataframe()[["median", "q05", "q95"]]
        df.columns = [f"{value}_{c}" for c in df.columns]
    df = df.reset_index()
    df["n_runs"] = n
    return df


def cells(name: str, v: xr.DataArray) -> dict[str, float]:
    """One table row's columns for a value over runs (same naming as `table`): `name` for a
    single run, else `name_median`, `name_q05`, `name_q95`."""
    if v.sizes[REP] == 1:
        return {name: float(v.values[0])}
    b = band(v)
    return {f"{name}_{k}": float(b[k]) for k in ("median", "q05", "q95")}


def column(df: pd.DataFrame, name: str) -> pd.Series:
    """The drawn value of a `cells` column: the single run's, or the median."""
    return df[name] if name in df else df[f"{name}_median"]


def centre(da: xr.DataArray) -> xr.DataArray:
    """The line a figure draws: the run's value, or the median across runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return da.median(REP, skipna=True)
