"""Expected numbers computed straight from the HDF5 with h5py and numpy, independently of
migsim_figures (which goes through xarray), so a mistake in the package's definitions shows.

Arrays keep the file's dimension order; `dims(path, name)` names them.
"""
from __future__ import annotations

import re

import h5py
import numpy as np

PATHWAY_KINDS = ["labour_visa", "humanitarian_visa", "private_sponsorship", "family_reunification",
                 "free_movement"]


def _dec(a):
    return [x.decode() if isinstance(x, bytes) else str(x) for x in np.asarray(a).ravel()]


def read(path: str, name: str) -> np.ndarray:
    with h5py.File(path, "r") as f:
        return f[name][()]


def labels(path: str, name: str) -> list[str]:
    return _dec(read(path, name))


def attr(path: str, name: str):
    with h5py.File(path, "r") as f:
        v = f.attrs[name]
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray) and v.shape == (1,):
        return v[0]
    return v


def dims(path: str, name: str) -> list[str]:
    """Dimension names of a variable, from its attached dimension scales."""
    with h5py.File(path, "r") as f:
        ds = f[name]
        return [ds.dims[i][0].name.lstrip("/") for i in range(ds.ndim)]


def months(path: str) -> np.ndarray:
    """The time axis as datetime64[D], decoded from its CF units by hand."""
    with h5py.File(path, "r") as f:
        t = f["time"]
        units = t.attrs["units"]
        units = units.decode() if isinstance(units, bytes) else str(units)
        values = t[()]
    m = re.match(r"days since (\d{4}-\d{2}-\d{2})", units)
    assert m, units
    return np.datetime64(m.group(1), "D") + values.astype("timedelta64[D]")


def years(path: str) -> np.ndarray:
    return months(path).astype("datetime64[Y]").astype(int) + 1970


def annual(values: np.ndarray, yrs: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sum a monthly array by calendar year along `axis`."""
    uy = np.unique(yrs)
    return uy, np.stack([np.take(values, np.where(yrs == y)[0], axis=axis).sum(axis=axis) for y in uy], axis=axis)


def stock_by_location(path: str) -> np.ndarray:
    """(…, time, location): migrant_stock summed over statuses and over origins != location."""
    s = read(path, "migrant_stock").astype(float)  # (..., time, origin, location, status)
    origin, location = labels(path, "origin"), labels(path, "location")
    abroad = np.array([[o != loc for loc in location] for o in origin])
    return (s.sum(axis=-1) * abroad).sum(axis=-2)


def corridor_stock(path: str) -> np.ndarray:
    """(…, time, origin, location) with origin == location set to 0."""
    s = read(path, "migrant_stock").astype(float).sum(axis=-1)
    origin, location = labels(path, "origin"), labels(path, "location")
    abroad = np.array([[o != loc for loc in location] for o in origin])
    return s * abroad


def lac(path: str) -> list[str]:
    region = labels(path, "region")
    member = read(path, "region_member")[region.index("LAC")]
    return [loc for loc, m in zip(labels(path, "location"), member) if m == 1]


def kinds_index(path: str, kinds) -> list[int]:
    ak = labels(path, "arrival_kind")
    return [ak.index(k) for k in kinds if k in ak]
