"""migsim compare: common random numbers, the scenario dimension, the differences table."""
import numpy as np
import xarray as xr

from conftest import EXAMPLE, SOURCE, migsim

POLICY = SOURCE / "configs" / "experiments" / "policies" / "corridor-parole.yaml"


def test_compare_writes_scenario_and_replicate_dimensions_and_a_table(tmp_path):
    out = tmp_path / "cmp.h5"
    p = migsim("compare", EXAMPLE, POLICY, "--replicates", 3, "--months", 36, "-o", out, check=0)
    assert "corridor-parole minus corridor, mean over 3 replicates" in p.stdout
    rows = {line[:40].strip(): line for line in p.stdout.splitlines()}
    assert "arrivals through pathways" in rows and "deaths on routes" in rows
    assert "[" in rows["arrivals through pathways"]
    ds = xr.open_dataset(out, engine="h5netcdf")
    assert list(ds.scenario.values) == ["corridor", "corridor-parole"]
    assert ds.migrant_stock.dims == ("scenario", "replicate", "time", "origin", "location", "status")
    assert ds.sizes["replicate"] == 3 and ds.sizes["time"] == 36
    # The policy adds a pathway: the base has it as zeros, the policy uses it.
    assert "usa-venezuela-parole" in list(ds.pathway.values)
    apps = ds.applications.sel(pathway="usa-venezuela-parole").sum(["replicate", "time"])
    assert int(apps.sel(scenario="corridor")) == 0 and int(apps.sel(scenario="corridor-parole")) > 0
    assert ds.pathway_kind.sel(pathway="usa-venezuela-parole").item() == "private_sponsorship"
    assert "corridor-parole minus corridor" in ds.attrs["differences"]
    # Replicate r of the base is a plain run with the replicate's seed.
    seed = int(ds.seed.values[1])
    run = tmp_path / "run.h5"
    migsim("run", EXAMPLE, "-o", run, "--seed", seed, "--months", 36, "--quiet", check=0)
    single = xr.open_dataset(run, engine="h5netcdf")
    assert np.array_equal(ds.migrant_stock.sel(scenario="corridor").isel(replicate=1).values, single.migrant_stock.values)


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(tmp_path):
    """Common random numbers: identical scenarios give identical replicates."""
    p = migsim("compare", EXAMPLE, EXAMPLE, "--replicates", 2, "--months", 12, "-o", tmp_path / "same.h5", "--quiet",
               check=0)
    lines = [l for l in p.stdout.splitlines()[2:] if l and not l.startswith("*")]
    assert lines
    for line in lines:
        assert "[0, 0]" in line and line.rstrip().endswith("%"), line
    ds = xr.open_dataset(tmp_path / "same.h5", engine="h5netcdf")
    assert list(ds.scenario.values) == ["base", "policy"]


def test_long_scenario_names_are_not_cut_in_the_table(tmp_path):
    """The table's columns widen for names longer than 16 characters (they were cut to 16)."""
    pol = tmp_path / "long.yaml"
    pol.write_text(f"extends: {EXAMPLE}\nname: a-rather-long-policy-name-2030\n")
    p = migsim("compare", EXAMPLE, pol, "--replicates", 2, "--months", 6, "-o", tmp_path / "l.h5", "--quiet", check=0)
    header, first = p.stdout.splitlines()[1:3]
    assert header.split()[-5:] == ["a-rather-long-policy-name-2030", "difference", "95%", "interval", "change"]
    # The numbers sit under their headers: each right-aligned column ends where its name ends.
    end = header.index("a-rather-long-policy-name-2030") + len("a-rather-long-policy-name-2030")
    assert first[:end].rstrip() == first[:end] and first[end] == " "


def test_compare_input_errors(tmp_path):
    short = tmp_path / "short.yaml"
    short.write_text(f"extends: {EXAMPLE}\nend: 2012-12\n")
    p = migsim("compare", EXAMPLE, short, "-o", tmp_path / "x.h5", check=2)
    assert "give --months" in p.stderr
    p = migsim("compare", EXAMPLE, tmp_path / "none.yaml", check=2)
    assert "cannot open the file" in p.stderr
