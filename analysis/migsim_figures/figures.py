"""The brief's figures. Each `fig_*` function takes an Experiment (or two) and returns
(matplotlib Figure, pandas DataFrame of exactly what is drawn); `make_figures` saves them.

With one run a figure draws that run; with several it draws the median across runs and
shades the band from the 5th to the 95th percentile (see stats.py).
"""
from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd
import matplotlib.dates
import matplotlib.font_manager
import matplotlib.ticker
import xarray as xr

from . import measures as M
from . import style as S
from .load import REP, Experiment, Source
from .stats import band, cells, centre, column, paired_difference, table

# Route edges a brief always names when the scenario has them (either direction): label, colour.
HIGHLIGHT_EDGES = {"COL-PAN": ("Darién gap (COL-PAN)", S.OKABE_ITO["vermillion"]),
                   "MEX-USA": ("Mexico-US border (MEX-USA)", S.OKABE_ITO["blue"])}


# --------------------------------------------------------------------------- helpers

def period(exp: Experiment) -> tuple[str, str]:
    t = pd.DatetimeIndex(exp.times().values)
    return t[0].strftime("%Y-%m"), t[-1].strftime("%Y-%m")


def years_text(exp: Experiment) -> str:
    t = pd.DatetimeIndex(exp.times().values)
    return f"{t[0].year}" if t[0].year == t[-1].year else f"{t[0].year}-{t[-1].year}"


LINES_AND_BANDS = "line: median of runs; band: 90% of runs (5th-95th percentile)"


def footer_lines(exp: Experiment, note: str | None = None, summary: str = LINES_AND_BANDS) -> list[str]:
    """Provenance for a figure's footer; `summary` says how several runs are drawn."""
    what = exp.scenario if exp.label == exp.scenario else f"{exp.scenario}, {exp.label}"
    runs = exp.describe_seeds()
    if exp.n_failed:
        runs += f"; {exp.n_failed} failed run{'s' if exp.n_failed > 1 else ''} left out"
    first, last = period(exp)
    ppa = exp.ds.attrs.get("people_per_agent")
    scale = f" | 1 agent = {int(ppa)} persons" if ppa is not None and int(ppa) > 1 else ""
    lines = [f"Scenario: {what} | {runs} | {first} to {last}{scale}",
             f"migsim {exp.version} | file {os.path.basename(exp.path)}"]
    if exp.n_runs > 1:
        lines[1] += f" | {summary}"
    if note:
        lines.insert(0, note)
    return lines


def names(exp: Experiment) -> dict[str, str]:
    """ISO3 -> country name (from the file), 'ROW' -> 'Rest of world'."""
    out = {"ROW": "Rest of world"}
    if exp.has("country_name"):
        cn = exp.static("country_name")
        out.update({str(k): str(v) for k, v in zip(cn["location"].values, cn.values)})
    return out


def line_band(ax, x, da: xr.DataArray, color, label=None, lw=1.2, ls="-", marker=None, z=2):
    """Draw the centre line of `da` (dims: REP, x) and, with several runs, its 90% band."""
    ax.plot(x, centre(da).values, color=color, lw=lw, ls=ls, label=label, marker=marker,
            markersize=2.8, zorder=z)
    if da.sizes[REP] > 1:
        b = band(da)
        ax.fill_between(x, b["q05"].values, b["q95"].values, color=color, alpha=0.18, lw=0, zorder=z - 1)


def vmax_of(da: xr.DataArray) -> float:
    """The largest value a line or its band reaches (for axis scaling)."""
    v = float(np.nanmax(band(da)["q95"].values)) if da.sizes[REP] > 1 else float(np.nanmax(da.values))
    return v if np.isfinite(v) and v > 0 else 1.0


def year_x(exp: Experiment, years) -> pd.DatetimeIndex:
    """Where a calendar year's total is drawn on a time axis: the middle of its simulated months."""
    t = pd.DatetimeIndex(exp.times().values)
    mid = t + pd.Timedelta(days=15)
    return pd.DatetimeIndex([mid[t.year == y].mean() for y in years])


