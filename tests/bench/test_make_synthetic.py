"""bench/make_synthetic.py: the benchmark's cases of different sizes are the same model per
agent. Every number of persons the agents meet scales with the number of agents, and a run
of twice the agents has the same shares of agents in each state and the same unemployment
(before 2026-12-02 the vacancies and quotas did not scale: at 2M agents the migrants'
unemployment over the second year read 11.4% against 6.3% at 1M)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("MIGSIM_SOURCE_DIR", Path(__file__).resolve().parents[2]))
MIGSIM = os.environ.get("MIGSIM", str(ROOT / "build" / "migsim"))


def scenario(tmp_path, agents):
    """The generator's scenario of `agents` agents (24 months, as `make bench` writes it)."""
    path = tmp_path / f"synthetic-{agents}.yaml"
    subprocess.run([sys.executable, str(ROOT / "bench" / "make_synthetic.py"), str(agents), str(path)], check=True)
    return path


def persons(text):
    """The vacancies, pathway quotas (regularisations' and the event's among them) and
    initial stock cells of a scenario, in the order written."""
    numbers = {}
    numbers["vacancies"] = [int(v) for block in re.findall(r"vacancies: \{([^}]*)\}", text)
                            for v in re.findall(r": (\d+)", block)]
    numbers["quota"] = [int(q) for q in re.findall(r"quota: (\d+)", text)]
    stock = text.split("initial_stock:")[1].split("initial_irregular_share")[0]
    numbers["stock"] = [int(v) for v in re.findall(r": (\d+)", stock)]
    numbers["move_rate"] = [float(re.search(r"move_rate: ([0-9.e+-]+)", text).group(1))]
    return numbers


def test_persons_scale_with_the_agents(tmp_path):
    one = persons(scenario(tmp_path, 1_000_000).read_text())
    three = persons(scenario(tmp_path, 3_000_000).read_text())
    for key in one:
        assert len(one[key]) == len(three[key]) > 0, key
        for a, b in zip(one[key], three[key]):
            if key == "move_rate":  # a rate, written to four significant digits
                assert b == pytest.approx(3 * a, rel=1e-3)
            else:  # int() of 3x against 3 int(x): at most 3 apart; the stock is rounded, not cut
                assert abs(b - 3 * a) <= 3, (key, a, b)
    assert max(one["vacancies"]) > 1000 and max(one["quota"]) > 1000  # not all rounded to nothing


def shares(path, out):
    """Mean shares over the second year: of all agents in each status, and of the settled
    migrants' job seekers among those in the labour force."""
    import xarray as xr
    subprocess.run([MIGSIM, "run", str(path), "-o", str(out), "--quiet", "--threads", "2"], check=True)
    with xr.open_dataset(out) as ds:
        stock = ds["migrant_stock"]
        by_status = stock.sum([d for d in stock.dims if d not in ("time", "status")])
        share = (by_status / by_status.sum("status")).isel(time=slice(12, None)).mean("time")
        result = {str(s): float(v) for s, v in zip(share["status"].values, share.values)}
        employed = ds["employed"].sum([d for d in ds["employed"].dims if d != "time"])
        seekers = ds["job_seekers"].sum([d for d in ds["job_seekers"].dims if d != "time"])
        result["unemployment"] = float((seekers / (seekers + employed)).isel(time=slice(12, None)).mean("time"))
    return result


def test_twice_the_agents_the_same_shares(tmp_path):
    # Each size written by the generator, as `make bench` does; the runs are deterministic.
    # The agents in a status number at least about 2,000 at 1M (in transit: about 200), so
    # the two runs' shares differ by sampling noise of a few percent (in transit: about 7%);
    # measured, at most 3.9% apart (aspiring) and 5% in transit. The tolerances leave room for
    # that and for the integer rounding of the scaled persons. The unscaled generator fails
    # unemployment by far (81% higher at 2M), aspiring and applying (10% higher) and in transit
    # (24% higher, against 20% allowed); its waiting and settled shares would pass.
    small, large = (shares(scenario(tmp_path, n), tmp_path / f"s{n}.h5") for n in (1_000_000, 2_000_000))
    assert large["unemployment"] == pytest.approx(small["unemployment"], rel=0.05)
    assert 0.03 < small["unemployment"] < 0.10  # the ~6% docs/performance.md gives
    for status in ("aspiring", "applied", "waiting", "settled_regular", "settled_irregular"):
        assert large[status] == pytest.approx(small[status], rel=0.06), status
    assert large["in_transit"] == pytest.approx(small["in_transit"], rel=0.2)
