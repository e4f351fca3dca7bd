"""The migsim command line: commands, exit codes, messages, output files."""
import os
import signal
import subprocess
import time

import numpy as np
import pytest
import xarray as xr

from conftest import EXAMPLE, MIGSIM, SOURCE, assert_same_data, data_variables, migsim


def test_version_and_help():
    p = migsim("--version", check=0)
    assert p.stdout.startswith("migsim ")
    assert "run" in migsim("--help", check=0).stdout
    assert "--threads" in migsim("run", "--help", check=0).stdout
    assert "validate" in migsim("validate", "--help", check=0).stdout


def test_usage_errors_exit_2():
    assert migsim().returncode == 2
    assert migsim("run").returncode == 2
    assert migsim("run", EXAMPLE, "--threads", "zero").returncode == 2
    assert migsim("frobnicate").returncode == 2


def test_validate_accepts_the_examples():
    for f in sorted((SOURCE / "configs" / "examples").glob("*.yaml")):
        p = migsim("validate", f, check=0)
        assert "is a valid scenario" in p.stdout, f


def test_validate_reports_file_line_key_and_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("quota: 6000", "quota: lots").replace("move_rate:", "move_rat:"))
    p = migsim("validate", bad, check=2)
    lines = [l for l in p.stderr.splitlines() if l.startswith("error:")]
    assert any(f"{bad}:" in l and "pathways[usa-seasonal-agriculture].quota: expected an integer between 0 and 10000000000, got \"lots\"" in l for l in lines)
    assert any("behaviour.move_rat: unknown key; did you mean \"move_rate\"?" in l for l in lines)
    assert "2 errors" in p.stderr


def test_missing_scenario_is_an_input_error(tmp_path):
    p = migsim("run", tmp_path / "nope.yaml", "-o", tmp_path / "x.h5", check=2)
    assert "cannot open the file" in p.stderr
    assert not (tmp_path / "x.h5").exists()


def test_output_opens_in_xarray_with_named_dimensions(example_run):
    for engine in ("h5netcdf", "netcdf4"):
        ds = xr.open_dataset(example_run, engine=engine)
        assert ds.migrant_stock.dims == ("time", "origin", "location", "status")
        assert np.issubdtype(ds.time.dtype, np.datetime64)
        assert str(ds.time.values[0])[:10] == "2010-01-01"
        assert str(ds.time.values[-1])[:10] == "2014-12-01"
        assert list(ds.status.values) == ["aspiring", "applied", "waiting", "in_transit",
                                          "settled_regular", "settled_irregular"]
        assert "COL-PAN" in list(ds.edge.values)
        assert ds.irregular_crossings.dims == ("time", "edge")
        assert ds.migrant_stock.dtype == np.int64
        assert ds.attrs["people_per_agent"] == 100
        assert ds.attrs["Conventions"] == "CF-1.8"
        assert "scenario_format: 1" in ds.attrs["scenario"]
        ds.close()


def test_ncdump_sees_netcdf4(example_run):
    p = subprocess.run(["ncdump", "-h", str(example_run)], capture_output=True, text=True)
    if p.returncode == 127:
        pytest.skip("ncdump not installed")
    assert p.returncode == 0, p.stderr
    assert "time = UNLIMITED" in p.stdout
    assert "int64 migrant_stock(time, origin, location, status)" in p.stdout


def test_initial_stock_is_the_scenario_s(example_run):
    """Month 0's settled stock differs from the initial stock only by month 0's exits."""
    ds = xr.open_dataset(example_run, engine="h5netcdf")
    settled = ds.migrant_stock.sel(status=["settled_regular", "settled_irregular"]).isel(time=0)
    cell = int(settled.sel(origin="MEX", location="USA").sum())
    # The example's exits of a month (deaths, returns, onward moves, deportations of the
    # irregular) take about 0.5% of a stock (62,000 here): a 1% band below, none above.
    assert 0.99 * 12168662 < cell <= 12168662