class _YearLabels(matplotlib.ticker.Locator):
    """Every k-th year's label, k the smallest of 1, 2, 5, 10 ... whose labels fit the axis as
    drawn (chosen at drawing time, when the axis has its final width: a step fixed by the
    number of years alone crowded the narrower figures' labels together)."""

    def __init__(self, positions):
        self.positions = list(positions)
        # The tick labels' size as the figure's style sets it (asking the axis for its ticks
        # here would call this locator again).
        self.fontsize = matplotlib.font_manager.FontProperties(
            size=matplotlib.rcParams["xtick.labelsize"]).get_size_in_points()

    def __call__(self):
        ax = self.axis.axes
        width_in = ax.get_window_extent().width / ax.figure.dpi
        room = max(2, int(width_in / (7 * 0.6 * self.fontsize / 72)))  # "2010*" and a space: ~7 characters
        n = len(self.positions)
        step = next(k for k in (1, 2, 5, 10, 20, 25, 50, 100, 10**9) if -(-n // k) <= room)
        return self.positions[::step]


def time_axis(ax, exp: Experiment, partial: list[int] = ()) -> None:
    """Years labelled in their middle, ticks at year boundaries; '*' marks a partial year."""
    t = pd.DatetimeIndex(exp.times().values)
    first, last = t[0], t[-1] + pd.offsets.MonthBegin(1)
    years = list(range(first.year, t[-1].year + 1))
    ax.set_xlim(first, last)
    where = matplotlib.dates.date2num(year_x(exp, years).to_pydatetime())
    text = {round(float(x), 6): (f"{y}*" if y in partial else str(y)) for x, y in zip(where, years)}
    ax.xaxis.set_major_locator(_YearLabels(where))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _pos: text.get(round(float(x), 6), "")))
    ax.set_xticks([pd.Timestamp(year=y, month=1, day=1) for y in years[1:]], minor=True)
    for a in ax.get_shared_x_axes().get_siblings(ax):
        a.tick_params(axis="x", which="major", length=0, pad=3)
        a.tick_params(axis="x", which="minor", length=3)
        a.grid(axis="x", visible=False)


def partial_years(exp: Experiment) -> list[int]:
    mpy = M.months_per_year(exp.run(0))
    return [int(y) for y, n in zip(mpy["year"].values, mpy.values) if n < 12]


def partial_note(exp: Experiment, partial: list[int]) -> str | None:
    if not partial:
        return None
    mpy = M.months_per_year(exp.run(0))
    parts = ", ".join(f"{y}: {int(mpy.sel(year=y))} months" for y in partial)
    return f"* Partial year ({parts}): its total covers only the simulated months."


def tagged(da: xr.DataArray, value: str = "persons", **labels) -> pd.DataFrame:
    """table(da) with identifying columns (location=..., series=...) first."""
    df = table(da, value)
    for i, (k, v) in enumerate(labels.items()):
        df.insert(i, k, v)
    return df


def top(values: pd.Series, n: int) -> list:
    return list(values.sort_values(ascending=False).index[:n])


# --------------------------------------------------------------------------- 1. stock

def fig_stock_by_destination(exp: Experiment):
    stock = exp.measure(M.stock_by_location)  # (rep, time, location)
    t = pd.DatetimeIndex(stock["time"].values)
    nm = names(exp)
    lac = M.lac_locations(exp.run(0))
    locs = [str(x) for x in stock["location"].values]
    others = [x for x in locs if x not in lac]
    final = centre(stock.isel(time=-1)).to_series()

    rows = [tagged(stock.sel(location=loc, drop=True), location=loc, country=nm.get(loc, loc),
                   in_lac=loc in lac) for loc in locs]

    panels = (["lac", "rest"] if others else ["lac"]) if lac else ["all"]
    heights = {"lac": 2.3, "rest": 1.3, "all": 2.3}
    fig, axes = S.new_figure(0.85 + sum(heights[p] for p in panels), nrows=len(panels), sharex=True,
                             gridspec_kw={"height_ratios": [heights[p] for p in panels]})
    axes = np.atleast_1d(axes)
    band_note = " (band: 90% of runs)" if exp.n_runs > 1 else ""
    for ax, panel in zip(axes, panels):
        if panel == "lac":
            shown = top(final[lac], 6)
            rest = [x for x in lac if x not in shown]
            series = [(nm.get(x, x), stock.sel(location=x, drop=True)) for x in shown]
            if rest:
                other = stock.sel(location=rest).sum("location")
                series.append((f"Other LAC ({len(rest)} countries)", other))
                rows.append(tagged(other, location="LAC_other", country="Other LAC: " + " ".join(rest),
                                   in_lac=True))
            total = stock.sel(location=lac).sum("location")
            rows.append(tagged(total, location="LAC_total", country="Latin America and the Caribbean",
                               in_lac=True))
            colours = S.PALETTE[:len(shown)] + ([S.GREY] if rest else [])
            ax.stackplot(t, *[centre(s).values for _, s in series], colors=colours,
                         labels=[lab for lab, _ in series], alpha=0.9, lw=0)
            line_band(ax, t, total, "black", label="LAC total" + band_note, lw=1.0)
            tc = centre(total).values
            ax.annotate(S.fmt_persons(tc[0]), (t[0], tc[0]), xytext=(5, 3), textcoords="offset points",
                        fontsize=6.5, fontweight="bold")
            ax.annotate(S.fmt_persons(tc[-1]), (t[-1], tc[-1]), xytext=(-2, 3), textcoords="offset points",
                        ha="right", fontsize=6.5, fontweight="bold")
            ymax = vmax_of(total) * 1.12
            ax.set_ylim(0, ymax)
            S.persons_axis(ax, ymax, what="migrants")
            ax.set_title("Latin America and the Caribbean (stacked)")
            handles, labels = ax.get_legend_handles_labels()
            ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=6)
        else:
            pool = others if panel == "rest" else locs
            shown = top(final[pool], 6 if panel == "rest" else 7)
            rest = [x for x in pool if x not in shown]
            vmax = 1.0
            for i, loc in enumerate(shown):
                da = stock.sel(location=loc, drop=True)
                line_band(ax, t, da, S.PALETTE[i], label=nm.get(loc, loc))
                vmax = max(vmax, vmax_of(da))
            if rest:
                other = stock.sel(location=rest).sum("location")
                line_band(ax, t, other, S.GREY, label=f"Other ({len(rest)} countries)")
                vmax = max(vmax, vmax_of(other))
                rows.append(tagged(other, location="other", country="Other: " + " ".join(rest), in_lac=False))
            ax.set_ylim(0, vmax * 1.1)
            S.persons_axis(ax, vmax * 1.1, what="migrants")
            ax.set_title("Outside Latin America and the Caribbean" if panel == "rest" else "By destination")
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=6)
    time_axis(axes[-1], exp)
    S.title(fig, f"Migrants living in each destination country, {years_text(exp)}")
    S.footer(fig, footer_lines(exp, "Migrants: people living outside their country of origin, any status "
                                    "(end of month)."))
    return fig, pd.concat(rows, ignore_index=True)


