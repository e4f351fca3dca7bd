"""Tests of the default Americas scenario and its policy scenarios (issue 3).

Run with /usr/bin/python3 -m pytest -q tests/configs (needs build/migsim; MIGSIM overrides
its path). The reduced runs use people_per_agent > 1 so that the whole file takes well under
a minute on 2 cores.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "analysis"))
import summary  # noqa: E402

MIGSIM = Path(os.environ.get("MIGSIM", ROOT / "build" / "migsim"))
PY = "/usr/bin/python3"
AMERICAS = ROOT / "configs" / "americas.yaml"
SCENARIOS = sorted((ROOT / "configs" / "scenarios").glob("*.yaml"))
DATA = ROOT / "configs" / "data"
LAC_2010 = 8326588
TARGET_2022 = 16_300_000
# Tolerance of the calibrated 2022 total in a scaled run (people_per_agent 100, one seed):
# the done-when tolerance (5 %) of the full-scale median; the fit report gives the spread.
TOL_2022 = 0.05

needs_migsim = pytest.mark.skipif(not MIGSIM.exists(), reason=f"{MIGSIM} not built")


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def lac_codes(doc):
    return [c["code"] for c in doc["countries"] if "LAC" in c.get("regions", [])]


def run(tmp_path, name, text, *args):
    yml = tmp_path / f"{name}.yaml"
    yml.write_text(text, encoding="utf-8")
    out = tmp_path / f"{name}.h5"
    subprocess.run([str(MIGSIM), "run", str(yml), "-o", str(out), "--force", "--quiet", *args], check=True)
    return out


# ---- the files --------------------------------------------------------------------------
def test_rebuild_gives_the_same_bytes():
    r = subprocess.run([PY, str(ROOT / "analysis" / "build_scenario.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_thirty_countries_and_regions():
    doc = load_yaml(AMERICAS)
    codes = [c["code"] for c in doc["countries"]]
    assert len(codes) == 30 == len(set(codes))
    with open(DATA / "countries_capitals_centroids.csv", newline="", encoding="utf-8") as f:
        core = {r["iso3"] for r in csv.DictReader(f) if r["core30"] == "True"}
    assert core <= set(codes) and set(codes) - core == {"PRI"}
    assert set(codes) - set(lac_codes(doc)) == {"USA", "CAN"}
    assert doc["people_per_agent"] == 1
    assert (str(doc["start"]), str(doc["end"])) == ("2010-01", "2022-12")


def test_initial_stock_equals_un_desa_exactly():
    doc = load_yaml(AMERICAS)
    codes = [c["code"] for c in doc["countries"]]
    lac = lac_codes(doc)
    stock = doc["initial_stock"]
    # Every bilateral cell among the 30 is UN DESA's 2010 value.
    cells = {}
    with open(DATA / "undesa_stock_bilateral_1990_2010.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["year"] == "2010" and r["orig_iso3"] in codes and r["dest_iso3"] in codes and r["orig_iso3"] != r["dest_iso3"]:
                cells[(r["orig_iso3"], r["dest_iso3"])] = int(r["value"])
    for (o, d), v in cells.items():
        if v > 0:
            assert stock[d][o] == v, (o, d)
    for d, row in stock.items():
        for o, v in row.items():
            if o != "ROW":
                assert cells[(o, d)] == v
    # The LAC total is UN DESA's region total, to the person.
    total = sum(v for d in lac for v in stock[d].values())
    assert total == LAC_2010
    # No rest-of-world stock in the USA and Canada (documented choice).
    assert "ROW" not in stock["USA"] and "ROW" not in stock["CAN"]


def test_policies_csv_dates_and_caps_are_used():
    doc = load_yaml(AMERICAS)
    pw = {p["name"]: p for p in doc["pathways"]}
    assert (str(pw["per-ptp"]["open"]), str(pw["per-ptp"]["close"])) == ("2017-01", "2018-12")
    assert (str(pw["chl-regularisation-2018"]["open"]), str(pw["chl-regularisation-2018"]["close"])) == ("2018-04", "2019-10")
    assert str(pw["col-etpv"]["open"]) == "2021-05"
    assert pw["usa-chnv-parole"]["quota"] == 30000
    assert (str(pw["usa-chnv-parole"]["open"]), str(pw["usa-chnv-parole"]["close"])) == ("2023-01", "2025-01")
    assert sorted(pw["usa-chnv-parole"]["origins"]) == ["CUB", "HTI", "NIC", "VEN"]
    assert (str(pw["usa-parole-ven"]["open"]), str(pw["usa-parole-ven"]["close"])) == ("2022-10", "2022-12")
    assert str(pw["bra-acolhida-ven"]["open"]) == "2018-04"


def test_risky_edges_exist():
    doc = load_yaml(AMERICAS)
    edges = {r["edge"]: r for r in doc["routes"]}
    for e in ("COL-PAN", "MEX-USA"):
        assert edges[e]["mortality"] > 0 and edges[e]["interception"] > 0
    with open(DATA / "land_borders.csv", newline="", encoding="utf-8") as f:
        codes = {c["code"] for c in doc["countries"]}
        for r in csv.DictReader(f):
            if r["iso3_a"] in codes and r["iso3_b"] in codes:
                assert f"{r['iso3_a']}-{r['iso3_b']}" in edges


def test_policy_scenarios_are_small_extends_files():
    names = {p.stem for p in SCENARIOS}
    assert {"baseline", "labour_pathways", "regularisation", "humanitarian_sponsorship"} <= names
    for p in SCENARIOS:
        doc = load_yaml(p)
        assert "extends" in doc and str(doc.get("end", "2030-12")) == "2030-12", p
        assert len(p.read_text().splitlines()) < 120
        assert "Policy levers" in p.read_text() or p.stem == "baseline"


# ---- the engine reads them ---------------------------------------------------------------
@needs_migsim
@pytest.mark.parametrize("path", [AMERICAS] + SCENARIOS, ids=lambda p: Path(p).stem)
def test_validates(path):
    r = subprocess.run([str(MIGSIM), "validate", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "countries  30" in r.stdout
    if path != AMERICAS:
        assert "2030-12" in r.stdout


# ---- reduced runs --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reduced(tmp_path_factory):
    """The calibrated scenario at people_per_agent 100, whole period, seed 1."""
    if not MIGSIM.exists():
        pytest.skip("migsim not built")
    tmp = tmp_path_factory.mktemp("americas")
    text = f"scenario_format: 1\nextends: {AMERICAS}\npeople_per_agent: 100\n"
    return run(tmp, "reduced", text, "--seed", "1")


def _flows(path):
    with h5py.File(path, "r") as f:
        dec = lambda a: [x.decode() if isinstance(x, bytes) else str(x) for x in a[:]]
        kinds = dec(f["arrival_kind"])
        origins = dec(f["origin"])
        stock = f["migrant_stock"][:].sum(axis=(1, 2, 3)).astype(np.int64)
        arrivals = f["arrivals"][:]
        inflow = arrivals[:, :, :, kinds.index("other")].sum(axis=(1, 2)) + \
            arrivals[:, origins.index("ROW"), :, kinds.index("irregular")].sum(axis=1)
        exits = sum(f[v][:].reshape(stock.shape[0], -1).sum(axis=1) for v in
                    ("returns", "deportations", "natural_deaths", "route_deaths", "interceptions", "gave_up"))
        movers = f["new_movers"][:].reshape(stock.shape[0], -1).sum(axis=1)
        ppa = int(f.attrs["people_per_agent"])
    return stock, inflow, exits, movers, ppa


@needs_migsim
def test_reduced_run_keeps_its_totals(reduced):
    """Persons are conserved: each month's change of everyone the model holds equals the new
    movers plus the inflows minus every exit (returns, deportations, deaths, interceptions,
    give-ups)."""
    stock, inflow, exits, movers, ppa = _flows(reduced)
    assert ppa == 100
    change = np.diff(stock)
    assert np.array_equal(change, (movers + inflow - exits)[1:])
    assert (stock % ppa == 0).all()


@needs_migsim
def test_reduced_run_starts_at_the_2010_stock_and_reaches_the_2022_target(reduced):
    ds = summary.open_run(reduced)
    labels = summary.month_labels(ds)
    lac = summary.region_stock(ds)
    # After the first month the stock has moved by one month of flows: within 1 %.
    assert abs(lac.values[0] / LAC_2010 - 1) < 0.01
    v2022 = lac.values[labels.index("2022-12")]
    assert abs(v2022 / TARGET_2022 - 1) < TOL_2022, v2022


@needs_migsim
def test_reduced_run_with_fewer_months_matches_the_longer_run(reduced, tmp_path):
    """--months N gives exactly the first N months of the longer run."""
    text = f"scenario_format: 1\nextends: {AMERICAS}\npeople_per_agent: 100\n"
    short = run(tmp_path, "short", text, "--seed", "1", "--months", "24")
    with h5py.File(short, "r") as a, h5py.File(reduced, "r") as b:
        assert np.array_equal(a["migrant_stock"][:], b["migrant_stock"][:24])


@needs_migsim
def test_summary_script_prints_the_figures(reduced):
    r = subprocess.run([PY, str(ROOT / "analysis" / "summary.py"), str(reduced)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for word in ("agents", "months", "LAC migrant stock", "2022-12", "crossings", "deaths"):
        assert word in r.stdout
