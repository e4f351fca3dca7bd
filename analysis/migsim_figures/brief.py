"""A short PDF comparing two scenarios: headline numbers, key figures, differences as tables.

Every number comes from the two files (through the same measures as the figures); the
brief also writes them, unrounded, to a CSV beside the PDF (`<name>.csv`).
"""
from __future__ import annotations

import io
import os

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
import yaml
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.lines import Line2D

from . import measures as M
from . import style as S
from .figures import (difference_how, experiment_line, fig_arrivals, fig_difference, fig_edges,
                      fig_pathway_quota, fig_shortages, harmonise, period)
from .load import REP, Experiment, FileError, open_source
from .stats import band, centre, paired_difference

A4 = (8.27, 11.69)
MARGIN = 0.55  # inches
INK = "#1a1a1a"
MUTED = "#595959"


# --------------------------------------------------------------------------- choosing the two

def pick(base_path: str, policy_path: str | None, base_label=None, policy_label=None):
    """The baseline and policy experiments from two files, or from one file holding both."""
    src = open_source(base_path)
    base = src.experiment(base_label)
    if policy_path:
        policy = open_source(policy_path).experiment(policy_label)
    elif policy_label:
        policy = src.experiment(policy_label)
    elif len(src.experiments) > 1:
        policy = next(e for e in src.experiments if e is not base)
    else:
        raise FileError(f"{base_path} holds one scenario: give a POLICY file too")
    if not np.array_equal(base.times().values, policy.times().values):
        raise FileError(f"{base.path} and {policy.path} cover different months: the brief compares like with like")
    return base, policy


# --------------------------------------------------------------------------- the numbers

def _total(fn):
    def total(ds: xr.Dataset) -> xr.DataArray:
        return fn(ds).sum("time")
    total.__qualname__ = f"total_{fn.__qualname__}"
    return total


# Cached per function object, so define the totals once.
TOTALS = {
    "irregular_crossings": _total(M.crossings),
    "route_deaths": _total(M.route_deaths),
    "irregular_arrivals": _total(M.irregular_arrivals),
    "regular_arrivals": _total(M.regular_arrivals),
    "vacancies_filled": _total(M.hires),
    "vacancies": _total(M.vacancies),
}


def _end(fn):
    def end(ds: xr.Dataset) -> xr.DataArray:
        return fn(ds).isel(time=-1, drop=True)
    end.__qualname__ = f"end_{fn.__qualname__}"
    return end


END_STOCK = {"migrant_stock_lac": _end(M.stock_lac), "migrant_stock": _end(M.stock_total)}


_COUNTRY_TOTALS: dict[str, dict] = {}


def country_totals(code: str) -> dict:
    """The headline totals of one country (`make brief COUNTRY=USA`): the region's measures
    on its slice of the file (arrivals in it, its vacancies and hires; crossings of and deaths
    on the route edges with it at one end), and the migrants living there at the end. Made
    once per country, as measures are cached by function."""
    if code in _COUNTRY_TOTALS:
        return _COUNTRY_TOTALS[code]

    def here(ds):
        return ds.sel(location=[code])

    def border(ds):
        return ds.sel(edge=[e for e in ds["edge"].values if code in str(e).split("-")])

    def total(fn, part):
        def at(ds: xr.Dataset) -> xr.DataArray:
            return fn(part(ds)).sum("time")
        at.__qualname__ = f"total_{fn.__qualname__}_{code}"
        return at

    def stock(ds: xr.Dataset) -> xr.DataArray:
        return M.stock_by_location(ds).sel(location=code).isel(time=-1, drop=True)
    stock.__qualname__ = f"end_stock_{code}"

    t = {
        "irregular_arrivals": total(M.irregular_arrivals, here),
        "regular_arrivals": total(M.regular_arrivals, here),
        "irregular_crossings": total(M.crossings, border),
        "route_deaths": total(M.route_deaths, border),
        "vacancies_filled": total(M.hires, here),
        "vacancies": total(M.vacancies, here),
        "migrant_stock": stock,
    }
    _COUNTRY_TOTALS[code] = t
    return t


def check_country(exp: Experiment, code: str) -> str:
    """The country's name, or a FileError naming the codes the file has."""
    codes = [str(c) for c in exp.run(0)["location"].values]
    if code not in codes:
        raise FileError(f"{exp.path} has no country {code!r}; its countries: {' '.join(codes)}")
    return country_names(exp).get(code, code)