# --------------------------------------------------------------------------- 2. corridors

def fig_corridors(exp: Experiment, n: int = 10):
    cs = exp.measure(M.corridor_stock)  # (rep, time, origin, location)
    start = cs.isel(time=0, drop=True).stack(corridor=("origin", "location"))
    end = cs.isel(time=-1, drop=True).stack(corridor=("origin", "location"))
    change = end - start
    key = np.maximum(centre(start).values, centre(end).values)
    order = np.argsort(-key, kind="stable")[:n]
    order = [i for i in order if key[i] > 0]
    nm = names(exp)
    first, last = period(exp)

    rows = []
    for rank, i in enumerate(order, 1):
        o, loc = start["corridor"].values[i]
        label = f"{nm.get(o, o)} → {nm.get(loc, loc)}"
        if len(label) > 26:  # long pairs take two lines, keeping the plot wide enough
            label = label.replace(" → ", " →\n")
        row = {"rank": rank, "origin": o, "location": loc, "label": label}
        for key, da in (("start", start), ("end", end), ("change", change)):
            row.update(cells(key, da.isel(corridor=i)))
        rows.append(row)
    df = pd.DataFrame(rows)
    df["n_runs"] = exp.n_runs
    s0, s1, dc = column(df, "start"), column(df, "end"), column(df, "change")

    fig, ax = S.new_figure(1.15 + 0.22 * len(df) + 0.07 * df["label"].str.contains("\n").sum())
    y = np.arange(len(df))[::-1]
    # Log axis: corridors span several orders of magnitude; each row's change is also written out.
    lo = float(np.nanmin(np.r_[s0[s0 > 0], s1[s1 > 0]])) / 1.6
    hi = float(max(s0.max(), s1.max())) * 1.6
    for yi, a, b in zip(y, s0, s1):
        if a > 0 and 0.87 < b / a < 1.15:
            continue  # too short to show an arrow; the dots overlap
        ax.annotate("", xy=(max(b, lo), yi), xytext=(max(a, lo), yi),
                    arrowprops=dict(arrowstyle="-|>", color="#7f7f7f", lw=0.8, shrinkA=2.5, shrinkB=2.5,
                                    mutation_scale=6))
    ax.scatter(np.maximum(s0, lo), y, s=16, facecolor="white", edgecolor=S.OKABE_ITO["orange"],
               linewidths=1.1, zorder=3, label=first)
    ax.scatter(np.maximum(s1, lo), y, s=16, color=S.OKABE_ITO["blue"], zorder=4, label=last)
    if exp.n_runs > 1:
        ax.errorbar(s1, y, xerr=[s1 - df["end_q05"], df["end_q95"] - s1], fmt="none",
                    ecolor=S.OKABE_ITO["blue"], elinewidth=0.7, capsize=1.5, zorder=3)
    for yi, a, d in zip(y, s0, dc):
        sign = "+" if d >= 0 else "\u2212"
        rel = ""
        if a > 0:
            r = (a + d) / a
            rel = f" ({(r - 1):+.0%})".replace("-", "\u2212") if 0.5 <= r <= 3 else f" (\u00d7{r:.3g})"
        ax.text(1.01, yi, f"{sign}{S.fmt_persons(abs(d))}{rel}", transform=ax.get_yaxis_transform(),
                va="center", fontsize=6, color="#333333")
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: S.fmt_tick(v)))
    ax.set_yticks(y)
    ax.set_yticklabels(df["label"], fontsize=6.2)
    ax._categorical = "y"
    ax.set_ylim(-0.6, len(df) - 0.4)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True, which="major")
    ax.set_xlabel("Migrants in the corridor (persons, log scale)")
    ax.text(1.01, len(df) - 0.3, "Change", transform=ax.get_yaxis_transform(), fontsize=6,
            fontweight="bold", va="bottom")
    ax.legend(loc="lower left", bbox_to_anchor=(-0.02, 1.0), ncols=2, title=None, handletextpad=0.1,
              columnspacing=0.8, borderaxespad=0.2)
    S.title(fig, f"Largest migration corridors, {first[:4]} and {last[:4]}")
    S.footer(fig, footer_lines(exp, "Migrants from the origin living in the destination at the end of "
                                    "the first and last month; change over the period at right.",
                               summary="dots and change: medians of runs; whiskers: 90% of runs"))
    return fig, df


