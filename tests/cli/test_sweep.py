"""migsim sweep and merge: experiments, the ensemble file, member files, failed members."""
import numpy as np
import pytest
import xarray as xr

from conftest import EXAMPLE, SOURCE, assert_same_data, migsim

EXPERIMENTS = SOURCE / "configs" / "experiments"
MOVE_RATE = EXPERIMENTS / "move-rate.yaml"
# Attributes that say when, where and how a file was made, not what it holds.
VOLATILE = {"history", "start_time_utc", "host", "threads", "ranks"}


def small_experiment(tmp_path, body="", name="small.yaml"):
    """A quick experiment on the example: 12 months, 3 values x 2 replicates."""
    exp = tmp_path / name
    exp.write_text(f"experiment_format: 1\nscenario: {EXAMPLE}\nseed: 3\nreplicates: 2\nmonths: 12\n"
                   + (body or "design: values\nparameters:\n  behaviour.move_rate: [1.0e-5, 2.0e-5, 4.0e-5]\n"))
    return exp


def assert_same_file(a, b):
    assert_same_data(a, b)
    da, db = xr.open_dataset(a, engine="h5netcdf"), xr.open_dataset(b, engine="h5netcdf")
    assert list(da.attrs) == list(db.attrs)
    for k in da.attrs:
        if k not in VOLATILE:
            assert str(da.attrs[k]) == str(db.attrs[k]), k


def test_the_example_experiments_are_valid():
    for f in sorted(EXPERIMENTS.glob("*.yaml")):
        p = migsim("sweep", f, "--count", check=0)
        assert int(p.stdout) > 0, f
    assert migsim("sweep", MOVE_RATE, "--count", check=0).stdout.strip() == "12"


@pytest.fixture(scope="module")
def move_rate_ensemble(tmp_path_factory):
    """The issue's example: 3 values x 4 replicates of the full 60-month corridor."""
    out = tmp_path_factory.mktemp("sweep") / "move-rate.h5"
    p = migsim("sweep", MOVE_RATE, "-o", out, check=0)
    assert "12 members" in p.stderr and "progress: members" in p.stderr
    assert "members 12/12 done" in p.stderr.splitlines()[-3]
    return out


def test_ensemble_opens_with_member_dimension_and_parameter_coordinates(move_rate_ensemble):
    for engine in ("h5netcdf", "netcdf4"):
        ds = xr.open_dataset(move_rate_ensemble, engine=engine)
        assert ds.sizes["member"] == 12
        assert ds.migrant_stock.dims == ("member", "time", "origin", "location", "status")
        assert ds.country_name.dims == ("location",)
        assert ds.seed.dtype == np.uint64 and ds.replicate.dtype == np.int32
        assert ds.member_ok.dtype == np.int8 and list(ds.member_ok.values) == [1] * 12
        assert list(ds.member_error.values) == [""] * 12
        rates = ds["behaviour.move_rate"].values
        assert rates.dtype == np.float64
        assert list(rates) == [1e-5] * 4 + [2e-5] * 4 + [4e-5] * 4
        assert list(ds.replicate.values) == [0, 1, 2, 3] * 3
        assert np.issubdtype(ds.time.dtype, np.datetime64)
        # sel and groupby on a parameter just work.
        one = ds.sel(member=5).migrant_stock
        assert one.dims == ("time", "origin", "location", "status")
        by_rate = ds.set_coords("behaviour.move_rate").migrant_stock.groupby("behaviour.move_rate").mean()
        assert by_rate.sizes["behaviour.move_rate"] == 3
        assert "scenario_format: 1" in ds.attrs["scenario"]
        assert "behaviour.move_rate" in ds.attrs["experiment"]
        ds.close()


def test_common_random_numbers_and_distinct_seeds(move_rate_ensemble):
    ds = xr.open_dataset(move_rate_ensemble, engine="h5netcdf")
    seeds = ds.seed.values.reshape(3, 4)
    assert (seeds == seeds[0]).all()  # replicate r has the same seed at every value
    assert len(set(seeds[0])) == 4
    # More movers with a higher move rate, replicate by replicate (paired).
    movers = ds.new_movers.sum(["time", "origin", "sector"]).values.reshape(3, 4)
    assert (movers[0] < movers[1]).all() and (movers[1] < movers[2]).all()


def test_a_member_equals_a_single_run_with_its_seed(tmp_path, move_rate_ensemble):
    """Member 5 (move_rate 2e-5, the example's own value; replicate 1) is `migsim run --seed`."""
    ds = xr.open_dataset(move_rate_ensemble, engine="h5netcdf")
    seed = int(ds.seed.values[5])
    assert ds["behaviour.move_rate"].values[5] == 2e-5
    run = tmp_path / "run.h5"
    migsim("run", EXAMPLE, "-o", run, "--seed", seed, "--quiet", check=0)
    single = xr.open_dataset(run, engine="h5netcdf")
    for name in ("migrant_stock", "arrivals", "route_deaths", "applications", "hires", "agents", "vacancies"):
        assert np.array_equal(ds[name].sel(member=5).values, single[name].values), name