def headline_measures(exp: Experiment, country: str | None = None) -> list[tuple[str, str, str, xr.DataArray]]:
    """(key, label, unit, per-run values) of the brief's headline numbers for one experiment;
    with `country`, that country's numbers after the whole region's."""
    t = {k: exp.measure(fn) for k, fn in TOTALS.items()}
    share = 100 * t["vacancies_filled"] / t["vacancies"].where(t["vacancies"] > 0)
    first, last = period(exp)
    out = [
        ("irregular_crossings", "Irregular crossings (all route edges)", "persons", t["irregular_crossings"]),
        ("route_deaths", "Deaths on irregular routes", "persons", t["route_deaths"]),
        ("irregular_arrivals", "Irregular arrivals", "persons", t["irregular_arrivals"]),
        ("regular_arrivals", "Regular arrivals through a pathway", "persons", t["regular_arrivals"]),
        ("vacancies_filled", "Vacancies filled by migrants", "persons", t["vacancies_filled"]),
        ("vacancies_filled_pct", "Share of vacancies filled by migrants", "%", share),
    ]
    if M.lac_locations(exp.run(0)):
        out.append(("migrant_stock_lac", f"Migrants living in LAC, {last}", "persons",
                    exp.measure(END_STOCK["migrant_stock_lac"])))
    out.append(("migrant_stock", f"Migrants living in the modelled countries, {last}", "persons",
                exp.measure(END_STOCK["migrant_stock"])))
    if country:
        name = check_country(exp, country)
        c = {k: exp.measure(f) for k, f in country_totals(country).items()}
        out += [
            (f"{country}_irregular_crossings", f"{name}: irregular crossings of its borders", "persons",
             c["irregular_crossings"]),
            (f"{country}_route_deaths", f"{name}: deaths on routes at its borders", "persons", c["route_deaths"]),
            (f"{country}_irregular_arrivals", f"{name}: irregular arrivals", "persons", c["irregular_arrivals"]),
            (f"{country}_regular_arrivals", f"{name}: regular arrivals through a pathway", "persons",
             c["regular_arrivals"]),
            (f"{country}_vacancies_filled_pct", f"{name}: share of vacancies filled by migrants", "%",
             100 * c["vacancies_filled"] / c["vacancies"].where(c["vacancies"] > 0)),
            (f"{country}_migrant_stock", f"{name}: migrants living there, {last}", "persons", c["migrant_stock"]),
        ]
    return out


def headline_table(base: Experiment, policy: Experiment, country: str | None = None) -> pd.DataFrame:
    """One row per headline number: each scenario's median and band, and the paired difference."""
    rows = []
    for (key, label, unit, a), (_, _, _, p) in zip(headline_measures(base, country),
                                                   headline_measures(policy, country)):
        d = paired_difference(a, p)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = 100 * d / a.sel({REP: d[REP].values}).where(a.sel({REP: d[REP].values}) != 0) \
                if unit != "%" else xr.full_like(d, np.nan, dtype=float)
        row = {"measure": key, "label": label, "unit": unit}
        for name, da in (("base", a), ("policy", p), ("difference", d), ("relative_pct", rel)):
            b = band(da)
            row[f"{name}_median"] = float(b["median"])
            row[f"{name}_q05"] = float(b["q05"])
            row[f"{name}_q95"] = float(b["q95"])
        row["n_pairs"] = int(d.sizes[REP])
        rows.append(row)
    return pd.DataFrame(rows)


def by_destination(base: Experiment, policy: Experiment) -> pd.DataFrame:
    a = base.measure(M.stock_by_location).isel(time=-1, drop=True)
    p = policy.measure(M.stock_by_location).isel(time=-1, drop=True)
    return _diff_rows(a, p, "location", "migrants_end")


def by_edge(base: Experiment, policy: Experiment) -> pd.DataFrame:
    parts = []
    for var in ("irregular_crossings", "route_deaths"):
        fn = EDGE_TOTALS[var]
        parts.append(_diff_rows(base.measure(fn), policy.measure(fn), "edge", var, absent_is_zero=True))
    return pd.concat(parts, ignore_index=True)