# --------------------------------------------------------------------------- 3. arrivals

def fig_arrivals(exp: Experiment):
    ak = exp.measure(M.arrivals_by_kind)  # (rep, year, arrival_kind)
    years = [int(y) for y in ak["year"].values]
    partial = partial_years(exp)
    kinds = [str(k) for k in ak["arrival_kind"].values]
    pathway_kinds = [k for k in M.PATHWAY_KINDS if k in kinds]
    regular = ak.sel(arrival_kind=pathway_kinds).sum("arrival_kind")

    groups = [("regular_pathways", "Regular, through a pathway", regular, S.OKABE_ITO["blue"], "-"),
              (M.IRREGULAR, "Irregular", ak.sel(arrival_kind=M.IRREGULAR, drop=True),
               S.KIND_COLOURS[M.IRREGULAR], "-")]
    if M.OTHER in kinds:
        groups.append((M.OTHER, S.KIND_LABELS[M.OTHER], ak.sel(arrival_kind=M.OTHER, drop=True), S.GREY, "--"))
    used = [k for k in pathway_kinds if float(ak.sel(arrival_kind=k).max()) > 0]
    unused = [k for k in pathway_kinds if k not in used]

    x = year_x(exp, years)
    fig, (a1, a2) = S.new_figure(4.4, nrows=2, sharex=True)
    rows = []
    vmax = 1.0
    for key, label, da, colour, ls in groups:
        line_band(a1, x, da, colour, label=label, ls=ls, marker="o")
        vmax = max(vmax, vmax_of(da))
        rows.append(tagged(da, series=key))
    a1.set_ylim(0, vmax * 1.1)
    S.persons_axis(a1, vmax * 1.1, per="per year")
    a1.set_title("Regular and irregular arrivals")
    a1.legend(loc="upper left", bbox_to_anchor=(0, 0), ncols=2, fontsize=6)
    vmax = 1.0
    for k in used:
        da = ak.sel(arrival_kind=k, drop=True)
        line_band(a2, x, da, S.KIND_COLOURS[k], label=S.KIND_LABELS[k], marker="o")
        vmax = max(vmax, vmax_of(da))
    rows += [tagged(ak.sel(arrival_kind=k, drop=True), series=k) for k in pathway_kinds]
    a2.set_ylim(0, vmax * 1.1)
    S.persons_axis(a2, vmax * 1.1, per="per year")
    a2.set_title("Regular arrivals by pathway kind")
    a2.legend(loc="upper left", bbox_to_anchor=(0, -0.12), ncols=2, fontsize=6)
    time_axis(a2, exp, partial)
    notes = []
    if unused:
        notes.append("No arrivals through: " + ", ".join(S.KIND_LABELS[k].lower() for k in unused) + ".")
    pn = partial_note(exp, partial)
    if pn:
        notes.append(pn)
    S.title(fig, f"Arrivals by way of entry, {years_text(exp)}")
    S.footer(fig, footer_lines(exp, " ".join(notes) or None))
    df = pd.concat(rows, ignore_index=True)
    df["partial_year"] = df["year"].isin(partial)
    return fig, df


# --------------------------------------------------------------------------- 4. route edges

def highlight(edge: str) -> tuple[str, str] | None:
    """(label, colour) if the edge is one a brief always names, in either direction."""
    a, _, b = edge.partition("-")
    return HIGHLIGHT_EDGES.get(edge) or HIGHLIGHT_EDGES.get(f"{b}-{a}")


