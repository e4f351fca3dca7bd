"""bench/run_bench.py's arithmetic (`make bench` itself is never part of `make test`): the
cores 1-thread runs are pinned to, and the table's rates, speed-ups and ratios from made-up
rounds whose answers are known. The rounds are built so that the wrong statistic gives a
different answer: a median over cores instead of their mean, pooled runs instead of rounds,
ratios of medians instead of medians of ratios within rounds, the last core for the fastest,
whole loops instead of the window in which two copies ran together."""
import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("MIGSIM_SOURCE_DIR", Path(__file__).resolve().parents[2]))
spec = importlib.util.spec_from_file_location("run_bench", ROOT / "bench" / "run_bench.py")
rb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rb)


def case(rate, agents=1000, months=10, write_s=0.5, startup_s=0.5, rss=16000, start=0.0):
    """A migsim-bench case result whose loop runs at `rate` agent-months per second
    throughout, starting at `start` on the monotonic clock."""
    loop = agents * months / rate
    return {"agents": agents, "max_agents": agents, "months": months, "agent_months": agents * months,
            "loop_s": loop, "write_s": write_s, "startup_s": startup_s, "peak_rss_bytes": rss,
            "state_bytes_per_agent": 16, "loop_start_monotonic_s": start,
            "month_end_monotonic_s": [start + loop * (k + 1) / months for k in range(months)],
            "month_agents": [agents] * months}


def test_cores_all_when_few_and_spread_when_many(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3, 1})
    assert rb.bench_cores() == [1, 3]
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)))
    assert rb.bench_cores() == [0, 5, 10, 15]
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8, 12)))
    assert rb.bench_cores() == [8, 9, 10, 11]


# Three rounds on cores 0, 1, 2 (rates in M agent-months/s). The fastest core changes between
# rounds 1 and 2; round 3 is a slow spell for the 1-thread runs only.
ONE = [(100, 200, 120), (200, 100, 120), (50, 100, 60)]   # 1M, 1 thread, by core: means 140, 140, 70
TWO = [252, 280, 210]                                      # 1M, 2 threads
PAIR = [(95, 190), (190, 95), (50, 95)]                    # 1M, two 1-thread copies on cores 0 and 1
PROBE = [{1: 10.0, 2: 16.0}, {1: 10.0, 2: 16.0}, {1: 5.0, 2: 16.0}]
# The update in place, faster than the copy in some rounds only: the limit ratio takes the
# faster of the two within each round (1 thread 20, 20, 5; 2 threads 16, 32, 16 GB/s).
PROBE_UPDATE = [{1: 20.0, 2: 8.0}, {1: 20.0, 2: 32.0}, {1: 5.0, 2: 16.0}]


def alone_after(pair):
    """The copy still running when the other's loop ends runs its remaining months twice as
    fast (alone on the machine): its whole loop is then faster than while both ran."""
    end = min(r["month_end_monotonic_s"][-1] for r in pair)
    for r in pair:
        ends = r["month_end_monotonic_s"]
        for k in range(len(ends)):
            if ends[k] > end + 1e-15:
                ends[k] = ends[k - 1] + (ends[k] - ends[k - 1]) / 2 if k else ends[k]
        r["loop_s"] = ends[-1] - r["loop_start_monotonic_s"]


def rounds_of(with_pairs=True):
    rounds = []
    for k in range(3):
        rd = {"probe": PROBE[k], "probe_update": PROBE_UPDATE[k], "probe_by_core": {0: 9.0, 1: 11.0, 2: 10.0},
              "probe_update_by_core": {0: 18.0 + k, 1: 22.0, 2: 20.0}}
        rd[("synthetic 1M", 1)] = [case(x * 1e6) for x in ONE[k]]
        rd[("synthetic 1M", 2)] = [case(TWO[k] * 1e6)]
        if with_pairs:
            pair = [case(x * 1e6) for x in PAIR[k]]
            alone_after(pair)
            rd[("synthetic 1M", "pair")] = pair
        rd[("synthetic 30M", 1)] = [case(x * 1.2e6, agents=30000) for x in ONE[k]]
        rd[("synthetic 30M", 2)] = [case((300, 336, 252)[k] * 1e6, agents=30000)]
        rounds.append(rd)
    return rounds


CASES = [("synthetic 1M", "a.yaml"), ("synthetic 30M", "b.yaml")]


def rows(rounds=None, threads=(1, 2), cores=(0, 1, 2)):
    s = rb.summarise(rounds or rounds_of(), CASES, list(threads), list(cores))
    return {(r["case"], r["threads"]): r for r in s["rows"]}, s


def test_one_thread_is_the_mean_of_the_cores_in_each_round():
    r, _ = rows()
    one = r[("synthetic 1M", 1)]
    assert one["agent_months_per_s"] == pytest.approx(140e6)  # median of 140, 140, 70
    assert one["rate_by_core"] == {"0": pytest.approx(100e6), "1": pytest.approx(100e6), "2": pytest.approx(120e6)}
    # Times too: the mean over the round's cores, then the median over the rounds.
    assert one["loop_s"] == pytest.approx((1e-4 + 5e-5 + 1e4 / 120e6) / 3)
    assert "rate_by_core" not in r[("synthetic 1M", 2)]


def test_speedups_within_rounds_against_the_average_and_the_fastest_core():
    r, _ = rows()
    two = r[("synthetic 1M", 2)]
    assert two["agent_months_per_s"] == pytest.approx(252e6)
    assert two["speedup"] == pytest.approx(2.0)                 # 1.8, 2.0, 3.0
    assert two["speedup_vs_fastest_core"] == pytest.approx(1.4)  # 1.26, 1.4, 2.1
    assert r[("synthetic 1M", 1)]["speedup"] is None
    assert r[("synthetic 30M", 2)]["speedup"] == pytest.approx(336 / 168)  # 300/168, 336/168, 252/84


