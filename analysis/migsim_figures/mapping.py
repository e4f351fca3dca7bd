"""Map of the Americas coloured by the change in migrant stock.

Country outlines come from Natural Earth's 1:110m countries shipped inside Debian's
python3-geopandas (`geopandas.datasets.get_path("naturalearth_lowres")`), so the map works
offline. At that scale small island states (Barbados, Grenada, Saint Lucia, ...) have no
outline; a modelled country without one is named in the figure's footer and flagged in the
CSV (column `on_map`).
"""
from __future__ import annotations

import warnings

import matplotlib
import matplotlib.colors as mcolors
from matplotlib.cm import ScalarMappable
import numpy as np
import pandas as pd

from . import measures as M
from . import style as S
from .figures import footer_lines, names, period
from .stats import cells, column

#: Lambert azimuthal equal-area centred on the Americas: areas compare fairly on a choropleth.
PROJECTION = "+proj=laea +lat_0=10 +lon_0=-80 +datum=WGS84 +units=m +no_defs"
AMERICAS = ("North America", "South America")
#: Class edges of the percent change. Ratios 0.5/2, 0.8/1.25 and 0.95/1.05 mirror each other;
#: the classes below -50% and above +100% are open-ended.
BINS = [-50, -20, -5, 5, 25, 100]


def world():
    import geopandas as gpd
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # geopandas 0.12 warns that the datasets will move
        return gpd.read_file(gpd.datasets.get_path("naturalearth_lowres"))


def main_part(geom):
    """The largest polygon of a country (mainland USA rather than Alaska plus Hawaii)."""
    if geom.geom_type == "MultiPolygon":
        return max(geom.geoms, key=lambda g: g.area)
    return geom


def fig_map(exp):
    stock = exp.measure(M.stock_by_location)  # (rep, time, location)
    start = stock.isel(time=0, drop=True)
    end = stock.isel(time=-1, drop=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = 100 * (end - start) / start.where(start > 0)
    nm = names(exp)
    locs = [str(x) for x in stock["location"].values]
    first, last = period(exp)

    w = world()
    outlines = w.set_index("iso_a3")
    rows = []
    for loc in locs:
        row = {"location": loc, "country": nm.get(loc, loc), "on_map": loc in outlines.index}
        for key, da in (("start", start), ("end", end), ("change", end - start), ("change_pct", pct)):
            row.update(cells(key, da.sel(location=loc)))
        rows.append(row)
    df = pd.DataFrame(rows)
    df["n_runs"] = exp.n_runs
    drawn = pd.DataFrame({"location": df["location"], "change_pct": column(df, "change_pct")})

    americas = w[w["continent"].isin(AMERICAS)].to_crs(PROJECTION)
    modelled = americas[americas["iso_a3"].isin(locs)].merge(
        drawn, left_on="iso_a3", right_on="location")
    missing = [loc for loc in locs if loc not in set(americas["iso_a3"])]

    # Frame the modelled countries (their main landmass: mainland USA, not Hawaii), with a margin.
    frame = [main_part(g).bounds for g in modelled.geometry] or [americas.total_bounds]
    bounds = np.array(frame)
    x0, y0, x1, y1 = bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max()
    mx, my = 0.05 * (x1 - x0), 0.05 * (y1 - y0)
    x0, x1, y0, y1 = x0 - mx, x1 + mx, y0 - my, y1 + my
    map_w = S.COLUMN_IN - 0.15
    map_h = float(np.clip(map_w * (y1 - y0) / (x1 - x0), 1.8, 4.8))
    fig, ax = S.new_figure(map_h + 1.5)
    cmap, norm = classes()
    americas.plot(ax=ax, color=S.LIGHT_GREY, edgecolor="white", linewidth=0.3)
    modelled.plot(ax=ax, column="change_pct", cmap=cmap, norm=norm, edgecolor="#404040", linewidth=0.35,
                  missing_kwds={"color": "white", "edgecolor": "#404040", "hatch": "/////", "linewidth": 0.35})
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    unlabelled = label_countries(ax, modelled, cmap, norm, units_per_pt=max((x1 - x0) / map_w,
                                                                             (y1 - y0) / map_h) / 72)
    ax.set_axis_off()
    ax.set_aspect("equal")
    sm = ScalarMappable(norm=norm, cmap=cmap)
    cb = fig.colorbar(sm, ax=ax, orientation="horizontal", fraction=0.045, pad=0.02, aspect=30,
                      ticks=BINS, spacing="uniform", extend="both", extendfrac=0.12)
    cb.ax.set_xticklabels([f"{b:+d}".replace("-", "\u2212").replace("+0", "0") for b in BINS])
    cb.ax.tick_params(labelsize=6)
    cb.set_label(f"Change in migrants living in the country, {first} to {last} (%)")
    cb.outline.set_visible(False)
    undefined = drawn.loc[~np.isfinite(drawn["change_pct"]), "location"].tolist()
    note = ("Grey: not in the scenario. "
            + (f"Hatched: no migrants at the start, so no percent change ({', '.join(undefined)}). "
               if undefined else "")
            + "Map: Natural Earth 1:110m (small islands have no outline"
            + (f"; not on the map: {', '.join(missing)}" if missing else "") + ").")
    if unlabelled:
        note += " No room for a label: " + ", ".join(sorted(unlabelled)) + "."
    S.title(fig, f"Change in migrant stock across the Americas, {first[:4]}-{last[:4]}")
    S.footer(fig, footer_lines(exp, note))
    return fig, df


def label_countries(ax, modelled, cmap, norm, units_per_pt: float, size: float = 5.2) -> list[str]:
    """Write 'ISO3 / +12%' on each country where it fits, biggest countries first.

    A label that would stick out of its country or overlap one already written is left out;
    the returned list ('PAN +72%', ...) goes into the footer instead.
    """
    from shapely.geometry import box

    placed, left_out = [], []
    for geom, loc, val in sorted(zip(modelled.geometry, modelled["iso_a3"], modelled["change_pct"]),
                                 key=lambda r: -main_part(r[0]).area):
        text = (f"{loc}\n{val:+.0f}%" if np.isfinite(val) else loc).replace("-", "\u2212")
        part = main_part(geom)
        p = part.representative_point()
        w = max(S.text_width_pt(line, size) for line in text.split("\n")) * units_per_pt * 1.1
        h = 2.1 * size * units_per_pt
        label = box(p.x - w / 2, p.y - h / 2, p.x + w / 2, p.y + h / 2)
        if part.intersection(label).area < 0.7 * label.area or any(label.intersects(b) for b in placed):
            left_out.append(text.replace("\n", " "))
            continue
        placed.append(label)
        rgba = cmap(norm(val)) if np.isfinite(val) else (1, 1, 1, 1)
        dark = (0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2]) < 0.5
        ax.text(p.x, p.y, text, ha="center", va="center", fontsize=size,
                color="white" if dark else "black", linespacing=1.0)
    return left_out


def classes():
    """Colour classes for the percent change, symmetric in ratio (x0.8 and x1.25 mirror each other)."""
    colours = matplotlib.colormaps["PuOr_r"](np.linspace(0.04, 0.96, len(BINS) + 1))
    cmap = mcolors.ListedColormap(colours[1:-1]).with_extremes(under=colours[0], over=colours[-1])
    return cmap, mcolors.BoundaryNorm(BINS, cmap.N)