def by_pathway(base: Experiment, policy: Experiment) -> pd.DataFrame:
    a = base.measure(M.pathway_use).sel(quantity="admissions", drop=True)
    p = policy.measure(M.pathway_use).sel(quantity="admissions", drop=True)
    return _diff_rows(a, p, "pathway", "admissions", absent_is_zero=True)


def _edge_total(var):
    def total(ds: xr.Dataset) -> xr.DataArray:
        return ds[var].sum("time")
    total.__qualname__ = f"edge_total_{var}"
    return total


EDGE_TOTALS = {v: _edge_total(v) for v in ("irregular_crossings", "route_deaths")}


def _diff_rows(a: xr.DataArray, p: xr.DataArray, dim: str, measure: str,
               absent_is_zero: bool = False) -> pd.DataFrame:
    """Per-key medians and paired difference. With `absent_is_zero`, a key only one scenario
    has (a pathway or route the policy adds) counts 0 in the other; otherwise it is left out."""
    only = {"base": [k for k in a[dim].values if k not in set(p[dim].values)],
            "policy": [k for k in p[dim].values if k not in set(a[dim].values)]}
    if absent_is_zero:
        a, p = xr.align(a, p, join="outer", fill_value=0)
    else:
        a, p = xr.align(a, p, join="inner")
    keys = list(a[dim].values)
    d = paired_difference(a, p)
    df = pd.DataFrame({dim: [str(k) + (" (baseline only)" if k in only["base"] else " (policy only)"
                                       if k in only["policy"] else "") for k in keys],
                       "measure": measure, "base_median": centre(a).values, "policy_median": centre(p).values})
    b = band(d)
    df["difference_median"] = b["median"].values
    df["difference_q05"] = b["q05"].values
    df["difference_q95"] = b["q95"].values
    df = df.rename(columns={dim: "key"})
    df.insert(0, "table", dim)
    return df


# --------------------------------------------------------------------------- scenario inputs

_LIST_KEYS = ("name", "code", "edge")


def _item_key(items: list[dict]) -> str | None:
    """The field that names every item of a list uniquely (pathways by name, ...), if any."""
    for k in _LIST_KEYS:
        values = [str(x.get(k)) for x in items]
        if all(k in x for x in items) and len(set(values)) == len(values):
            return k
    return None


def flatten(node, prefix: str = "", items: dict | None = None) -> dict[str, object]:
    """A scenario's YAML as {key path: value}. A list of named items (pathways, countries,
    routes) is keyed by name, `pathways[usa-family].quota`; other lists (events) by position.
    `items`, if given, collects every list item by its path."""
    out: dict[str, object] = {}
    if isinstance(node, dict):
        for k, v in node.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k), items))
    elif isinstance(node, list) and node and all(isinstance(x, dict) for x in node):
        key = _item_key(node)
        for i, item in enumerate(node):
            path = f"{prefix}[{item[key] if key else i}]"
            if items is not None:
                items[path] = item
            out.update(flatten(item, path, items))
    else:
        out[prefix] = node
    return out


def scenario_text(exp: Experiment) -> str | None:
    """The scenario YAML recorded for this experiment, if the file keeps one per experiment."""
    for name in ("scenario_text", "scenario_yaml"):
        if exp.has(name) and exp.ds[name].dims:
            return str(exp.run(0)[name].values)
    if exp.kind == "run" or (exp.kind == "ensemble" and "scenario" in exp.ds.attrs):
        text = exp.ds.attrs.get("scenario")
        return str(text) if text is not None else None
    return None


def input_differences(base: Experiment, policy: Experiment) -> pd.DataFrame | None:
    """Scenario settings that differ (None when the files do not record both scenarios' text)."""
    tb, tp = scenario_text(base), scenario_text(policy)
    if tb is None or tp is None or (base.path == policy.path and tb == tp and base.label != policy.label):
        return None
    ib, ip = {}, {}
    fb, fp = flatten(yaml.safe_load(tb), items=ib), flatten(yaml.safe_load(tp), items=ip)
    # An item only one scenario has (a new pathway, an added event) is one row, not one per field.
    whole = {k: (ib.get(k, "(not set)"), ip.get(k, "(not set)")) for k in list(ib) + list(ip)
             if (k in ib) != (k in ip)}
    rows, done = [], set()
    for key in list(fb) + [k for k in fp if k not in fb]:
        item = next((w for w in whole if key.startswith(w + ".") or key.startswith(w + "[")), None)
        if item is not None:
            if item not in done:
                done.add(item)
                rows.append({"setting": item, "baseline": _text(whole[item][0]), "policy": _text(whole[item][1])})
            continue
        vb, vp = fb.get(key, "(not set)"), fp.get(key, "(not set)")
        if vb != vp:
            rows.append({"setting": key, "baseline": _text(vb), "policy": _text(vp)})
    return pd.DataFrame(rows, columns=["setting", "baseline", "policy"])