@pytest.mark.parametrize("threads", [2, 4])
def test_identical_output_at_any_thread_count(tmp_path, example_run, threads):
    one = tmp_path / "t1.h5"
    other = tmp_path / f"t{threads}.h5"
    migsim("run", EXAMPLE, "-o", one, "--threads", 1, "--quiet", check=0)
    migsim("run", EXAMPLE, "-o", other, "--threads", threads, "--quiet", check=0)
    assert_same_data(one, other)
    assert_same_data(one, example_run)
    # h5diff agrees on every data variable.
    for name in data_variables(one):
        p = subprocess.run(["h5diff", str(one), str(other), f"/{name}", f"/{name}"], capture_output=True, text=True)
        assert p.returncode == 0, f"{name}: {p.stdout}"


def test_seed_changes_the_run(tmp_path, example_run):
    other = tmp_path / "s.h5"
    migsim("run", EXAMPLE, "-o", other, "--seed", 99, "--quiet", check=0)
    a = data_variables(example_run)["migrant_stock"]
    b = data_variables(other)["migrant_stock"]
    assert not np.array_equal(a, b)
    assert xr.open_dataset(other, engine="h5netcdf").attrs["seed"] == 99


def test_existing_output_is_kept_without_force(tmp_path):
    out = tmp_path / "keep.h5"
    out.write_bytes(b"earlier results")
    p = migsim("run", EXAMPLE, "-o", out, "--quiet", check=2)
    assert "already exists" in p.stderr and "--force" in p.stderr
    assert out.read_bytes() == b"earlier results"
    migsim("run", EXAMPLE, "-o", out, "--quiet", "--force", "--months", 6, check=0)
    assert xr.open_dataset(out, engine="h5netcdf").sizes["time"] == 6


def test_output_path_that_is_a_folder(tmp_path):
    p = migsim("run", EXAMPLE, "-o", tmp_path, "--quiet", check=2)
    assert "is a folder" in p.stderr


def test_months_option_range(tmp_path):
    p = migsim("run", EXAMPLE, "-o", tmp_path / "m.h5", "--months", 61, check=2)
    assert "--months" in p.stderr
    assert not (tmp_path / "m.h5").exists()


def test_seed_option_takes_only_what_the_seed_key_takes(tmp_path):
    # CLI11 alone read -1 as 2^64-1 and 0x10 as 16 (run and compare).
    for bad in ("-1", "0x10", "18446744073709551616", "1.5", ""):
        p = migsim("run", EXAMPLE, "-o", tmp_path / "s.h5", "--seed", bad, check=2)
        assert f'--seed: expected an integer between 0 and 18446744073709551615, got "{bad}"' in p.stderr
        p = migsim("compare", EXAMPLE, EXAMPLE, "-o", tmp_path / "c.h5", "--seed", bad, check=2)
        assert "--seed: expected an integer" in p.stderr
    assert not (tmp_path / "s.h5").exists() and not (tmp_path / "c.h5").exists()


def test_omp_num_threads_is_checked_unless_threads_is_given(tmp_path):
    # libgomp crashed trying to start 100000 threads (SIGSEGV), and a huge count made the
    # memory check blame people_per_agent.
    env = dict(os.environ)
    for bad in ("100000", "0", "abc", "99999999999"):
        env["OMP_NUM_THREADS"] = bad
        p = migsim("run", EXAMPLE, "-o", tmp_path / "t.h5", "--months", 2, check=2, env=env)
        assert f'OMP_NUM_THREADS: expected a number of threads between 1 and 4096, got "{bad}"' in p.stderr
    env["OMP_NUM_THREADS"] = "100000"
    migsim("run", EXAMPLE, "-o", tmp_path / "t.h5", "--months", 2, "--threads", 2, "--quiet", check=0, env=env)
    env["OMP_NUM_THREADS"] = "2,1"  # a list sets nested levels: the first is the threads
    migsim("run", EXAMPLE, "-o", tmp_path / "u.h5", "--months", 2, "--quiet", check=0, env=env)


