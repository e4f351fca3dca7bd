"""Ensemble and comparison files: experiments found, failed members left out, medians and
90% bands across replicates, and the paired policy-minus-baseline difference."""
from __future__ import annotations

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

import make_examples
import reference as R
from migsim_figures import figures as F
from migsim_figures.figures import make_figures
from migsim_figures.load import open_source


@pytest.fixture(scope="module")
def ensemble(examples):
    return open_source(examples["ensemble"])


@pytest.fixture(scope="module")
def compare(examples):
    return open_source(examples["compare"])


@pytest.fixture(scope="module")
def compare_figures(compare, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("compare_figures"))
    make_figures(compare, out, log=lambda *_: None)
    return out


def quantiles(a: np.ndarray, axis: int = 0):
    return np.quantile(a, [0.05, 0.5, 0.95], axis=axis)


def test_ensemble_groups_members_by_parameter_and_drops_failed(ensemble, examples):
    path = examples["ensemble"]
    ok = R.read(path, "member_ok")
    rate = R.read(path, make_examples.SWEEP_KEY)
    assert ensemble.kind == "ensemble"
    assert [e.label for e in ensemble.experiments] == [f"{make_examples.SWEEP_KEY} = {v:g}"
                                                       for v in make_examples.SWEEP_VALUES]
    first = ensemble.experiments[0]
    expected = [m for m in range(len(ok)) if ok[m] and rate[m] == make_examples.SWEEP_VALUES[0]]
    assert [s["member"] for s in first.selectors] == expected
    assert first.n_failed == 1 and first.n_runs == len(make_examples.SEEDS)
    assert first.seeds == [int(R.read(path, "seed")[m]) for m in expected]


def test_ensemble_stock_csv_is_median_and_band_of_good_members(ensemble, examples, tmp_path):
    path = examples["ensemble"]
    make_figures(ensemble, str(tmp_path), only=["stock_by_destination"], log=lambda *_: None)
    exp = ensemble.experiments[0]
    df = pd.read_csv(tmp_path / F.slug(exp.label) / "stock_by_destination.csv")
    members = [s["member"] for s in exp.selectors]
    stock = R.stock_by_location(path)[members]  # (member, time, location)
    q = quantiles(stock)
    j = R.labels(path, "location").index("COL")
    got = df[df["location"] == "COL"].sort_values("time")
    np.testing.assert_allclose(got["persons_q05"], q[0][:, j])
    np.testing.assert_allclose(got["persons_median"], q[1][:, j])
    np.testing.assert_allclose(got["persons_q95"], q[2][:, j])
    assert (got["persons_q95"] < 1e8).all(), "the failed member's garbage leaked into the band"
    assert (got["n_runs"] == len(members)).all()


def test_ensemble_figure_draws_bands(ensemble):
    exp = ensemble.experiments[0]  # the group holding the failed member
    fig, _ = F.fig_edges(exp)
    assert any(isinstance(c, PolyCollection) for c in fig.axes[0].collections), "no 90% band drawn"
    footer = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    assert "90% of runs" in footer
    assert "1 failed run left out" in footer
    plt.close(fig)


def test_compare_file_gives_one_experiment_per_scenario(compare, examples):
    assert compare.kind == "compare"
    assert [e.label for e in compare.experiments] == R.labels(examples["compare"], "scenario")
    assert all(e.replicates == list(range(len(make_examples.SEEDS))) for e in compare.experiments)


def test_compare_makes_every_figure_per_scenario_and_the_difference(compare, compare_figures):
    for exp in compare.experiments:
        folder = os.path.join(compare_figures, F.slug(exp.label))
        for name, _ in F.figure_set():
            assert os.path.exists(os.path.join(folder, f"{name}.png")), (exp.label, name)
    diff = f"difference_{F.slug(compare.experiments[1].label)}_vs_{F.slug(compare.experiments[0].label)}"
    assert os.path.exists(os.path.join(compare_figures, f"{diff}.png"))