def edge_selection(edges: list[str], crossings_total: pd.Series, n: int = 5) -> list[str]:
    """Highlighted edges first, then the busiest others, n in all."""
    chosen = [e for e in edges if highlight(e)]
    chosen += [e for e in top(crossings_total, len(edges)) if e not in chosen][:max(0, n - len(chosen))]
    return chosen


def fig_edges(exp: Experiment):
    series = [("irregular_crossings", "Irregular crossings", M.crossings_by_edge),
              ("route_deaths", "Deaths on the route", M.deaths_by_edge),
              ("interceptions", "Interceptions", M.interceptions_by_edge)]
    data = {k: exp.measure(fn) for k, _, fn in series}
    edges = [str(e) for e in data["irregular_crossings"]["edge"].values]
    years = [int(y) for y in data["irregular_crossings"]["year"].values]
    partial = partial_years(exp)
    totals = centre(data["irregular_crossings"]).sum("year").to_series()
    chosen = edge_selection(edges, totals)
    rest = [e for e in edges if e not in chosen]
    others = iter(S.OKABE_ITO[c] for c in ("green", "orange", "purple", "sky", "black"))
    style = {e: highlight(e) or (e, next(others)) for e in chosen}  # edge -> (label, colour)

    x = year_x(exp, years)
    fig, axes = S.new_figure(4.9, nrows=3, sharex=True)
    rows = []
    for ax, (key, title, _) in zip(axes, series):
        da = data[key]
        vmax = 1.0
        for e in chosen:
            d = da.sel(edge=e, drop=True)
            strong = highlight(e) is not None
            line_band(ax, x, d, style[e][1], label=style[e][0], lw=1.8 if strong else 1.0, marker="o",
                      z=4 if strong else 2)
            vmax = max(vmax, vmax_of(d))
            rows.append(tagged(d, edge=e, variable=key))
        if rest:
            d = da.sel(edge=rest).sum("edge")
            line_band(ax, x, d, S.GREY, label=f"All other edges ({len(rest)})", ls="--", marker="o")
            vmax = max(vmax, vmax_of(d))
            rows.append(tagged(d, edge="other: " + " ".join(rest), variable=key))
        ax.set_ylim(0, vmax * 1.12)
        S.persons_axis(ax, vmax * 1.12, per="per year")
        ax.set_title(title)
    axes[0].legend(loc="lower left", bbox_to_anchor=(0, 1.12), ncols=2, fontsize=6)
    time_axis(axes[-1], exp, partial)
    S.title(fig, f"Irregular journeys by route edge, {years_text(exp)}")
    S.footer(fig, footer_lines(exp, partial_note(exp, partial)))
    df = pd.concat(rows, ignore_index=True)
    df["partial_year"] = df["year"].isin(partial)
    return fig, df


# --------------------------------------------------------------------------- 5. pathways

