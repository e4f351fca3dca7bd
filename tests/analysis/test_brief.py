"""The brief: a 2-4 page PDF from two scenarios, its numbers read from the files; and errors."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import make_examples
import reference as R
from migsim_figures.brief import make_brief
from migsim_figures.load import FileError, open_source

ANALYSIS = os.path.join(make_examples.ROOT, "analysis")


def pdf_pages(path: str) -> int:
    with open(path, "rb") as f:
        data = f.read()
    assert data.startswith(b"%PDF-")
    return len(re.findall(rb"/Type\s*/Page\b", data))


@pytest.fixture(scope="module")
def brief_runs(examples, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("brief") / "brief.pdf")
    pages = make_brief(examples["run"], examples["policy_run"], out)
    return out, pages


def headline(out: str) -> pd.DataFrame:
    df = pd.read_csv(os.path.splitext(out)[0] + ".csv")
    return df[df["table"] == "headline"].set_index("key")


def test_brief_from_two_runs_has_two_to_four_pages(brief_runs):
    out, pages = brief_runs
    assert 2 <= pages <= 4
    assert pdf_pages(out) == pages


def test_brief_headline_numbers_are_the_files_numbers(brief_runs, examples):
    out, _ = brief_runs
    head = headline(out)
    b, p = examples["run"], examples["policy_run"]

    def totals(path):
        arr = R.read(path, "arrivals").sum(axis=(0, 1, 2))
        hires, vac = R.read(path, "hires").sum(), R.read(path, "vacancies").sum()
        lac = [R.labels(path, "location").index(c) for c in R.lac(path)]
        return {"irregular_crossings": R.read(path, "irregular_crossings").sum(),
                "route_deaths": R.read(path, "route_deaths").sum(),
                "regular_arrivals": arr[R.kinds_index(path, R.PATHWAY_KINDS)].sum(),
                "irregular_arrivals": arr[R.kinds_index(path, ["irregular"])].sum(),
                "vacancies_filled": hires,
                "vacancies_filled_pct": 100 * hires / vac,
                "migrant_stock_lac": R.stock_by_location(path)[-1, lac].sum()}

    tb, tp = totals(b), totals(p)
    for key in tb:
        assert head.loc[key, "base_median"] == pytest.approx(tb[key]), key
        assert head.loc[key, "policy_median"] == pytest.approx(tp[key]), key
        assert head.loc[key, "difference_median"] == pytest.approx(tp[key] - tb[key]), key
    assert (head["n_pairs"] == 1).all()


def test_brief_detail_tables_match_the_files(brief_runs, examples):
    out, _ = brief_runs
    df = pd.read_csv(os.path.splitext(out)[0] + ".csv")
    b, p = examples["run"], examples["policy_run"]
    edges = R.labels(b, "edge")
    crossings = df[(df["table"] == "edge") & (df["measure"] == "irregular_crossings")].set_index("key")
    for j, e in enumerate(edges):
        assert crossings.loc[e, "base_median"] == R.read(b, "irregular_crossings")[:, j].sum()
        assert crossings.loc[e, "policy_median"] == R.read(p, "irregular_crossings")[:, j].sum()
    stock = df[df["table"] == "location"].set_index("key")
    for j, loc in enumerate(R.labels(b, "location")):
        assert stock.loc[loc, "difference_median"] == \
            R.stock_by_location(p)[-1, j] - R.stock_by_location(b)[-1, j]


def test_input_differences_are_the_policy_edits(examples):
    from migsim_figures.brief import input_differences
    base = open_source(examples["run"]).experiments[0]
    policy = open_source(examples["policy_run"]).experiments[0]
    diff = input_differences(base, policy).set_index("setting")
    assert diff.loc["pathways[usa-seasonal-agriculture].quota"].tolist() == ["6000", "15000"]
    assert diff.loc["pathways[mex-humanitarian-visa].quota"].tolist() == ["300", "2000"]
    assert diff.loc["name"].tolist() == ["corridor", "corridor-wider-pathways"]
    assert len(diff) == len(make_examples.POLICY_EDITS)


def test_brief_from_a_comparison_file_with_intervals(examples, tmp_path):
    out = str(tmp_path / "cmp.pdf")
    pages = make_brief(examples["compare"], None, out)
    assert 2 <= pages <= 4 and pdf_pages(out) == pages
    head = headline(out)
    path = examples["compare"]
    deaths = R.read(path, "route_deaths").sum(axis=(2, 3))  # (scenario, replicate)
    q = np.quantile(deaths[1] - deaths[0], [0.05, 0.5, 0.95])
    assert head.loc["route_deaths", ["difference_q05", "difference_median", "difference_q95"]].tolist() == \
        pytest.approx(q.tolist())
    assert (head["n_pairs"] == len(make_examples.SEEDS)).all()


def test_brief_refuses_runs_of_different_lengths(examples, tmp_path):
    short = str(tmp_path / "short.h5")
    subprocess.run([make_examples.migsim_binary(), "run", make_examples.EXAMPLE, "-o", short, "--force",
                    "--quiet", "--months", "30"], check=True)
    with pytest.raises(FileError, match="different months"):
        make_brief(examples["run"], short, str(tmp_path / "x.pdf"))


def test_brief_needs_a_policy(examples, tmp_path):
    with pytest.raises(FileError, match="give a POLICY"):
        make_brief(examples["run"], None, str(tmp_path / "x.pdf"))


# --------------------------------------------------------------------------- command line

def cli(*args):
    env = dict(os.environ, PYTHONPATH=ANALYSIS)
    return subprocess.run([sys.executable, "-m", "migsim_figures", *args], env=env, capture_output=True,
                          text=True)


def test_cli_reports_a_missing_file_clearly(tmp_path):
    r = cli("figures", str(tmp_path / "nope.h5"), "-o", str(tmp_path))
    assert r.returncode == 1
    assert "nope.h5: no such file" in r.stderr


def test_cli_rejects_a_file_that_is_not_a_migsim_output(tmp_path):
    bogus = tmp_path / "bogus.h5"
    bogus.write_bytes(b"not hdf5 at all")
    r = cli("figures", str(bogus), "-o", str(tmp_path))
    assert r.returncode == 1 and "cannot be opened" in r.stderr


def test_cli_figures_only_one(examples, tmp_path):
    r = cli("figures", examples["run"], "-o", str(tmp_path), "--only", "corridors")
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(tmp_path)) == ["corridors.csv", "corridors.png", "corridors.svg"]


def test_brief_compares_scenarios_with_different_pathways(examples, tmp_path):
    """The project's labour-pathways variant adds a pathway: it appears, counted 0 in the baseline."""
    out = str(tmp_path / "labour.pdf")
    assert make_brief(examples["run"], examples["labour_run"], out) == 4
    df = pd.read_csv(os.path.splitext(out)[0] + ".csv")
    paths = df[df["table"] == "pathway"].set_index("key")
    new = paths.loc["mex-services-visa (policy only)"]
    p = examples["labour_run"]
    j = R.labels(p, "pathway").index("mex-services-visa")
    assert new["base_median"] == 0 and new["policy_median"] == R.read(p, "admissions")[:, j].sum()
    assert new["difference_median"] == new["policy_median"]


