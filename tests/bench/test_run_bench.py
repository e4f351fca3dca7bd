"""bench/run_bench.py's arithmetic (`make bench` itself is never part of `make test`): the
cores 1-thread runs are pinned to, and the table's rates, speed-ups and ratios from made-up
rounds whose answers are known."""
import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("MIGSIM_SOURCE_DIR", Path(__file__).resolve().parents[2]))
spec = importlib.util.spec_from_file_location("run_bench", ROOT / "bench" / "run_bench.py")
rb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rb)


def case(rate, agents=1000, months=10, write_s=0.5, startup_s=0.5, rss=16000):
    """A migsim-bench case result whose rate is `rate` agent-months per second."""
    return {"agents": agents, "max_agents": agents, "months": months, "agent_months": agents * months,
            "loop_s": agents * months / rate, "write_s": write_s, "startup_s": startup_s,
            "peak_rss_bytes": rss, "state_bytes_per_agent": 16}


def test_cores_all_when_few_and_spread_when_many(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3, 1})
    assert rb.bench_cores() == [1, 3]
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)))
    assert rb.bench_cores() == [0, 5, 10, 15]
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8, 12)))
    assert rb.bench_cores() == [8, 9, 10, 11]


def two_rounds():
    # Core 0 is half as fast as core 1; 2 threads run at 90% of the two cores' sum.
    rounds = []
    for slow in (1.0, 0.8):  # the second round is a slow spell of the whole machine
        rd = {"probe": {1: 10.0 * slow, 2: 16.0 * slow}}
        rd[("synthetic 1M", 1)] = [case(100e6 * slow), case(200e6 * slow)]
        rd[("synthetic 1M", 2)] = [case(270e6 * slow)]
        rd[("synthetic 1M", "pair")] = [case(95e6 * slow), case(190e6 * slow)]  # started together
        rd[("synthetic 30M", 1)] = [case(120e6 * slow, agents=30000), case(240e6 * slow, agents=30000)]
        rd[("synthetic 30M", 2)] = [case(300e6 * slow, agents=30000)]
        rounds.append(rd)
    return rounds


def test_one_thread_is_the_mean_of_the_cores_and_speedups_take_it_or_the_fastest():
    cases = [("synthetic 1M", "a.yaml"), ("synthetic 30M", "b.yaml")]
    rows = {(r["case"], r["threads"]): r for r in rb.summarise(two_rounds(), cases, [1, 2], [0, 1])}
    one, two = rows[("synthetic 1M", 1)], rows[("synthetic 1M", 2)]
    # Rates: medians over the rounds of (100 + 200) / 2 and (80 + 160) / 2.
    assert one["agent_months_per_s"] == pytest.approx(135e6)
    assert one["rate_by_core"] == {"0": pytest.approx(90e6), "1": pytest.approx(180e6)}
    # Against the average core, 270 / 150 in each round; against the fastest, 270 / 200.
    assert two["speedup"] == pytest.approx(1.8)
    assert two["speedup_vs_fastest_core"] == pytest.approx(1.35)
    assert one["speedup"] is None and "rate_by_core" not in two
    # Two 1-thread copies at once: (95 + 190) / 150 over the average core; 2 threads reach 270 / 285.
    assert two["pair_speedup"] == pytest.approx(1.9)
    assert two["pair_efficiency"] == pytest.approx(270 / 285)
    assert "pair_speedup" not in rows[("synthetic 30M", 2)] and "pair_speedup" not in one
    # Limit ratio: rate x 16 bytes x 2 / probe, within each round.
    assert one["limit_ratio"] == pytest.approx(150e6 * 32 / 10e9)
    assert two["limit_ratio"] == pytest.approx(270e6 * 32 / 16e9)
    # 30M against 1M: time per agent-month, same thread count, within rounds.
    assert rows[("synthetic 30M", 1)]["vs_1M_per_agent_month"] == pytest.approx(150 / 180)
    assert rows[("synthetic 30M", 2)]["vs_1M_per_agent_month"] == pytest.approx(270 / 300)
    assert rows[("synthetic 30M", 2)]["speedup"] == pytest.approx(300 / 180)
    assert rows[("synthetic 30M", 1)]["bytes_per_agent"] == pytest.approx(16000 / 30000)


def test_output_share_is_the_write_over_the_whole_run():
    rd = {"probe": {1: 10.0}, ("synthetic 1M", 1): [case(1e3, write_s=1.0, startup_s=2.0)]}  # loop 10 s
    (row,) = rb.summarise([rd], [("synthetic 1M", "a.yaml")], [1], [0])
    assert row["output_share"] == pytest.approx(1.0 / 13.0)
    assert row["run_s"] == pytest.approx(13.0)