def fig_pathway_quota(exp: Experiment):
    pu = exp.measure(M.pathway_use)  # (rep, quantity, pathway)
    run0 = exp.run(0)
    kind = {str(p): str(k) for p, k in zip(run0["pathway"].values, run0["pathway_kind"].values)}
    country = {str(p): str(c) for p, c in zip(run0["pathway"].values, run0["pathway_country"].values)}
    pathways = [str(p) for p in pu["pathway"].values]
    q = {name: pu.sel(quantity=name, drop=True) for name in pu["quantity"].values}
    with np.errstate(divide="ignore", invalid="ignore"):
        use = 100 * q["admitted_capped"] / q["capacity"].where(q["capacity"] > 0)
        demand = 100 * q["applied_capped"] / q["capacity"].where(q["capacity"] > 0)

    rows = []
    for p in pathways:
        row = {"pathway": p, "country": country[p], "kind": kind[p]}
        for name in ("applications", "admissions", "capacity", "admitted_uncapped", "months_open",
                     "months_uncapped"):
            row.update(cells(name, q[name].sel(pathway=p)))
        row.update(cells("use_pct", use.sel(pathway=p)))
        row.update(cells("demand_pct", demand.sel(pathway=p)))
        rows.append(row)
    df = pd.DataFrame(rows)
    df["n_runs"] = exp.n_runs
    capacity = column(df, "capacity")
    capped = df[capacity > 0]
    uncapped = df[(capacity == 0) & (column(df, "months_uncapped") > 0)]
    closed = df[column(df, "months_open") == 0]

    n = len(capped)
    fig, ax = S.new_figure(1.25 + 0.3 * max(n, 1))
    y = np.arange(n)[::-1]
    top_x = float(np.nanmax([100.0, *column(capped, "use_pct"), *column(capped, "demand_pct")])) if n else 100.0
    xmax = float(np.ceil(min(top_x * 1.08, 200.0) / 25) * 25)
    use_v = column(capped, "use_pct").to_numpy()
    dem = column(capped, "demand_pct").to_numpy()
    ax.barh(y, np.minimum(use_v, xmax), height=0.55, color=S.OKABE_ITO["blue"], label="Admitted", zorder=2)
    if exp.n_runs > 1:
        ax.errorbar(np.minimum(use_v, xmax), y, xerr=[use_v - capped["use_pct_q05"], capped["use_pct_q95"] - use_v],
                    fmt="none", ecolor="black", elinewidth=0.6, capsize=1.5, zorder=3)
    inside = dem <= xmax
    ax.scatter(dem[inside], y[inside], marker="D", s=14, color=S.OKABE_ITO["vermillion"], zorder=4,
               label="Applied")
    ax.scatter(np.full((~inside).sum(), xmax), y[~inside], marker=">", s=22, color=S.OKABE_ITO["vermillion"],
               zorder=4, clip_on=False, label=None if inside.any() else "Applied")
    for yi, d, u in zip(y, dem, use_v):
        if u >= 0.12 * xmax:
            ax.text(min(u, xmax) - 0.01 * xmax, yi, f"{u:.0f}%", fontsize=5.8, va="center", ha="right",
                    color="white", fontweight="bold", zorder=5)
        else:  # a short bar: write the value after the bar and the applied marker
            right = max(u, d if d <= xmax else 0)
            ax.text(right + 0.03 * xmax, yi, f"{u:.0f}%", fontsize=5.8, va="center", ha="left",
                    color="#1a1a1a", zorder=5)
        if d > xmax:  # off the scale: the marker sits at the edge, its value beyond it
            ax.text(1.035, yi, f"{d:,.0f}%", transform=ax.get_yaxis_transform(), fontsize=5.5,
                    ha="left", va="center", color=S.OKABE_ITO["vermillion"])
    ax.axvline(100, color="black", lw=0.8, ls=":", zorder=1)
    ax._categorical = "y"
    ax.set_yticks(y)
    ax.set_yticklabels([f"{p}\n{c}, {S.KIND_LABELS.get(k, k).lower()}"
                        for p, c, k in zip(capped["pathway"], capped["country"], capped["kind"])],
                       fontsize=6)
    ax.set_xlim(0, xmax)
    ax.set_ylim(-0.6, n - 0.1)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", visible=True)
    ax.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(50 if xmax > 150 else 25))
    ax.set_xlabel("Percent of the quota (%)")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2, fontsize=6, borderaxespad=0.2)
    notes = ["Admitted and applied as a share of the quota, each summed over the months a cap was in force."]
    listed = 5  # longer lists would outgrow the footer: the CSV has every pathway
    if len(uncapped):
        largest = uncapped.assign(_a=column(uncapped, "admitted_uncapped")).sort_values("_a", ascending=False)
        text = "; ".join(f"{p} ({S.fmt_persons(a)} admitted, {S.fmt_persons(n_app)} applied)"
                         for p, a, n_app in zip(largest["pathway"][:listed], largest["_a"][:listed],
                                                column(largest, "applications")[:listed]))
        more = len(largest) - listed
        notes.append("No cap: " + text + (f"; and {more} more (see the CSV)." if more > 0 else "."))
    if len(closed):
        names_closed = list(closed["pathway"])
        notes.append("Closed throughout: " + ", ".join(names_closed[:listed]) +
                     (f" and {len(names_closed) - listed} more." if len(names_closed) > listed else "."))
    S.title(fig, f"Pathway use against quota, {years_text(exp)}")
    S.footer(fig, footer_lines(exp, " ".join(notes) or None,
                               summary="bars and markers: medians of runs; whiskers: 90% of runs"))
    return fig, df


# --------------------------------------------------------------------------- 6. shortages

def shortage_shares(exp: Experiment) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """Hires, vacancies and the percent filled per run, with 'all sectors'/'all countries' totals."""
    hires = exp.measure(M.hires_by_cell)  # (rep, location, sector)
    vac = exp.measure(M.vacancies_by_cell)
    h = xr.concat([hires, hires.sum("sector").expand_dims(sector=["all sectors"])], dim="sector")
    v = xr.concat([vac, vac.sum("sector").expand_dims(sector=["all sectors"])], dim="sector")
    h = xr.concat([h, h.sum("location").expand_dims(location=["all countries"])], dim="location")
    v = xr.concat([v, v.sum("location").expand_dims(location=["all countries"])], dim="location")
    return h, v, 100 * h / v.where(v > 0)