def _text(v) -> str:
    """A setting's value as one line of YAML, in full (the inputs CSV holds these)."""
    text = v if isinstance(v, str) else yaml.safe_dump(v, default_flow_style=True, sort_keys=False,
                                                       width=10**6).strip()
    return text.removesuffix("\n...").strip()


def _short(setting: str, text: str, limit: int = 40) -> str:
    """A value as the PDF's table shows it: a whole item (a new pathway, say) without the name
    its setting already gives, then cut to `limit` characters."""
    if setting.endswith("]") and text.startswith("{name: "):
        name = setting[setting.rindex("[") + 1:-1]
        if text.startswith("{name: " + name + ", "):
            text = "{" + text.removeprefix("{name: " + name + ", ")
    return text if len(text) <= limit else text[:limit - 3] + "..."


# --------------------------------------------------------------------------- drawing

def fmt_value(v: float, unit: str) -> str:
    if not np.isfinite(v):
        return "–"
    if unit == "%":
        return f"{v:.1f}%"
    return S.fmt_persons(v)


def fmt_diff(v: float, unit: str) -> str:
    if not np.isfinite(v):
        return "–"
    if v == 0:
        return "0"
    if unit == "%":
        return f"{v:+.1f} pts".replace("-", "\u2212")
    return ("+" if v > 0 else "\u2212" if v < 0 else "±") + S.fmt_persons(abs(v))


def fmt_band(lo: float, hi: float, unit: str, diff: bool = False) -> str:
    f = fmt_diff if diff else fmt_value
    return f"{f(lo, unit)} to {f(hi, unit)}"


def draw_table(fig, top_in: float, columns: list[tuple[str, float, str]], rows: list[list[str]],
               fontsize: float = 7.5, row_in: float = 0.2, bold_first: bool = False) -> float:
    """A booktabs-style table at `top_in` inches from the top; returns its bottom (inches from top).

    columns: (header, width in inches, alignment 'left'/'right').
    """
    W, H = fig.get_size_inches()
    y = top_in

    def line(at, lw):
        fig.add_artist(Line2D([MARGIN / W, (W - MARGIN) / W], [1 - at / H] * 2, lw=lw, color=INK))

    def put(at, cells, weight="normal", color=INK):
        x = MARGIN
        for (head, width, align), text in zip(columns, cells):
            tx = x if align == "left" else x + width - 0.05
            fig.text(tx / W, 1 - at / H, text, ha=align, va="center", fontsize=fontsize, fontweight=weight,
                     color=color)
            x += width

    line(y, 0.9)
    y += row_in * 0.75
    put(y, [c[0] for c in columns], weight="bold")
    y += row_in * 0.6
    line(y, 0.5)
    for r in rows:
        y += row_in
        put(y, r)
    y += row_in * 0.6
    line(y, 0.9)
    return y


def figure_png(fig) -> np.ndarray:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=S.DPI)
    plt.close(fig)
    buf.seek(0)
    return mpimg.imread(buf)


def place(page, img: np.ndarray, left_in: float, top_in: float, width_in: float) -> float:
    """Put a rendered figure on the page; returns its bottom (inches from top)."""
    W, H = page.get_size_inches()
    h_in = width_in * img.shape[0] / img.shape[1]
    ax = page.add_axes([left_in / W, 1 - (top_in + h_in) / H, width_in / W, h_in / H])
    ax.imshow(img, interpolation="none")  # embeds the 300 dpi pixels as they are
    ax.set_axis_off()
    return top_in + h_in