def test_difference_csv_is_paired_by_replicate(compare, compare_figures, examples):
    path = examples["compare"]
    base, policy = compare.experiments
    df = pd.read_csv(os.path.join(compare_figures,
                                  f"difference_{F.slug(policy.label)}_vs_{F.slug(base.label)}.csv"))
    crossings = R.read(path, "irregular_crossings").sum(axis=-1)  # (scenario, replicate, time)
    years, by_year = R.annual(crossings, R.years(path), axis=2)
    paired = by_year[1] - by_year[0]  # (replicate, year): same replicate, same random numbers
    q = quantiles(paired)
    got = df[df["measure"] == "irregular_crossings"].sort_values("year")
    assert got["year"].tolist() == years.tolist()
    np.testing.assert_allclose(got["difference_median"], q[1])
    np.testing.assert_allclose(got["difference_q05"], q[0])
    np.testing.assert_allclose(got["difference_q95"], q[2])
    # The CSV holds the paired differences, not those of the replicates matched another way
    # (the check above would pass by chance only if the two gave the same quantiles).
    shifted = by_year[1] - np.roll(by_year[0], 1, axis=0)
    assert not np.allclose(got["difference_q05"], quantiles(shifted)[0]) or \
        not np.allclose(got["difference_q95"], quantiles(shifted)[2])


def test_difference_figure_panels(compare):
    base, policy = compare.experiments
    fig, _ = F.fig_difference(base, policy)
    titles = [a.get_title(loc="left") for a in fig.axes]
    assert titles == [t for _, t, _, _ in F.HEADLINES] + ["Migrants living in LAC (end of month)"]
    for ax in fig.axes:
        assert any(isinstance(c, PolyCollection) for c in ax.collections), ax.get_title()
        assert any(l.get_ydata()[0] == 0 for l in ax.get_lines() if len(l.get_ydata()) == 2)  # zero line
    assert "Policy minus baseline" in fig._suptitle.get_text()
    plt.close(fig)


def test_single_runs_pair_without_interval(examples):
    base = open_source(examples["run"]).experiments[0]
    policy = open_source(examples["policy_run"]).experiments[0]
    fig, df = F.fig_difference(base, policy)
    assert "no interval" in "\n".join(t.get_text() for t in fig.texts)
    assert "difference" in df.columns and "difference_q05" not in df.columns
    path_b, path_p = examples["run"], examples["policy_run"]
    expected = R.annual(R.read(path_p, "route_deaths").sum(axis=1) - R.read(path_b, "route_deaths").sum(axis=1),
                        R.years(path_b))[1]
    np.testing.assert_array_equal(df[df["measure"] == "route_deaths"]["difference"], expected)
    plt.close(fig)


def test_an_ensemble_with_many_parameter_sets_is_pooled(examples, tmp_path, monkeypatch):
    import migsim_figures.load as load
    monkeypatch.setattr(load, "MAX_GROUPS", 1)  # the example's 2 parameter sets now count as many
    src = load.open_source(examples["ensemble"])
    assert len(src.experiments) == 1
    exp = src.experiments[0]
    assert exp.label == f"all members ({make_examples.SWEEP_KEY} varied)"
    ok = R.read(examples["ensemble"], "member_ok")
    assert exp.n_runs == int(ok.sum()) and exp.n_failed == int((ok == 0).sum())


def test_compare_pathway_csv_has_medians_and_bands_per_scenario(compare, compare_figures, examples):
    path = examples["compare"]
    quota, adm = R.read(path, "quota"), R.read(path, "admissions")  # (scenario, replicate, time, pathway)
    pathways = R.labels(path, "pathway")
    for s, exp in enumerate(compare.experiments):
        df = pd.read_csv(os.path.join(compare_figures, F.slug(exp.label), "pathway_quota.csv")).set_index("pathway")
        j = pathways.index("usa-seasonal-agriculture")
        capped = quota[s, :, :, j] >= 0
        use = 100 * (adm[s, :, :, j] * capped).sum(axis=1) / (quota[s, :, :, j] * capped).sum(axis=1)
        q = quantiles(use)
        got = df.loc["usa-seasonal-agriculture", ["use_pct_q05", "use_pct_median", "use_pct_q95"]]
        np.testing.assert_allclose(got.to_numpy(dtype=float), q)