def test_brief_inputs_csv_holds_every_setting_in_full(examples, tmp_path):
    """The PDF cuts long values (a whole new pathway is one row); the inputs CSV beside it
    holds them whole, and the PDF's cell drops the name its setting already shows."""
    from migsim_figures.brief import _short
    out = str(tmp_path / "labour.pdf")
    make_brief(examples["run"], examples["labour_run"], out)
    inputs = pd.read_csv(os.path.splitext(out)[0] + "_inputs.csv").set_index("setting")
    added = inputs.loc["pathways[mex-services-visa]"]
    assert added["baseline"] == "(not set)"
    assert added["policy"].startswith("{name: mex-services-visa, ") and "quota: " in added["policy"]
    cell = _short("pathways[mex-services-visa]", added["policy"])
    assert cell.startswith("{country: ") and "mex-services-visa" not in cell and len(cell) <= 40


def test_brief_sentence_claims_no_direction_when_the_interval_holds_zero():
    from migsim_figures.brief import sentence
    row = pd.Series({"label": "Deaths on routes", "unit": "persons", "difference_median": -63.0,
                     "difference_q05": -128.0, "difference_q95": 19.0, "relative_pct_median": -0.7,
                     "n_pairs": 3})
    text = sentence(row)
    assert text.startswith("Deaths on routes: no clear difference (median 63") and "3 paired runs" in text
    clear = sentence(row.copy().replace({19.0: -5.0}))
    assert clear.startswith("Deaths on routes: 63") and "lower under the policy" in clear
    assert "no clear" not in clear
    zero = row.copy()
    zero["difference_median"] = 0.0
    assert sentence(zero).startswith("Deaths on routes: no clear difference (median 0; 90% interval ")
    assert "lower" not in sentence(zero) and "higher" not in sentence(zero)
    single = sentence(row.copy().replace({3: 1}))  # one pair: no interval to judge by
    assert "lower under the policy." in single and "interval" not in single