def new_page(number: int, base: Experiment, policy: Experiment):
    S.apply()
    page = plt.figure(figsize=A4)
    W, H = A4
    page.text(MARGIN / W, 0.3 / H, f"migsim brief: {policy.label} vs {base.label}", fontsize=6.5, color=MUTED)
    page.text((W - MARGIN) / W, 0.3 / H, f"page {number}", ha="right", fontsize=6.5, color=MUTED)
    return page


def heading(page, top_in: float, text: str, size: float = 11) -> float:
    W, H = page.get_size_inches()
    page.text(MARGIN / W, 1 - top_in / H, text, fontsize=size, fontweight="bold", va="top", color=INK)
    return top_in + size / 72 * 1.6


def paragraph(page, top_in: float, text: str, size: float = 7.5, color=INK) -> float:
    W, H = page.get_size_inches()
    lines = S._wrap(text, size, W - 2 * MARGIN)
    page.text(MARGIN / W, 1 - top_in / H, "\n".join(lines), fontsize=size, va="top", color=color,
              linespacing=1.35)
    return top_in + len(lines) * size * 1.35 / 72 + 0.05


def side_by_side(page, top_in: float, base: Experiment, policy: Experiment, makers,
                 bottom_in: float | None = None) -> float:
    """Each maker's figure for the baseline (left) and the policy (right), on matched scales,
    shrunk together if needed so that all of them fit above `bottom_in`."""
    W, H = page.get_size_inches()
    bottom_in = H - 0.7 if bottom_in is None else bottom_in
    gap, col_w = 0.2, (W - 2 * MARGIN - 0.2) / 2
    for i, (role, exp) in enumerate((("Baseline", base), ("Policy", policy))):
        page.text((MARGIN + i * (col_w + gap)) / W, 1 - (top_in + 0.05) / H, f"{role}: {exp.label}",
                  fontsize=8, fontweight="bold", color=S.OKABE_ITO["blue"], va="top")
    rows = []
    for make in makers:
        figs = [make(e) for e in (base, policy)]
        harmonise(figs)
        rows.append([figure_png(f) for f in figs])
    heights = [max(col_w * img.shape[0] / img.shape[1] for img in pair) for pair in rows]
    y = top_in + 0.25
    room = bottom_in - y - 0.12 * len(rows)
    scale = min(1.0, room / sum(heights))
    width = col_w * scale
    for pair, h in zip(rows, heights):
        for i, img in enumerate(pair):
            place(page, img, MARGIN + i * (col_w + gap) + (col_w - width) / 2, y, width)
        y += h * scale + 0.12
    return y


def rows_that_fit(top_in: float, bottom_in: float, tables: int, row_in: float, cap: int = 12) -> int:
    """How many rows each of `tables` tables may have to fit between two heights."""
    overhead = 0.2 + 0.12 + 2.0 * row_in  # heading, gap, header and rules
    return int(max(3, min(cap, (bottom_in - top_in - tables * overhead) / (tables * row_in))))


# --------------------------------------------------------------------------- the brief

#: The headline numbers the issue asks a brief to lead with, in order.
BULLETS = ["irregular_crossings", "route_deaths", "regular_arrivals", "vacancies_filled", "migrant_stock_lac"]
#: With a focus country, its numbers follow (keys prefixed by its code).
COUNTRY_BULLETS = ["irregular_crossings", "route_deaths", "irregular_arrivals", "vacancies_filled_pct"]


def sentence(row: pd.Series) -> str:
    """One plain finding per headline number, all read from the table."""
    unit = row["unit"]
    d = row["difference_median"]
    if not np.isfinite(d):
        return ""
    if d == 0 and row["difference_q05"] == 0 and row["difference_q95"] == 0:
        return f"{row['label']}: no difference."
    direction = "higher" if d > 0 else "lower"
    if unit == "%":
        amount = f"{abs(d):.1f} percentage points"
    else:
        amount = S.fmt_persons(abs(d))
        if np.isfinite(row["relative_pct_median"]):
            amount += f" ({abs(row['relative_pct_median']):.1f}%)"
    band = fmt_band(row["difference_q05"], row["difference_q95"], unit, diff=True)
    runs = f"{int(row['n_pairs'])} paired runs"
    if row["n_pairs"] > 1 and row["difference_q05"] <= 0 <= row["difference_q95"]:
        # The interval holds zero (a run with no difference, or runs that disagree on the
        # direction): no direction is claimed.
        median = f"median {amount} {direction} under the policy" if d != 0 else "median 0"
        return f"{row['label']}: no clear difference ({median}; 90% interval {band}, {runs})."
    text = f"{row['label']}: {amount} {direction} under the policy"
    if row["n_pairs"] > 1:
        text += f" (90% interval {band}, {runs})"
    return text + "."


