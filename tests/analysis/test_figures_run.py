"""Every figure of a single run: files, axes and series, and CSVs that match the file's numbers."""
from __future__ import annotations

import os
import struct

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import reference as R
from conftest import ROOT
from migsim_figures import figures as F
from migsim_figures import measures as M
from migsim_figures.load import open_source
from migsim_figures.mapping import fig_map

NAMES = ["stock_by_destination", "corridors", "arrivals_by_kind", "route_edges", "pathway_quota",
         "shortages_filled", "map_stock_change"]


@pytest.fixture(scope="module")
def exp(examples):
    return open_source(examples["run"]).experiments[0]


def csv(run_figures, name):
    return pd.read_csv(os.path.join(run_figures, f"{name}.csv"))


def texts(fig) -> str:
    """All figure-level text (title, footer) with wrapped lines joined again."""
    parts = [t.get_text() for t in fig.texts] + ([fig._suptitle.get_text()] if fig._suptitle else [])
    return " ".join(parts).replace("\n", " ")


def png_size_and_dpi(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    i = data.find(b"pHYs")
    ppm = struct.unpack(">I", data[i + 4:i + 8])[0] if i > 0 else 0
    return width, height, round(ppm * 0.0254)


# --------------------------------------------------------------------------- files and style

@pytest.mark.parametrize("name", NAMES)
def test_each_figure_has_png_300dpi_svg_and_csv(run_figures, name):
    png = os.path.join(run_figures, f"{name}.png")
    width, height, dpi = png_size_and_dpi(png)
    assert dpi == 300
    assert width == round(3.5 * 300), "figures are drawn at a column's width (3.5 in)"
    with open(os.path.join(run_figures, f"{name}.svg")) as f:
        svg = f.read()
    assert "<svg" in svg
    assert len(csv(run_figures, name)) > 0


@pytest.mark.parametrize("fn", [F.fig_stock_by_destination, F.fig_corridors, F.fig_arrivals, F.fig_edges,
                                F.fig_pathway_quota, F.fig_shortages, fig_map])
def test_footer_names_scenario_seed_and_version_from_the_file(examples, exp, fn):
    fig, _ = fn(exp)
    text = texts(fig)
    plt.close(fig)
    path = examples["run"]
    assert f"Scenario: {R.attr(path, 'scenario_name')}" in text
    assert f"seed {R.attr(path, 'seed')}" in text
    assert f"migsim {R.attr(path, 'migsim_version')}" in text
    assert fig._suptitle is not None and len(fig._suptitle.get_text()) > 10


# --------------------------------------------------------------------------- 1. stock by destination

def test_stock_figure_axes_and_series(exp):
    fig, _ = F.fig_stock_by_destination(exp)
    lac_ax, rest_ax = fig.axes[:2]
    names = dict(zip(exp.ds["location"].values, exp.ds["country_name"].values))
    legend = [t.get_text() for t in lac_ax.get_legend().get_texts()]
    assert set(legend) == {names[c] for c in ("VEN", "COL", "PAN", "MEX")} | {"LAC total"}
    assert [line.get_label() for line in rest_ax.get_lines()] == ["United States"]
    assert lac_ax.get_title(loc="left") == "Latin America and the Caribbean (stacked)"
    assert "migrants" in lac_ax.get_ylabel()
    assert lac_ax.get_ylabel().startswith(("Millions", "Thousands"))
    plt.close(fig)


def test_stock_csv_matches_file(examples, run_figures):
    path = examples["run"]
    df = csv(run_figures, "stock_by_destination")
    expected = R.stock_by_location(path)  # (time, location)
    t = R.months(path)
    for j, loc in enumerate(R.labels(path, "location")):
        got = df[df["location"] == loc].sort_values("time")
        assert pd.to_datetime(got["time"]).values.astype("datetime64[D]").tolist() == t.tolist()
        np.testing.assert_array_equal(got["persons"].to_numpy(), expected[:, j])
    lac_idx = [R.labels(path, "location").index(c) for c in R.lac(path)]
    total = df[df["location"] == "LAC_total"].sort_values("time")["persons"].to_numpy()
    np.testing.assert_array_equal(total, expected[:, lac_idx].sum(axis=1))
    assert (df[df["location"] == "USA"]["in_lac"] == False).all()  # noqa: E712


# --------------------------------------------------------------------------- 2. corridors

def test_corridors_csv_matches_file(examples, run_figures):
    path = examples["run"]
    df = csv(run_figures, "corridors")
    cs = R.corridor_stock(path)
    start, end = cs[0], cs[-1]
    origin, location = R.labels(path, "origin"), R.labels(path, "location")
    key = np.maximum(start, end).ravel()
    order = np.argsort(-key, kind="stable")[:10]
    expected = [(origin[i // len(location)], location[i % len(location)]) for i in order]
    assert list(zip(df["origin"], df["location"])) == expected
    for row in df.itertuples():
        i, j = origin.index(row.origin), location.index(row.location)
        assert (row.start, row.end, row.change) == (start[i, j], end[i, j], end[i, j] - start[i, j])


def test_corridor_figure_rows_are_labelled_origin_to_destination(exp):
    fig, df = F.fig_corridors(exp)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == list(df["label"]) and all("→" in x for x in labels)
    assert ax.get_xscale() == "log" and "persons" in ax.get_xlabel()
    plt.close(fig)


# --------------------------------------------------------------------------- 3. arrivals

def test_arrivals_csv_matches_file(examples, run_figures):
    path = examples["run"]
    df = csv(run_figures, "arrivals_by_kind")
    arr = R.read(path, "arrivals").sum(axis=(1, 2))  # (time, kind)
    years, by_year = R.annual(arr, R.years(path))
    kinds = R.labels(path, "arrival_kind")
    for series, idx in [("regular_pathways", R.kinds_index(path, R.PATHWAY_KINDS)),
                        ("irregular", [kinds.index("irregular")]), ("other", [kinds.index("other")]),
                        ("labour_visa", [kinds.index("labour_visa")])]:
        got = df[df["series"] == series].sort_values("year")
        assert got["year"].tolist() == years.tolist()
        np.testing.assert_array_equal(got["persons"].to_numpy(), by_year[:, idx].sum(axis=1))


def test_arrivals_figure_has_regular_irregular_and_kinds(exp):
    fig, _ = F.fig_arrivals(exp)
    top, bottom = fig.axes[:2]
    assert [l.get_label() for l in top.get_lines()] == ["Regular, through a pathway", "Irregular",
                                                      "Other (no pathway)"]
    kinds = {l.get_label() for l in bottom.get_lines()}
    assert {"Labour visa", "Family reunification", "Free movement"} <= kinds
    assert "per year" in top.get_ylabel()
    plt.close(fig)


# --------------------------------------------------------------------------- 4. route edges

def test_edges_csv_matches_file(examples, run_figures):
    path = examples["run"]
    df = csv(run_figures, "route_edges")
    edges = R.labels(path, "edge")
    for var in ("irregular_crossings", "route_deaths", "interceptions"):
        years, by_year = R.annual(R.read(path, var), R.years(path))  # (year, edge)
        for e in ("COL-PAN", "MEX-USA"):
            got = df[(df["variable"] == var) & (df["edge"] == e)].sort_values("year")
            np.testing.assert_array_equal(got["persons"].to_numpy(), by_year[:, edges.index(e)])


def test_edges_figure_highlights_darien_and_mexico_us(exp):
    fig, _ = F.fig_edges(exp)
    crossings, deaths, interceptions = fig.axes[:3]
    assert [a.get_title(loc="left") for a in fig.axes[:3]] == ["Irregular crossings", "Deaths on the route",
                                                               "Interceptions"]
    lines = {l.get_label(): l for l in crossings.get_lines()}
    darien, border = lines["Darién gap (COL-PAN)"], lines["Mexico-US border (MEX-USA)"]
    others = [l for k, l in lines.items() if l not in (darien, border)]
    assert darien.get_linewidth() > max(l.get_linewidth() for l in others)
    assert border.get_linewidth() > max(l.get_linewidth() for l in others)
    plt.close(fig)


# --------------------------------------------------------------------------- 5. pathways

def test_pathway_csv_matches_file(examples, run_figures):
    path = examples["run"]
    df = csv(run_figures, "pathway_quota").set_index("pathway")
    quota, apps, adm = (R.read(path, v) for v in ("quota", "applications", "admissions"))
    for j, p in enumerate(R.labels(path, "pathway")):
        capped = quota[:, j] >= 0
        cap = quota[capped, j].sum()
        assert df.loc[p, "applications"] == apps[:, j].sum()
        assert df.loc[p, "admissions"] == adm[:, j].sum()
        assert df.loc[p, "capacity"] == cap
        if cap > 0:
            assert df.loc[p, "use_pct"] == pytest.approx(100 * adm[capped, j].sum() / cap)
            assert df.loc[p, "demand_pct"] == pytest.approx(100 * apps[capped, j].sum() / cap)
        else:
            assert np.isnan(df.loc[p, "use_pct"])
    assert df.loc["andean-free-movement", "months_uncapped"] == (quota[:, R.labels(path, "pathway")
                                                                       .index("andean-free-movement")] == -1).sum()


def test_pathway_figure_has_one_bar_per_capped_pathway(examples, exp):
    fig, df = F.fig_pathway_quota(exp)
    ax = fig.axes[0]
    capped = df[df["capacity"] > 0]["pathway"].tolist()
    assert len(ax.patches) == len(capped)
    ticks = [t.get_text().split("\n")[0] for t in ax.get_yticklabels()]
    assert ticks == capped
    assert "%" in ax.get_xlabel()
    assert "No cap: andean-free-movement" in texts(fig)
    plt.close(fig)


# --------------------------------------------------------------------------- 6. shortages

def test_shortages_csv_matches_file(examples, run_figures):
    path = examples["run"]
    df = csv(run_figures, "shortages_filled")
    hires = R.read(path, "hires").sum(axis=0)
    vac = R.read(path, "vacancies").sum(axis=0)
    locs, sectors = R.labels(path, "location"), R.labels(path, "sector")
    for row in df.itertuples():
        if row.location == "all countries" or row.sector == "all sectors":
            continue
        i, j = locs.index(row.location), sectors.index(row.sector)
        assert row.hires == hires[i, j] and row.vacancies == pytest.approx(vac[i, j])
        if vac[i, j] > 0:
            assert row.filled_pct == pytest.approx(100 * hires[i, j] / vac[i, j])
        else:
            assert np.isnan(row.filled_pct)
    total = df[(df["location"] == "all countries") & (df["sector"] == "all sectors")].iloc[0]
    assert total.filled_pct == pytest.approx(100 * hires.sum() / vac.sum())


def test_shortage_figure_is_a_country_by_sector_grid(exp):
    fig, _ = F.fig_shortages(exp)
    ax = fig.axes[0]
    grid = ax.images[0].get_array()
    assert grid.shape == (exp.ds.sizes["location"] + 1, exp.ds.sizes["sector"] + 1)
    assert ax.get_yticklabels()[0].get_text() == str(exp.ds["country_name"].values[0])
    assert "%" in fig.axes[1].get_ylabel()  # the colour bar says what the colours mean
    plt.close(fig)


# --------------------------------------------------------------------------- 7. map

def test_map_csv_matches_file(examples, run_figures):
    path = examples["run"]
    df = csv(run_figures, "map_stock_change").set_index("location")
    s = R.stock_by_location(path)
    for j, loc in enumerate(R.labels(path, "location")):
        assert df.loc[loc, "start"] == s[0, j] and df.loc[loc, "end"] == s[-1, j]
        assert df.loc[loc, "change_pct"] == pytest.approx(100 * (s[-1, j] - s[0, j]) / s[0, j])
        assert df.loc[loc, "on_map"]


def test_map_colours_every_modelled_country(exp):
    fig, df = fig_map(exp)
    ax = fig.axes[0]
    # Natural Earth's Americas in grey, then the modelled countries coloured by their change.
    assert len(ax.collections) == 2
    coloured = ax.collections[1]
    assert len(coloured.get_paths()) >= len(df)  # a country may have several polygons
    assert len({tuple(c) for c in coloured.get_facecolors()}) > 1
    assert "Change in migrants" in fig.axes[1].get_xlabel()
    plt.close(fig)


def test_map_names_countries_it_cannot_draw(exp, monkeypatch):
    import migsim_figures.mapping as mapping
    real = mapping.world

    def world_without_panama():
        w = real()
        return w[w["iso_a3"] != "PAN"]

    monkeypatch.setattr(mapping, "world", world_without_panama)
    fig, df = fig_map(exp)
    assert not df.set_index("location").loc["PAN", "on_map"]
    assert "not on the map: PAN" in texts(fig)
    plt.close(fig)


# --------------------------------------------------------------------------- measures

def test_prospective_migrants_at_home_are_not_counted(exp):
    """origin == location cells hold people still at home: never part of the migrant stock."""
    run = exp.run(0)
    stock = M.stock_by_location(run)
    home = sum(int(run["migrant_stock"].sel(origin=c, location=c).isel(time=0).sum()) for c in ("VEN", "COL"))
    assert home > 0, "the example should have prospective migrants at home"
    everything = run["migrant_stock"].isel(time=0).sum(["origin", "status"])
    assert int(stock.isel(time=0).sum()) < int(everything.sum())


def test_a_partial_last_year_is_marked(tmp_path):
    import subprocess

    import make_examples
    short = str(tmp_path / "short.h5")
    subprocess.run([make_examples.migsim_binary(), "run", make_examples.EXAMPLE, "-o", short, "--force",
                    "--quiet", "--months", "30"], check=True)  # 2010-01 to 2012-06
    exp = open_source(short).experiments[0]
    fig, df = F.fig_arrivals(exp)
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["2010", "2011", "2012*"]
    assert "Partial year (2012: 6 months)" in texts(fig)
    assert df.groupby("year")["partial_year"].first().to_dict() == {2010: False, 2011: False, 2012: True}
    plt.close(fig)


def test_pathway_figure_with_many_uncapped_pathways(tmp_path):
    """A scenario with many uncapped pathways (the Americas has 47) must still draw: the
    footer lists the five largest and refers to the CSV for the rest."""
    import subprocess
    from migsim_figures.figures import make_figures
    from migsim_figures.load import open_source
    corridor = os.path.join(ROOT, "configs", "examples", "corridor.yaml")
    codes = ["VEN", "COL", "PAN", "MEX", "USA"]
    pairs = [(c, o) for c in codes for o in codes if c != o]  # 20 pairs, twice: 40 pathways
    extra = "".join(
        f"  - {{name: free-movement-agreement-number-{i}, country: {c}, kind: free_movement, origins: [{o}]}}\n"
        for i, (c, o) in enumerate(pairs + pairs))
    scenario = tmp_path / "many.yaml"
    scenario.write_text(f"extends: {corridor}\nend: 2010-12\npathways:\n{extra}")
    out = tmp_path / "many.h5"
    subprocess.run([os.environ.get("MIGSIM", os.path.join(ROOT, "build", "migsim")), "run", str(scenario),
                    "-o", str(out), "--quiet"], check=True)
    written = make_figures(open_source(str(out)), str(tmp_path / "fig"), ["pathway_quota"], log=lambda *_: None)
    assert any(w.endswith(".png") for w in written)
    rows = pd.read_csv(tmp_path / "fig" / "pathway_quota.csv")
    assert len(rows) == 46  # every pathway in the CSV, listed or not in the footer