def fig_shortages(exp: Experiment):
    h, v, share = shortage_shares(exp)
    nm = names(exp)
    locs = [str(x) for x in exp.ds["location"].values]
    sectors = [str(s) for s in exp.ds["sector"].values]
    med = centre(share)
    b = band(share) if exp.n_runs > 1 else None

    cols = sectors + ["all sectors"]
    rows_l = locs + ["all countries"]
    mat = med.sel(location=rows_l, sector=cols).values

    fig, ax = S.new_figure(1.45 + 0.26 * len(rows_l) + (0.1 if b is not None else 0))
    cmap, norm = shortage_colours()
    masked = np.ma.masked_invalid(mat)
    ax.set_facecolor(S.LIGHT_GREY)
    im = ax.imshow(masked, cmap=cmap, norm=norm, aspect="auto")
    for i in range(len(rows_l)):
        for j in range(len(cols)):
            val = mat[i, j]
            if not np.isfinite(val):
                ax.text(j, i, "–", ha="center", va="center", fontsize=6, color="#555555")
                continue
            rgba = cmap(norm(val))
            dark = (0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2]) < 0.5
            txt = f"{val:.0f}%"
            if b is not None:
                txt += f"\n{float(b['q05'].sel(location=rows_l[i], sector=cols[j])):.0f}–" \
                       f"{float(b['q95'].sel(location=rows_l[i], sector=cols[j])):.0f}"
            ax.text(j, i, txt, ha="center", va="center", fontsize=5.6 if b is None else 4.8,
                    color="white" if dark else "black", linespacing=1.0)
    ax._categorical = "xy"
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels([c.replace("_", " ").replace("high skill", "high-skill").capitalize()
                        for c in cols], rotation=35, ha="right")
    ax.set_yticks(range(len(rows_l)))
    ax.set_yticklabels([nm.get(x, x) if x != "all countries" else "All countries" for x in rows_l])
    ax.axhline(len(locs) - 0.5, color="white", lw=2)
    ax.axvline(len(sectors) - 0.5, color="white", lw=2)
    ax.grid(False)
    for sp in ax.spines.values():
        sp.set_visible(False)
    ax.tick_params(length=0)
    cb = fig.colorbar(im, ax=ax, orientation="vertical", fraction=0.05, pad=0.02, aspect=25, extend="max",
                      ticks=[0, 25, 50, 75, 100, 125, 150])
    cb.set_label("Vacancies filled by migrants (%)")
    cb.outline.set_visible(False)

    rows = []
    for loc in rows_l:
        for sec in cols:
            row = {"location": loc, "country": nm.get(loc, loc) if loc != "all countries" else "All countries",
                   "sector": sec}
            for key, da in (("hires", h), ("vacancies", v), ("filled_pct", share)):
                row.update(cells(key, da.sel(location=loc, sector=sec)))
            rows.append(row)
    df = pd.DataFrame(rows)
    df["n_runs"] = exp.n_runs
    note = ("Hires by migrants over the period divided by the vacancies open to them; "
            "hires include labour-visa arrivals, so a share can pass 100%. – : no vacancies.")
    S.title(fig, f"Labour shortages filled by migrants, by country and sector, {years_text(exp)}")
    S.footer(fig, footer_lines(exp, note, summary="cells: median of runs, with the 90% band of runs below"))
    return fig, df


#: One fixed colour scale for every shortage figure, so two figures compare by eye: 0-150%,
#: darker = more of the vacancies filled; above 150% takes the darkest colour (the number says how much).
SHORTAGE_MAX = 150.0


def shortage_colours():
    import matplotlib
    import matplotlib.colors as mcolors
    cmap = matplotlib.colormaps["YlGnBu"].with_extremes(over="#081d58")  # ColorBrewer, colour-blind safe
    return cmap, mcolors.Normalize(0, SHORTAGE_MAX)


# --------------------------------------------------------------------------- 8. difference

#: The headline measures, shared with the brief: key, title, function, per-year flow or stock.
HEADLINES = [
    ("irregular_crossings", "Irregular crossings (all route edges)", M.crossings, "flow"),
    ("route_deaths", "Deaths on irregular routes", M.route_deaths, "flow"),
    ("regular_arrivals", "Regular arrivals through a pathway", M.regular_arrivals, "flow"),
    ("vacancies_filled", "Vacancies filled by migrants", M.hires, "flow"),
]


def stock_headline(exp: Experiment):
    """LAC stock if the file defines LAC, else the stock in all modelled countries."""
    if M.lac_locations(exp.run(0)):
        return ("migrant_stock_lac", "Migrants living in LAC (end of month)", M.stock_lac, "stock")
    return ("migrant_stock", "Migrants living in the modelled countries (end of month)", M.stock_total, "stock")


def headline_items(exp: Experiment):
    return HEADLINES + [stock_headline(exp)]


def experiment_line(role: str, exp: Experiment) -> str:
    what = exp.scenario if exp.label == exp.scenario else f"{exp.scenario}, {exp.label}"
    return f"{role}: {what} | {exp.describe_seeds()} | file {os.path.basename(exp.path)}"