def page_tables(p, base: Experiment, policy: Experiment, inputs, dest, edges, paths, n: int, last: str,
                inputs_csv_name: str = "the inputs CSV"):
    W, H = p.get_size_inches()
    bottom = H - 0.75
    y = heading(p, 0.55, "What differs between the scenarios", 11)
    y = heading(p, y + 0.05, "Inputs", 8.5)
    if inputs is None:
        y = paragraph(p, y, "The file does not record each scenario's text, so their inputs cannot be "
                            "compared here.", 7, MUTED)
    elif inputs.empty:
        y = paragraph(p, y, "The two scenarios' recorded texts have the same settings.", 7, MUTED)
    else:
        shown = inputs.head(10)
        icols = [("Setting", 3.1, "left"), ("Baseline", 2.05, "left"), ("Policy", 2.02, "left")]
        cells = [[k, _short(k, b), _short(k, v)] for k, b, v in shown.values.tolist()]
        y = draw_table(p, y, icols, cells, fontsize=6.5, row_in=0.16)
        cut = any(a != b for row, full in zip(cells, shown.values.tolist()) for a, b in zip(row, full))
        more = f"... and {len(inputs) - len(shown)} more settings; " if len(inputs) > len(shown) else ""
        if more or cut:
            y = paragraph(p, y + 0.05, (more or "") + f"every setting in full in {inputs_csv_name}.", 7, MUTED)
    tables = [
        (f"Migrants living in each country, {last}", dest, country_names(base)),
        ("Irregular crossings by route edge, whole period", edges[edges["measure"] == "irregular_crossings"], {}),
        ("Deaths by route edge, whole period", edges[edges["measure"] == "route_deaths"], {}),
        ("Admissions by pathway, whole period", paths, {}),
    ]
    y = heading(p, y + 0.15, "Outcomes", 8.5)
    keep = rows_that_fit(y, bottom, len(tables), 0.17)
    y = paragraph(p, y, f"Largest differences first (at most {keep} rows each); every row is in the CSV beside "
                        "this PDF. Baseline and policy: medians across runs; difference: median of paired "
                        "differences" + (" with its 90% interval." if n > 1 else "."), 7, MUTED)
    dcols = [("", 2.6, "left"), ("Baseline", 1.0, "right"), ("Policy", 1.0, "right"),
             ("Difference", 1.0, "right"), ("90% interval" if n > 1 else "", 1.57, "right")]
    for title, table, label in tables:
        t = table[(table["base_median"] != 0) | (table["policy_median"] != 0)]  # drop all-zero rows
        t = t.reindex(t["difference_median"].abs().sort_values(ascending=False).index).head(keep)
        y = heading(p, y + 0.1, title, 8)
        rows = [[label.get(r.key, r.key), fmt_value(r.base_median, "persons"),
                 fmt_value(r.policy_median, "persons"), fmt_diff(r.difference_median, "persons"),
                 fmt_band(r.difference_q05, r.difference_q95, "persons", diff=True) if n > 1 else ""]
                for r in t.itertuples()]
        y = draw_table(p, y, dcols, rows, fontsize=7, row_in=0.17)
    return p


def country_names(exp: Experiment) -> dict[str, str]:
    if not exp.has("country_name"):
        return {}
    cn = exp.static("country_name")
    return {str(k): str(v) for k, v in zip(cn["location"].values, cn.values)}