def test_brief_for_a_country_adds_its_numbers_read_from_the_files(examples, tmp_path):
    """make brief COUNTRY=USA: the USA's arrivals, border crossings and deaths (the edges with
    USA at one end), share of vacancies filled and stock, each the files' own sums."""
    import xarray as xr
    out = str(tmp_path / "usa.pdf")
    assert make_brief(examples["run"], examples["policy_run"], out, country="USA") >= 2
    head = headline(out)
    for key, path in (("base_median", examples["run"]), ("policy_median", examples["policy_run"])):
        ds = xr.open_dataset(path, engine="h5netcdf")
        at_border = [e for e in ds.edge.values if "USA" in str(e).split("-")]
        assert at_border == ["MEX-USA"]
        assert head.loc["USA_irregular_arrivals", key] == \
            float(ds.arrivals.sel(location="USA", arrival_kind="irregular").sum())
        assert head.loc["USA_irregular_crossings", key] == float(ds.irregular_crossings.sel(edge=at_border).sum())
        assert head.loc["USA_route_deaths", key] == float(ds.route_deaths.sel(edge=at_border).sum())
        share = 100 * float(ds.hires.sel(location="USA").sum()) / float(ds.vacancies.sel(location="USA").sum())
        assert head.loc["USA_vacancies_filled_pct", key] == pytest.approx(share)
    assert head.loc["USA_irregular_crossings", "label"] == "United States: irregular crossings of its borders"
    # The region's rows are still there, and the CLI passes --country on.
    assert "irregular_crossings" in head.index
    with pytest.raises(FileError, match="no country 'XYZ'"):
        make_brief(examples["run"], examples["policy_run"], str(tmp_path / "x.pdf"), country="XYZ")
    p = subprocess.run([sys.executable, "-m", "migsim_figures", "brief", examples["run"], examples["policy_run"],
                        "-o", str(tmp_path / "cli.pdf"), "--country", "MEX"],
                       cwd=ANALYSIS, capture_output=True, text=True, env=dict(os.environ, MPLBACKEND="Agg"))
    assert p.returncode == 0, p.stderr
    assert "MEX_irregular_crossings" in set(headline(str(tmp_path / "cli.pdf")).index)


def test_input_differences_of_an_extends_variant(examples):
    from migsim_figures.brief import input_differences
    base = open_source(examples["run"]).experiments[0]
    policy = open_source(examples["labour_run"]).experiments[0]
    diff = input_differences(base, policy).set_index("setting")
    assert diff.loc["pathways[usa-seasonal-agriculture].origins"].tolist() == ["[MEX]", "[MEX, COL]"]
    added = diff.loc["pathways[mex-services-visa]"]  # one row for a whole new pathway
    assert added["baseline"] == "(not set)" and added["policy"].startswith("{name: mex-services-visa")
    assert not any(k.startswith("pathways[mex-services-visa].") for k in diff.index)
