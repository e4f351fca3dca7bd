#!/usr/bin/python3
"""Print a short summary of a migsim run: agents, months, the migrant stock of Latin America
and the Caribbean (LAC) at the first month, in 2010 and 2022, and irregular crossings and
route deaths per year.

    /usr/bin/python3 analysis/summary.py outputs/americas.h5 [--detail]

The migrant stock living in a set of locations is `migrant_stock` summed over every status
where origin != location (origin == location cells hold prospective migrants still at
home); LAC is `region_member.sel(region="LAC")`.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import xarray as xr


def open_run(path):
    return xr.open_dataset(path, engine="h5netcdf")


def abroad(ds):
    """migrant_stock with the origin == location cells set to 0."""
    st = ds["migrant_stock"]
    same = ds["origin"].values[:, None] == ds["location"].values[None, :]
    return st.where(~xr.DataArray(same, dims=("origin", "location")), 0)


def region_stock(ds, region="LAC"):
    """Migrant stock living in the region's locations, persons, by time."""
    member = ds["region_member"].sel(region=region).astype(bool)
    locs = ds["location"].values[member.values]
    return abroad(ds).sel(location=locs).sum(("origin", "location", "status"))


def month_labels(ds):
    start = ds.attrs["start_month"]
    y, m = int(start[:4]), int(start[5:7])
    out = []
    for t in range(ds.sizes["time"]):
        k = (y * 12 + m - 1) + t
        out.append(f"{k // 12:04d}-{k % 12 + 1:02d}")
    return out


def at_month(series, labels, label):
    return int(series.values[labels.index(label)]) if label in labels else None


def yearly(ds, var, labels):
    years = np.array([int(l[:4]) for l in labels])
    total = ds[var].sum([d for d in ds[var].dims if d != "time"]).values
    return {int(y): int(total[years == y].sum()) for y in np.unique(years)}


def summarise(path, detail=False, out=sys.stdout):
    ds = open_run(path)
    labels = month_labels(ds)
    lac = region_stock(ds)
    p = lambda *a: print(*a, file=out)
    p(f"run        {path}")
    p(f"scenario   {ds.attrs.get('scenario_name', '?')}  seed {ds.attrs.get('seed')}  "
      f"people_per_agent {ds.attrs.get('people_per_agent')}  threads {ds.attrs.get('threads')}")
    p(f"months     {len(labels)} ({labels[0]} to {labels[-1]})")
    agents = ds["agents"].values
    p(f"agents     {int(agents[0]):,} after the first month, {int(agents[-1]):,} at the end, max {int(agents.max()):,}")
    p("LAC migrant stock (persons, end of month; target 8,326,588 in 2010 and 16,300,000 in 2022):")
    shown = []
    for lab in (labels[0], "2010-12", "2015-12", "2020-12", "2022-12", labels[-1]):
        if lab in shown:
            continue
        shown.append(lab)
        v = at_month(lac, labels, lab)
        if v is not None:
            p(f"  {lab}  {v:>12,}")
    cross = yearly(ds, "irregular_crossings", labels)
    deaths = yearly(ds, "route_deaths", labels)
    inter = yearly(ds, "interceptions", labels)
    p("irregular crossings, route deaths and interceptions per year (all edges):")
    p("  year     crossings     deaths  interceptions")
    for y in sorted(cross):
        p(f"  {y}  {cross[y]:>12,} {deaths[y]:>10,} {inter[y]:>14,}")
    if detail:
        t_last = len(labels) - 1
        ab = abroad(ds).isel(time=t_last).sum("status")
        member = ds["region_member"].sel(region="LAC").astype(bool).values
        lac_locs = ds["location"].values[member]
        by_origin = ab.sel(location=lac_locs).sum("location").to_series().sort_values(ascending=False)
        p(f"LAC stock by origin at {labels[-1]} (top 10):")
        for o, v in by_origin.head(10).items():
            p(f"  {o}  {int(v):>12,}")
        ven = ab.sel(origin="VEN").to_series().sort_values(ascending=False)
        p(f"born in Venezuela, by location at {labels[-1]} (top 10):")
        for l, v in ven.head(10).items():
            p(f"  {l}  {int(v):>12,}")
        by_edge = ds["irregular_crossings"].sum("time").to_series().sort_values(ascending=False)
        p("irregular crossings by edge, whole run (top 8):")
        for e, v in by_edge.head(8).items():
            p(f"  {e:8s} {int(v):>12,}")
        st = ds["migrant_stock"].isel(time=t_last).sum(("origin", "location")).to_series()
        p("all agents by status at the end (persons): " + ", ".join(f"{k} {int(v):,}" for k, v in st.items()))
    return {"lac_first": int(lac.values[0]), "lac_2022_12": at_month(lac, labels, "2022-12")}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--detail", action="store_true", help="also print origins, Venezuelans and edges")
    a = ap.parse_args(argv)
    summarise(a.file, a.detail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