def make_brief(base_path: str, policy_path: str | None, out: str, base_label=None, policy_label=None,
               png_dir: str | None = None, country: str | None = None) -> int:
    """Write the brief PDF (and its numbers as CSV); returns the number of pages. `country`
    (a location code) adds that country's headline numbers and sentences."""
    base, policy = pick(base_path, policy_path, base_label, policy_label)
    first, last = period(base)
    head = headline_table(base, policy, country)
    inputs = input_differences(base, policy)
    dest, edges, paths = by_destination(base, policy), by_edge(base, policy), by_pathway(base, policy)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    numbers = pd.concat([head.assign(table="headline").rename(columns={"measure": "key"}), dest, edges, paths],
                        ignore_index=True)
    numbers.to_csv(os.path.splitext(out)[0] + ".csv", index=False, float_format="%.10g")
    inputs_csv = os.path.splitext(out)[0] + "_inputs.csv"
    if inputs is not None:
        inputs.to_csv(inputs_csv, index=False)
    elif os.path.exists(inputs_csv):
        os.remove(inputs_csv)  # an earlier brief's, which would no longer match this PDF

    pages = []
    W, H = A4
    # Page 1: what is compared, headline numbers, the difference over time.
    p = new_page(1, base, policy)
    y = heading(p, 0.55, f"{policy.label} compared with {base.label}", 14)
    y = paragraph(p, y, f"Simulated {first} to {last} with migsim {base.version}. "
                        f"{experiment_line('Baseline', base)}. {experiment_line('Policy', policy)}. "
                        f"{difference_how(base, policy)}", 7, MUTED)
    y = heading(p, y + 0.1, "Headline numbers, whole period", 10)
    n = int(head["n_pairs"].iloc[0])
    cols = [("", 2.75, "left"), ("Baseline", 0.9, "right"), ("Policy", 0.9, "right"),
            ("Difference", 0.95, "right"), ("90% interval" if n > 1 else "", 1.67, "right")]
    rows = []
    for r in head.itertuples():
        rows.append([r.label, fmt_value(r.base_median, r.unit), fmt_value(r.policy_median, r.unit),
                     fmt_diff(r.difference_median, r.unit),
                     fmt_band(r.difference_q05, r.difference_q95, r.unit, diff=True) if n > 1 else ""])
    y = draw_table(p, y + 0.05, cols, rows)
    note = ("Totals over the period; stocks at the end of the last month. "
            + ("Baseline and policy columns: medians across runs. " if n > 1 else "")
            + "Crossings count each route edge crossed; regular arrivals exclude 'other' arrivals "
              "(not through a modelled pathway); vacancies filled include labour-visa arrivals.")
    y = paragraph(p, y + 0.08, note, 6.5, MUTED)
    y = heading(p, y + 0.1, "In brief", 10)
    bullets = BULLETS + ([f"{country}_{k}" for k in COUNTRY_BULLETS] if country else [])
    for key in bullets:
        rows_k = head[head["measure"] == key]
        text = sentence(rows_k.iloc[0]) if len(rows_k) else ""
        if text:
            y = paragraph(p, y, "\u2022 " + text, 7.5)
    diff_img = figure_png(fig_difference(base, policy)[0])
    avail = H - 0.6 - (y + 0.15)
    width = min(W - 2 * MARGIN, avail * diff_img.shape[1] / diff_img.shape[0])
    place(p, diff_img, (W - width) / 2, y + 0.15, width)
    pages.append(p)

    # Page 2: arrivals and irregular journeys, side by side on the same scales.
    p = new_page(2, base, policy)
    y = heading(p, 0.55, "Arrivals and irregular journeys: baseline and policy on the same scales", 11)
    y = side_by_side(p, y, base, policy, [lambda e: fig_arrivals(e)[0], lambda e: fig_edges(e)[0]])
    pages.append(p)

    # Page 3: pathways and shortages side by side.
    p = new_page(3, base, policy)
    y = heading(p, 0.55, "Pathways and labour shortages: baseline and policy", 11)
    side_by_side(p, y, base, policy, [lambda e: fig_pathway_quota(e)[0], lambda e: fig_shortages(e)[0]])
    pages.append(p)

    # Page 4: how the inputs differ, and the outcomes' differences as tables.
    pages.append(page_tables(new_page(4, base, policy), base, policy, inputs, dest, edges, paths, n, last,
                             os.path.basename(inputs_csv)))
    with PdfPages(out, metadata={"Creator": "migsim_figures", "Title":
                                 f"{policy.label} compared with {base.label}", "CreationDate": None}) as pdf:
        for i, page in enumerate(pages, 1):
            pdf.savefig(page)
            if png_dir:
                os.makedirs(png_dir, exist_ok=True)
                page.savefig(os.path.join(png_dir, f"page{i}.png"), dpi=110)
            plt.close(page)
    return len(pages)