def difference_how(base: Experiment, policy: Experiment) -> str:
    n = min(base.n_runs, policy.n_runs)
    if n > 1:
        return ("Runs paired by replicate number (common random numbers): line = median of the "
                f"{n} paired differences, band = their 5th-95th percentiles.")
    return "One run each: the difference of the two runs (no interval)."


def fig_difference(base: Experiment, policy: Experiment):
    items = headline_items(base)
    fig, axes = S.new_figure(1.15 + 0.95 * len(items), nrows=len(items), sharex=True)
    rows = []
    partial = partial_years(base)
    for ax, (key, title, fn, kind) in zip(axes, items):
        a, p = base.measure(fn), policy.measure(fn)
        if kind == "flow":
            a, p = M.annual(a), M.annual(p)
        d = paired_difference(a, p)
        x = year_x(base, d["year"].values) if kind == "flow" else pd.DatetimeIndex(d["time"].values)
        line_band(ax, x, d, S.OKABE_ITO["blue"], marker="o" if kind == "flow" else None)
        ax.axhline(0, color="black", lw=0.6)
        b = band(d)
        lo, hi = min(float(b["q05"].min()), 0.0), max(float(b["q95"].max()), 0.0)
        pad = 0.12 * (hi - lo) or 1.0
        ax.set_ylim(lo - pad, hi + pad)
        S.persons_axis(ax, max(abs(lo), abs(hi)), per="per year" if kind == "flow" else "")
        ax.set_title(title)
        rows.append(tagged(d, value="difference", measure=key))
    time_axis(axes[-1], base, partial)
    S.title(fig, f"Policy minus baseline: {policy.label} vs {base.label}")
    lines = [difference_how(base, policy), experiment_line("Baseline", base), experiment_line("Policy", policy),
             f"migsim {base.version}" + (f" (policy file: {policy.version})" if policy.version != base.version else "")]
    pn = partial_note(base, partial)
    if pn:
        lines.insert(0, pn)
    S.footer(fig, lines)
    df = pd.concat(rows, ignore_index=True)
    df["year"] = df["year"].astype("Int64")  # flows have a year, the stock a month (time)
    return fig, df[["measure", "year", "time"] + [c for c in df.columns if c not in ("measure", "year", "time")]]


# --------------------------------------------------------------------------- side by side

def harmonise(figs) -> None:
    """Give corresponding axes of figures of the same kind (one per scenario) the same limits.

    Lines and bars only: each pair of axes gets the union of their limits, and axes labelled by
    persons_axis are relabelled for the new range. (Shortage colours use one fixed scale anyway.)
    """
    plain = [[a for a in f.axes if a.get_label() != "<colorbar>"] for f in figs]
    if len({len(p) for p in plain}) != 1:
        return
    for axs in zip(*plain):
        for which in ("x", "y"):
            if any(which in getattr(a, "_categorical", "") for a in axs):
                continue  # rows of pathways, countries, corridors: each figure keeps its own
            lims = [getattr(a, f"get_{which}lim")() for a in axs]
            lo, hi = min(min(l) for l in lims), max(max(l) for l in lims)
            flipped = lims[0][0] > lims[0][1]
            for a in axs:
                getattr(a, f"set_{which}lim")((hi, lo) if flipped else (lo, hi))
                spec = getattr(a, "_persons_axis", None)
                if spec and spec["axis"] == which:
                    S.persons_axis(a, max(abs(lo), abs(hi)), **spec)


# --------------------------------------------------------------------------- driver

def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-").lower() or "scenario"


def figure_set():
    from .mapping import fig_map
    return [
        ("stock_by_destination", fig_stock_by_destination),
        ("corridors", fig_corridors),
        ("arrivals_by_kind", fig_arrivals),
        ("route_edges", fig_edges),
        ("pathway_quota", fig_pathway_quota),
        ("shortages_filled", fig_shortages),
        ("map_stock_change", fig_map),
    ]


def make_figures(source: Source, outdir: str, only: list[str] | None = None, formats=("png", "svg"),
                 log=print) -> list[str]:
    """All figures of a file. Several experiments: one folder each, plus differences vs the first."""
    written = []
    multi = len(source.experiments) > 1
    for exp in source.experiments:
        folder = os.path.join(outdir, slug(exp.label)) if multi else outdir
        for name, fn in figure_set():
            if only and name not in only:
                continue
            fig, df = fn(exp)
            written += S.save(fig, df, folder, name, formats)
            log(f"wrote {os.path.join(folder, name)}.{{{','.join(formats)},csv}}")
    if multi and (not only or "difference" in only):
        base = source.experiments[0]
        for policy in source.experiments[1:]:
            name = f"difference_{slug(policy.label)}_vs_{slug(base.label)}"
            fig, df = fig_difference(base, policy)
            written += S.save(fig, df, outdir, name, formats)
            log(f"wrote {os.path.join(outdir, name)}.{{{','.join(formats)},csv}}")
    return written
