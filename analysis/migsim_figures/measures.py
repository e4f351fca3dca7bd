"""Quantities the figures and the brief plot, each computed from ONE run's dataset.

Every function takes a single-run `xarray.Dataset` (no member, scenario or replicate
dimension) and returns a DataArray in persons (or a share); `Experiment.measure` stacks them
over runs. Definitions follow the output file's documentation:

- migrants living in a location: `migrant_stock` summed over statuses where origin !=
  location (origin == location cells are prospective migrants still at home);
- LAC: the locations with `region_member.sel(region="LAC") == 1`;
- flows (arrivals, crossings, deaths, ...) are summed by calendar year.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

#: Arrival kinds that come through a regular pathway, in the order figures show them.
PATHWAY_KINDS = ["labour_visa", "humanitarian_visa", "private_sponsorship",
                 "family_reunification", "free_movement"]
IRREGULAR = "irregular"
OTHER = "other"

LAC = "LAC"


def abroad_mask(ds: xr.Dataset) -> xr.DataArray:
    """True where origin != location (a migrant abroad), over (origin, location)."""
    return ds["origin"] != ds["location"]


def corridor_stock(ds: xr.Dataset) -> xr.DataArray:
    """Migrants by (time, origin, location), all statuses, origin != location (else 0)."""
    stock = ds["migrant_stock"].sum("status")
    return stock.where(abroad_mask(ds), 0)


def stock_by_location(ds: xr.Dataset) -> xr.DataArray:
    """Migrants living in each location, (time, location)."""
    return corridor_stock(ds).sum("origin")


def lac_locations(ds: xr.Dataset) -> list[str]:
    """Locations in Latin America and the Caribbean, or [] if the file has no LAC region."""
    if "region_member" not in ds.variables or LAC not in list(ds["region"].values):
        return []
    member = ds["region_member"].sel(region=LAC)
    return [str(loc) for loc in member["location"].values[member.values == 1]]


def stock_lac(ds: xr.Dataset) -> xr.DataArray:
    """Migrants living in LAC (time); NaN when the file defines no LAC region."""
    locs = lac_locations(ds)
    if not locs:
        return xr.full_like(ds["time"], np.nan, dtype=float).rename("stock_lac")
    return stock_by_location(ds).sel(location=locs).sum("location")


def stock_total(ds: xr.Dataset) -> xr.DataArray:
    """Migrants living anywhere in the modelled countries (time)."""
    return stock_by_location(ds).sum("location")


def annual(da: xr.DataArray) -> xr.DataArray:
    """Sum a monthly flow by calendar year: the time dimension becomes `year`."""
    return da.groupby("time.year").sum("time")


def months_per_year(ds: xr.Dataset) -> xr.DataArray:
    """How many simulated months each calendar year has (12 unless the run starts or ends in it)."""
    return xr.ones_like(ds["time"], dtype=int).groupby("time.year").sum("time")


def arrivals_by_kind(ds: xr.Dataset) -> xr.DataArray:
    """Arrivals per year by arrival kind, (year, arrival_kind)."""
    return annual(ds["arrivals"].sum(["origin", "location"]))


def regular_arrivals(ds: xr.Dataset) -> xr.DataArray:
    """Arrivals through a regular pathway (the five pathway kinds; not 'other'), per month."""
    kinds = [k for k in PATHWAY_KINDS if k in list(ds["arrival_kind"].values)]
    return ds["arrivals"].sel(arrival_kind=kinds).sum(["origin", "location", "arrival_kind"])


def irregular_arrivals(ds: xr.Dataset) -> xr.DataArray:
    return ds["arrivals"].sel(arrival_kind=IRREGULAR).sum(["origin", "location"])


def crossings_by_edge(ds: xr.Dataset) -> xr.DataArray:
    return annual(ds["irregular_crossings"])


def deaths_by_edge(ds: xr.Dataset) -> xr.DataArray:
    return annual(ds["route_deaths"])


def interceptions_by_edge(ds: xr.Dataset) -> xr.DataArray:
    return annual(ds["interceptions"])


def crossings(ds: xr.Dataset) -> xr.DataArray:
    """Irregular edge crossings per month, all edges (a journey over 3 edges counts 3 times)."""
    return ds["irregular_crossings"].sum("edge")


def route_deaths(ds: xr.Dataset) -> xr.DataArray:
    return ds["route_deaths"].sum("edge")


def hires(ds: xr.Dataset) -> xr.DataArray:
    """Vacancies filled by migrants per month, all countries and sectors."""
    return ds["hires"].sum(["location", "sector"])


def vacancies(ds: xr.Dataset) -> xr.DataArray:
    return ds["vacancies"].sum(["location", "sector"])


def hires_by_cell(ds: xr.Dataset) -> xr.DataArray:
    """Vacancies filled by migrants over the whole run, (location, sector)."""
    return ds["hires"].sum("time")


def vacancies_by_cell(ds: xr.Dataset) -> xr.DataArray:
    return ds["vacancies"].sum("time")


def shortage_filled(ds: xr.Dataset) -> xr.DataArray:
    """Share of the run's vacancies filled by migrants, (location, sector); NaN with no vacancies."""
    vac = vacancies_by_cell(ds)
    return (hires_by_cell(ds) / vac.where(vac > 0)).rename("shortage_filled")


def pathway_use(ds: xr.Dataset) -> xr.DataArray:
    """Per pathway over the whole run: applications, admissions, and the quota they ran against.

    Months with a cap (quota >= 0) and uncapped months (quota == -1) are counted apart:
    `capacity` is the quota summed over capped months, `admitted_capped` the admissions in
    those months, and `admitted_uncapped` the admissions in uncapped months.
    """
    quota = ds["quota"]
    capped = quota >= 0
    out = xr.concat([
        ds["applications"].sum("time"),
        ds["admissions"].sum("time"),
        quota.where(capped, 0).sum("time"),
        ds["admissions"].where(capped, 0).sum("time"),
        ds["applications"].where(capped, 0).sum("time"),
        ds["admissions"].where(~capped, 0).sum("time"),
        (quota != 0).sum("time"),
        (quota == -1).sum("time"),
    ], dim="quantity")
    return out.assign_coords(quantity=[
        "applications", "admissions", "capacity", "admitted_capped", "applied_capped",
        "admitted_uncapped", "months_open", "months_uncapped"])