def test_members_and_merge_equal_the_sweep(tmp_path):
    exp = small_experiment(tmp_path)
    whole = tmp_path / "whole.h5"
    migsim("sweep", exp, "-o", whole, "--quiet", "--threads", 2, check=0)
    parts = tmp_path / "parts"
    parts.mkdir()
    for k in range(6):
        migsim("sweep", exp, "--member", k, "-o", parts / f"member-{k:05d}.h5", "--quiet", check=0)
    merged = tmp_path / "merged.h5"
    p = migsim("merge", parts, "-o", merged, check=0)
    assert "wrote" in p.stderr
    assert_same_file(whole, merged)
    # Members in another order, listed one by one: the same file.
    again = tmp_path / "again.h5"
    migsim("merge", *sorted(parts.iterdir(), reverse=True), "-o", again, check=0)
    assert_same_file(whole, again)
    # Thread sharing does not change the results.
    other = tmp_path / "other.h5"
    migsim("sweep", exp, "-o", other, "--quiet", "--threads", 2, "--parallel", 1, check=0)
    assert_same_file(whole, other)


def test_merge_reports_missing_and_foreign_members(tmp_path):
    exp = small_experiment(tmp_path)
    parts = tmp_path / "parts"
    parts.mkdir()
    for k in (0, 2, 3, 5):
        migsim("sweep", exp, "--member", k, "-o", parts / f"m{k}.h5", "--quiet", check=0)
    p = migsim("merge", parts, "-o", tmp_path / "m.h5", check=2)
    assert "2 of 6 members are missing: 1, 4" in p.stderr
    assert not (tmp_path / "m.h5").exists()
    other = small_experiment(tmp_path, "parameters:\n  behaviour.move_rate: [3.0e-5]\n", name="other.yaml")
    migsim("sweep", other, "--member", 1, "-o", parts / "x.h5", "--quiet", check=0)
    p = migsim("merge", parts, "-o", tmp_path / "m.h5", check=2)
    assert "comes from another experiment" in p.stderr


def test_a_failed_member_is_recorded_and_the_others_finish(tmp_path):
    """A member whose initial stock needs more than 2^32 agents fails when its model is built."""
    exp = small_experiment(tmp_path, "design: values\nparameters:\n  initial_stock.USA.MEX: [12168662, 1000000000000]\n")
    out = tmp_path / "ens.h5"
    p = migsim("sweep", exp, "-o", out, check=0)
    assert "member 2 (initial_stock.USA.MEX = 1000000000000, replicate 0) failed: more than 2^32 agents" in p.stderr
    assert "(2 failed)" in p.stderr
    ds = xr.open_dataset(out, engine="h5netcdf")
    assert list(ds.member_ok.values) == [1, 1, 0, 0]
    assert "2^32" in ds.member_error.values[3] and ds.member_error.values[0] == ""
    assert ds.migrant_stock.isel(member=1).sum() > 0
    assert ds["initial_stock.USA.MEX"].dtype == np.int64
    # One failed member alone: its file is written (marked failed) and the command fails.
    part = tmp_path / "m2.h5"
    p = migsim("sweep", exp, "--member", 2, "-o", part, "--quiet", check=1)
    assert "failed" in p.stderr
    assert xr.open_dataset(part, engine="h5netcdf").attrs["member_ok"] == 0


def test_experiment_errors_exit_2_with_file_and_line(tmp_path):
    exp = small_experiment(tmp_path, "parameters:\n  behaviour.move_rat: [1.0e-5]\n")
    p = migsim("sweep", exp, "-o", tmp_path / "x.h5", check=2)
    assert f"{exp}:7:3: behaviour.move_rat: unknown key; did you mean \"move_rate\"?" in p.stderr
    p = migsim("sweep", tmp_path / "none.yaml", check=2)
    assert "cannot open the file" in p.stderr
    exp = small_experiment(tmp_path)
    p = migsim("sweep", exp, "--member", 6, "-o", tmp_path / "x.h5", check=2)
    assert "--member: the experiment has members 0 to 5, got 6" in p.stderr
    (tmp_path / "x.h5").write_text("keep")
    p = migsim("sweep", exp, "-o", tmp_path / "x.h5", check=2)
    assert "already exists" in p.stderr
    assert not list(tmp_path.glob(".x.h5*"))


def test_sweep_and_compare_never_write_over_their_inputs(tmp_path):
    """Even with --force, -o may not name the experiment or a scenario file it reads."""
    exp = small_experiment(tmp_path)
    exp_text = exp.read_text()
    p = migsim("sweep", exp, "-o", exp, "--force", check=2)
    assert "the output is also one of the inputs" in p.stderr and exp.read_text() == exp_text
    scen = tmp_path / "base.yaml"
    scen.write_text(f"extends: {EXAMPLE}\n")
    p = migsim("compare", scen, EXAMPLE, "-o", scen, "--force", check=2)
    assert "the output is also one of the inputs" in p.stderr and scen.read_text() == f"extends: {EXAMPLE}\n"
    pol = tmp_path / "policy.yaml"
    pol.write_text(f"extends: {scen}\n")  # its chain holds base.yaml too
    p = migsim("compare", EXAMPLE, pol, "-o", scen, "--force", check=2)
    assert "the output is also one of the inputs" in p.stderr and scen.read_text() == f"extends: {EXAMPLE}\n"