def test_small_option_and_path_mistakes_get_clear_messages(tmp_path):
    p = migsim("run", EXAMPLE, "-o", "", check=2)
    assert "error: -o: the output path is empty" in p.stderr  # it silently meant the default name
    p = migsim("run", EXAMPLE, "-o", tmp_path / "e.h5", "--checkpoint-every", 0, check=2)
    assert "--checkpoint-every: Value 0 not in range 1 to 12000" in p.stderr  # was a 300-digit bound
    (tmp_path / "folder").mkdir()
    p = migsim("run", "--resume", tmp_path / "folder", check=2)
    assert "cannot resume from this checkpoint: it is a folder, not a file" in p.stderr
    ext = tmp_path / "ext.yaml"
    ext.write_text("extends: folder\n")
    p = migsim("validate", ext, check=2)
    assert f'{ext}:1:10: extends: "{tmp_path / "folder"}" is a folder, not a scenario file' in p.stderr


def test_progress_lines_when_not_a_terminal(tmp_path):
    p = migsim("run", EXAMPLE, "-o", tmp_path / "p.h5", check=0)
    lines = [l for l in p.stderr.splitlines() if l.startswith("progress: month")]
    assert 10 <= len(lines) <= 30
    assert "ETA" in lines[0] and "agents" in lines[0]
    assert "2014-12 (60/60)" in lines[-1]
    assert migsim("run", EXAMPLE, "-o", tmp_path / "q.h5", "--quiet", check=0).stderr == ""


def test_sigterm_stops_without_a_partial_file(tmp_path):
    """A run killed mid-way says so, exits 1, and leaves no output and no temporary file."""
    big = tmp_path / "big.yaml"
    big.write_text(f"extends: {EXAMPLE}\npeople_per_agent: 2\n")
    out = tmp_path / "big.h5"
    proc = subprocess.Popen([MIGSIM, "run", str(big), "-o", str(out), "--threads", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Wait for the run to be under way.
    deadline = time.time() + 60
    line = ""
    while time.time() < deadline and "progress:" not in line:
        line = proc.stderr.readline()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "interrupted by" in err and "no output written" in err
    assert os.listdir(tmp_path) == ["big.yaml"]


def test_other_examples_identical_at_1_and_2_threads(tmp_path):
    andes = SOURCE / "configs" / "examples" / "andes.yaml"
    migsim("run", andes, "-o", tmp_path / "a1.h5", "--threads", 1, "--quiet", check=0)
    migsim("run", andes, "-o", tmp_path / "a2.h5", "--threads", 2, "--quiet", check=0)
    assert_same_data(tmp_path / "a1.h5", tmp_path / "a2.h5")


def test_policy_variant_builds_on_its_base(tmp_path, example_run):
    """corridor-labour-pathways.yaml extends corridor.yaml: same countries and base
    pathways, plus its own, and the variant's levers show in the output."""
    variant = SOURCE / "configs" / "examples" / "corridor-labour-pathways.yaml"
    out = tmp_path / "variant.h5"
    migsim("run", variant, "-o", out, "--quiet", check=0)
    base = xr.open_dataset(example_run, engine="h5netcdf")
    var = xr.open_dataset(out, engine="h5netcdf")
    assert list(var.location.values) == list(base.location.values)
    assert list(var.pathway.values) == list(base.pathway.values) + ["mex-services-visa"]
    q = var.quota.sel(pathway="usa-seasonal-agriculture")
    assert int(q.sel(time="2011-12-01")) == 6000 and int(q.sel(time="2012-01-01")) == 20000
    assert int(var.quota.sel(pathway="mex-services-visa", time="2012-12-01")) == 0  # not open yet
    assert int(var.admissions.sel(pathway="mex-services-visa").sum()) > 0
    assert var.attrs["scenario_files"].endswith("corridor-labour-pathways.yaml")
    assert "corridor.yaml" in var.attrs["scenario_files"]