def test_two_copies_at_once_against_the_same_two_cores():
    r, _ = rows()
    two = r[("synthetic 1M", 2)]
    # Summed rates 285, 285, 145 over the mean of cores 0 and 1 alone: 150, 150, 75.
    assert two["pair_speedup"] == pytest.approx(1.9)
    assert two["pair_efficiency"] == pytest.approx(280 / 285)  # 252/285, 280/285, 210/145
    assert "pair_speedup" not in r[("synthetic 30M", 2)] and "pair_speedup" not in r[("synthetic 1M", 1)]


def test_limit_ratio_and_30M_against_1M_within_rounds():
    r, s = rows()
    # Against the faster kernel of each round: 1 thread 0.224, 0.224, 0.448 (the copy alone
    # 0.448 each time; the slower kernel 0.448, 0.448, 0.448); 2 threads 0.504, 0.28, 0.42
    # (the copy alone 0.504, 0.56, 0.42; the slower kernel 1.008, 0.56, 0.42).
    assert r[("synthetic 1M", 1)]["limit_ratio"] == pytest.approx(140e6 * 32 / 20e9)
    assert r[("synthetic 1M", 2)]["limit_ratio"] == pytest.approx(210e6 * 32 / 16e9)
    # Each round's, in round order (the median above is the third round's).
    assert r[("synthetic 1M", 2)]["limit_ratios"] == [pytest.approx(0.504), pytest.approx(0.28), pytest.approx(0.42)]
    assert r[("synthetic 1M", 1)]["limit_ratios"] == [pytest.approx(0.224), pytest.approx(0.224), pytest.approx(0.448)]
    assert r[("synthetic 1M", 1)]["limit_ratio_copy"] == pytest.approx(140e6 * 32 / 10e9)
    assert r[("synthetic 1M", 2)]["limit_ratio_copy"] == pytest.approx(252e6 * 32 / 16e9)
    assert r[("synthetic 1M", 2)]["probe_gb_s"] == pytest.approx(16.0)  # median of 16, 32, 16
    assert r[("synthetic 1M", 2)]["probe_update_gb_s"] == pytest.approx(16.0)  # median of 8, 32, 16
    assert r[("synthetic 30M", 1)]["vs_1M_per_agent_month"] == pytest.approx(1 / 1.2)
    assert r[("synthetic 30M", 2)]["vs_1M_per_agent_month"] == pytest.approx(280 / 336)  # 252/300, 280/336, 210/252
    assert r[("synthetic 30M", 1)]["bytes_per_agent"] == pytest.approx(16000 / 30000)
    assert s["probe"] == {1: pytest.approx(10.0), 2: pytest.approx(16.0)}
    assert s["probe_by_core"] == {"0": 9.0, "1": 11.0, "2": 10.0}
    assert s["probe_update"] == {1: pytest.approx(20.0), 2: pytest.approx(16.0)}
    assert s["probe_update_by_core"] == {"0": 19.0, "1": 22.0, "2": 20.0}


def test_limit_ratio_against_the_copy_where_a_round_has_no_update():
    old = rounds_of()
    for rd in old:
        del rd["probe_update"], rd["probe_update_by_core"]
    r, s = rows(old)
    assert r[("synthetic 1M", 2)]["limit_ratio"] == pytest.approx(252e6 * 32 / 16e9)
    assert r[("synthetic 1M", 2)]["limit_ratio"] == r[("synthetic 1M", 2)]["limit_ratio_copy"]
    assert r[("synthetic 1M", 2)]["probe_update_gb_s"] is None
    assert s["probe_update"] == {} and s["probe_update_by_core"] == {}


def test_other_thread_counts_and_a_single_core():
    r, _ = rows(threads=(2,))
    assert r[("synthetic 1M", 2)]["speedup"] is None and "pair_speedup" not in r[("synthetic 1M", 2)]
    single = rounds_of(with_pairs=False)
    for rd in single:
        for name, _ in CASES:
            rd[(name, 1)] = rd[(name, 1)][:1]
    r, _ = rows(single, cores=(0,))
    assert r[("synthetic 1M", 2)]["speedup"] == pytest.approx(2.52)  # 252/100, 280/200, 210/50
    assert "pair_speedup" not in r[("synthetic 1M", 2)]
    with pytest.raises(ValueError):
        rows(single, cores=(0, 1))  # a 1-thread run missing for a core


def test_copies_rated_over_the_window_both_ran():
    a = case(1000, agents=1000, months=4, start=10.0)  # 1 s a month: 10.0 to 14.0
    b = case(1000, agents=1000, months=4, start=10.5)
    b["month_end_monotonic_s"] = [12.5, 14.5, 15.0, 15.5]  # 2 s a month alongside a, then faster alone
    assert rb.overlap_rates([a, b]) == [pytest.approx(1000), pytest.approx(1750 / 3.5)]
    b["loop_start_monotonic_s"], b["month_end_monotonic_s"] = 14.0, [15.0, 16.0, 17.0, 18.0]
    assert rb.overlap_rates([a, b]) is None  # one after the other


def test_output_share_is_the_write_over_the_whole_run():
    rd = {"probe": {1: 10.0}, "probe_by_core": {0: 10.0}, ("synthetic 1M", 1): [case(1e3, write_s=1.0, startup_s=2.0)]}
    (row,) = rb.summarise([rd], [("synthetic 1M", "a.yaml")], [1], [0])["rows"]  # loop 10 s
    assert row["output_share"] == pytest.approx(1.0 / 13.0)
    assert row["run_s"] == pytest.approx(13.0)
