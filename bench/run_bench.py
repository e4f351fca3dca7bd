#!/usr/bin/python3
"""`make bench`: measures migsim against the machine's memory bandwidth.

In each of REPEATS rounds, runs the bandwidth probe (a STREAM-style copy and an in-place
update) and then, for each case
(synthetic 30-country scenarios of 1M, 10M and 30M agents over 24 months, and the default
Americas scenario when it exists) and thread count, `build/migsim-bench case` (one process
per run, so peak memory is the run's own). Reports medians over the rounds; ratios between
runs (speed-up, limit ratio, 30M against 1M) are taken within each round first, so that a
slow spell of a shared machine does not fall on one side of a ratio only:

- agent_months_per_s: agents x months / time of the monthly loop
- ns_per_agent_month: its inverse
- bytes_per_agent: peak resident memory / most agents alive
- output_share: time writing the output / whole run
- startup_s: scenario loading and initial agents
- speedup: rate at 2 threads / rate at 1 thread on an average core (below)
- speedup_vs_fastest_core: rate at 2 threads / rate at 1 thread on the fastest core
- pair_speedup: two 1-thread copies started together on two cores, their summed rate while
  both were in their loops / the mean rate of the same two cores alone: what this machine
  gives two independent jobs, the ceiling for a 2-thread speed-up; pair_efficiency: rate at 2
  threads / that summed rate
- limit_ratio: (agents x state bytes x 2, read and written once per month, at the measured
  rate) / probe bandwidth = time to stream the agent state through memory once / time of a
  month's step. 1.0 means a month costs what merely reading and writing every agent's state
  once costs. The probe bandwidth is the faster of its two kernels in the round: STREAM's
  copy (b = a), and an update in place (a = a + 1), which moves the same bytes the way a
  month's pass does. Where stores fetch their line first (write-allocate), the copy moves 24
  bytes for the 16 it counts; on the 2-core Intel guests of docs/performance.md it ran at
  0.5-0.6 of the update's rate (write-allocate explains part of that). A ratio against the
  copy alone (limit_ratio_copy) would there measure the model against about half the
  bandwidth the machine has.

One-thread runs are pinned, one run per core (up to four cores, spread over the ones this
process may use), and a round's 1-thread figures (rate, times, output share, memory) are the
mean over those cores. The cores of a
shared machine need not be equally fast: on the 2-core AMD guest of docs/performance.md's
earlier tables, one vCPU at times ran the model about a third slower than the other (which one changed with the
host's load), so an unpinned 1-thread run measured whichever core the scheduler chose. Against the fastest
core, 2 threads can gain at most 1 + (the slower core's speed / the fastest's); against the
average core, the ideal is 2x on any machine.

Writes outputs/bench/results.json and prints a table. Figures vary 10-30 % with other load
on shared machines: compare ratios measured in one run.
"""
import argparse
import bisect
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("BUILD", ROOT / "build"))
BENCH = BUILD / "migsim-bench"
OUT = ROOT / "outputs" / "bench"

TARGETS = {
    "limit_ratio_10M_2t": 0.5,
    "agent_months_per_s_10M_2t": 150e6,
    "bytes_per_agent_30M": 32,
    "scaling_30M_vs_1M": 1.2,
    "output_share_max": 0.05,
    "speedup_min": 1.6,
}


def run_json(args, cpu=None):
    """One migsim-bench run; pinned to `cpu` if given."""
    return run_together(args, [cpu])[0]


def run_together(args, cpus):
    """Copies of one migsim-bench run started at once, one pinned to each of `cpus` (None: not
    pinned); their results in that order. If one fails, the others are stopped."""
    def pin(cpu):
        return (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    procs = [subprocess.Popen([str(BENCH), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, preexec_fn=pin(c)) for c in cpus]
    out = []
    for p in procs:
        stdout, stderr = p.communicate()
        if p.returncode != 0:
            for q in procs:
                if q.poll() is None:
                    q.kill()
                    q.wait()
            sys.exit(f"migsim-bench {' '.join(map(str, args))} failed:\n{stderr}")
        out.append(json.loads(stdout))
    return out


def synthetic(agents, months):
    """The synthetic scenario of `agents` agents over `months` months, written afresh by
    make_synthetic.py every time (a fraction of a second), so that a file left by an earlier
    version of the generator, or written for another number of months, is never measured."""
    path = OUT / f"synthetic-{agents // 1_000_000}M.yaml"
    subprocess.run([sys.executable, str(ROOT / "bench" / "make_synthetic.py"), str(agents), str(path),
                    "--months", str(months)], check=True)
    return path


def bench_cores(most=4):
    """The cores that 1-thread runs are pinned to: all this process may use, or `most` of
    them spread evenly."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) <= most:
        return cpus
    return [cpus[round(k * (len(cpus) - 1) / (most - 1))] for k in range(most)]


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mib": mem, "host": platform.node(),
            "kernel": platform.release()}


def run_rate(r):
    """One run's rate: agent-months per second of its monthly loop."""
    return r["agent_months"] / r["loop_s"]


def rate_of(runs):
    """A round's rate at a thread count: the mean over its runs (one per core for 1 thread)."""
    return statistics.mean(map(run_rate, runs))


def overlap_rates(runs):
    """The rates of runs started together while all of them were in their monthly loops: the
    agent-months each completed within that window (interpolated between its month ends) over
    the window's length. None if their loops did not overlap. (A copy that finishes first
    leaves the others alone on the machine; their whole loops would overstate what two busy
    cores give.)"""
    start = max(r["loop_start_monotonic_s"] for r in runs)
    end = min(r["month_end_monotonic_s"][-1] for r in runs)
    if not end > start:
        return None
    rates = []
    for r in runs:
        times = [r["loop_start_monotonic_s"], *r["month_end_monotonic_s"]]
        done = [0.0]
        for x in r["month_agents"]:
            done.append(done[-1] + x)

        def at(x):
            k = min(max(bisect.bisect_right(times, x) - 1, 0), len(times) - 2)
            return done[k] + (done[k + 1] - done[k]) * (x - times[k]) / (times[k + 1] - times[k])
        rates.append((at(end) - at(start)) / (end - start))
    return rates


def by_case(results):
    return {(r["case"], r["threads"]): r for r in results}


def bandwidth(rd, t):
    """A round's bandwidth at t threads for the limit ratio: the faster of the probe's copy
    and its update in place (the copy alone where the round has no update)."""
    return max(rd["probe"][t], rd.get("probe_update", {}).get(t, 0.0))


def summarise(rounds, cases, threads, cores):
    """The table's rows from the rounds' measurements.

    rounds: one dict per round: "probe" {threads: GB/s} (the copy), "probe_update" {threads:
    GB/s} (the update in place; may be absent), "probe_by_core" {core: GB/s} (the copy), and
    (case name, threads) -> list of migsim-bench case results (for 1 thread, one per core of
    `cores`, in that order); (case name, "pair") -> the two copies started together.
    cases: (name, scenario path) pairs. A round's figure at 1 thread is the mean over the
    cores; the table gives medians over the rounds, and ratios are taken within each round.
    Returns {"rows", "probe", "probe_update", "probe_by_core", "probe_update_by_core"}."""
    probe = {t: statistics.median(rd["probe"][t] for rd in rounds) for t in threads}
    probe_update = {t: statistics.median(rd["probe_update"][t] for rd in rounds) for t in threads
                    if all(t in rd.get("probe_update", {}) for rd in rounds)}
    probe_by_core = ({str(c): statistics.median(rd["probe_by_core"][c] for rd in rounds) for c in cores}
                     if 1 in threads else {})
    probe_update_by_core = ({str(c): statistics.median(rd["probe_update_by_core"][c] for rd in rounds) for c in cores}
                            if 1 in threads and all("probe_update_by_core" in rd for rd in rounds) else {})
    run_s = lambda r: r["startup_s"] + r["loop_s"] + r["write_s"]
    results = []
    for name, scenario in cases:
        for t in threads:
            per_round = [rd[(name, t)] for rd in rounds]
            if t == 1 and any(len(rr) != len(cores) for rr in per_round):
                raise ValueError(f"{name}: expected one 1-thread run per core {cores}")
            # Median over the rounds of the mean over the round's runs.
            med = lambda f: statistics.median(statistics.mean(map(f, rr)) for rr in per_round)
            r0 = per_round[0][0]
            rate = statistics.median(rate_of(rr) for rr in per_round)
            state = r0["state_bytes_per_agent"]
            peak = med(lambda r: r["peak_rss_bytes"])
            row = {
                "case": name, "scenario": scenario, "agents": r0["agents"],
                "max_agents": r0["max_agents"], "months": r0["months"], "threads": t,
                "agent_months_per_s": rate, "ns_per_agent_month": 1e9 / rate,
                "startup_s": med(lambda r: r["startup_s"]), "loop_s": med(lambda r: r["loop_s"]),
                "write_s": med(lambda r: r["write_s"]),
                "output_share": med(lambda r: r["write_s"] / run_s(r)),
                "peak_rss_bytes": peak, "bytes_per_agent": peak / r0["max_agents"],
                "state_bytes_per_agent": state,
                # Each round's ratio, in round order, and their median: on a shared host the
                # rounds' spread shows how far the median sits from a target's line.
                "limit_ratios": [rate_of(rd[(name, t)]) * state * 2 / (bandwidth(rd, t) * 1e9) for rd in rounds],
                "limit_ratio_copy": statistics.median(rate_of(rd[(name, t)]) * state * 2 / (rd["probe"][t] * 1e9)
                                                      for rd in rounds),
                "probe_gb_s": statistics.median(bandwidth(rd, t) for rd in rounds),
                "probe_copy_gb_s": probe[t], "probe_update_gb_s": probe_update.get(t),
                "run_s": med(run_s), "repeats": len(rounds),
                "rates": [rate_of(rr) for rr in per_round],
            }
            row["limit_ratio"] = statistics.median(row["limit_ratios"])
            if t == 1:
                row["rate_by_core"] = {str(c): statistics.median(run_rate(rd[(name, 1)][j]) for rd in rounds)
                                       for j, c in enumerate(cores)}
            results.append(row)
    by = by_case(results)
    for r in results:
        many = (r["case"], 1) in by and r["threads"] != 1
        one = lambda rd: rd[(r["case"], 1)]
        mine = lambda rd: rd[(r["case"], r["threads"])]
        r["speedup"] = statistics.median(rate_of(mine(rd)) / rate_of(one(rd)) for rd in rounds) if many else None
        r["speedup_vs_fastest_core"] = (
            statistics.median(rate_of(mine(rd)) / max(map(run_rate, one(rd))) for rd in rounds) if many else None)
        # Against two 1-thread copies run at once on the first two cores: the machine's own
        # ceiling for 2 threads (their summed rate while both ran, over the mean of the same
        # two cores alone), and the share of it the 2 threads reached.
        if r["threads"] == 2 and many:
            pairs = [(overlap_rates(rd[(r["case"], "pair")]), rd) for rd in rounds if (r["case"], "pair") in rd]
            pairs = [(sum(pr), rd) for pr, rd in pairs if pr]
            if pairs:
                r["pair_speedup"] = statistics.median(both / rate_of(one(rd)[:2]) for both, rd in pairs)
                r["pair_efficiency"] = statistics.median(rate_of(mine(rd)) / both for both, rd in pairs)
        # Time per agent-month against the 1M case's at the same thread count, within rounds.
        if r["case"] != "synthetic 1M" and ("synthetic 1M", r["threads"]) in by:
            r["vs_1M_per_agent_month"] = statistics.median(
                rate_of(rd[("synthetic 1M", r["threads"])]) / rate_of(mine(rd)) for rd in rounds)
    return {"rows": results, "probe": probe, "probe_update": probe_update, "probe_by_core": probe_by_core,
            "probe_update_by_core": probe_update_by_core}


def main():
    ap = argparse.ArgumentParser(description="migsim benchmarks (make bench)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--sizes", default="1,10,30", help="synthetic sizes in millions of agents")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--no-americas", action="store_true")
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    threads = [int(t) for t in a.threads.split(",")]
    cases = [(f"synthetic {s}M", synthetic(int(s) * 1_000_000, a.months)) for s in a.sizes.split(",")]
    americas = ROOT / "configs" / "americas.yaml"
    if americas.exists() and not a.no_americas:
        cases.append(("americas", americas))

    version = subprocess.run([str(BUILD / "migsim"), "--version"], capture_output=True, text=True).stdout.strip()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    # Rounds: each round runs the bandwidth probe and then every case at every thread count
    # (and as two 1-thread copies at once), one after another, so that a slow spell of this
    # shared machine falls on all of them alike. Ratios (speed-up, limit ratio, 30M against
    # 1M) are taken within a round; the table gives the medians over the rounds.
    # A 1-thread measurement is one pinned run per core (bench_cores), in the same round.
    cores = bench_cores()
    rounds = []
    for k in range(a.repeats):
        rd = {"probe": {}, "probe_update": {}, "probe_by_core": {}, "probe_update_by_core": {}}
        for t in threads:
            if t == 1:
                by_core = {c: run_json(["stream", "--threads", 1], c) for c in cores}
                rd["probe_by_core"] = {c: p["copy_gb_s"] for c, p in by_core.items()}
                rd["probe_update_by_core"] = {c: p["update_gb_s"] for c, p in by_core.items()}
                rd["probe"][1] = statistics.mean(rd["probe_by_core"].values())
                rd["probe_update"][1] = statistics.mean(rd["probe_update_by_core"].values())
            else:
                p = run_json(["stream", "--threads", t])
                rd["probe"][t], rd["probe_update"][t] = p["copy_gb_s"], p["update_gb_s"]
        for name, path in cases:
            args = lambda t: ["case", path, "--months", a.months, "--threads", t, "--output-dir", OUT]
            for t in threads:
                rd[(name, t)] = [run_json(args(t), c) for c in cores] if t == 1 else [run_json(args(t))]
            # What the machine gives two jobs at once: two 1-thread copies, started together on
            # two cores (the ceiling for a 2-thread speed-up on a host whose cores slow each
            # other down when both are busy).
            if 1 in threads and 2 in threads and len(cores) >= 2:
                rd[(name, "pair")] = run_together(args(1), cores[:2])
        rounds.append(rd)
        print(f"  round {k + 1} of {a.repeats} done", file=sys.stderr)
    summary = summarise(rounds, [(name, str(path.relative_to(ROOT))) for name, path in cases], threads, cores)
    results, probe, probe_update = summary["rows"], summary["probe"], summary["probe_update"]
    for r in results:
        print(f"  {r['case']:14s} threads {r['threads']}: {r['agent_months_per_s'] / 1e6:7.1f} M agent-months/s",
              file=sys.stderr)
    by = by_case(results)

    # Table.
    head = f"{'case':14s} {'agents':>11s} {'thr':>3s} {'M ag-mo/s':>10s} {'ns/ag-mo':>9s} {'B/agent':>8s} " \
           f"{'output':>7s} {'startup':>8s} {'speedup':>7s} {'limit':>6s} {'(copy)':>6s}"
    print(f"migsim {version}, {started}; {machine()['cpu']}, {os.cpu_count()} cores; medians of {a.repeats}")
    print("probe, STREAM-style copy: " + ", ".join(f"{t} threads {g:.1f} GB/s" for t, g in probe.items()) +
          (" (1 thread: mean of cores " + ", ".join(f"{c} {g:.1f}" for c, g in summary["probe_by_core"].items()) + ")"
           if 1 in threads else ""))
    print("probe, update in place:   " + ", ".join(f"{t} threads {g:.1f} GB/s" for t, g in probe_update.items()))
    print("limit: against the faster of the two in each round; (copy): against the copy alone")
    print(head)
    for r in results:
        sp = f"{r['speedup']:.2f}x" if r["speedup"] else "-"
        print(f"{r['case']:14s} {r['agents']:11,d} {r['threads']:3d} {r['agent_months_per_s'] / 1e6:10.1f} "
              f"{r['ns_per_agent_month']:9.2f} {r['bytes_per_agent']:8.1f} {100 * r['output_share']:6.1f}% "
              f"{r['startup_s']:7.2f}s {sp:>7s} {r['limit_ratio']:6.2f} {r['limit_ratio_copy']:6.2f}")
    if 1 in threads:
        print(f"1 thread: mean of runs pinned to cores {', '.join(map(str, cores))}; "
              "M agent-months/s by core, and 2-thread speed-up against the fastest core:")
        for r in results:
            if r["threads"] == 1:
                two = by.get((r["case"], 2))
                fast = f", 2 threads {two['speedup_vs_fastest_core']:.2f}x the fastest" if two else ""
                if two and "pair_speedup" in two:
                    fast += (f"; two 1-thread copies at once {two['pair_speedup']:.2f}x the average core,"
                             f" 2 threads {100 * two['pair_efficiency']:.0f}% of them")
                print(f"  {r['case']:14s} " + ", ".join(f"core {c} {v / 1e6:.1f}" for c, v in r["rate_by_core"].items())
                      + fast)

    # Targets of issue 6, checked on this run.
    checks = []
    def get(case, t):
        return by.get((case, t))
    r10 = get("synthetic 10M", 2)
    r1, r30 = get("synthetic 1M", 2), get("synthetic 30M", 2)
    if r10:
        spread = f" (rounds {min(r10['limit_ratios']):.3g}-{max(r10['limit_ratios']):.3g})"
        checks.append(("limit ratio >= 0.5 at 10M, 2 threads", r10["limit_ratio"], r10["limit_ratio"] >= 0.5, spread))
        checks.append(("agent-months/s >= 150M at 10M, 2 threads", r10["agent_months_per_s"], r10["agent_months_per_s"] >= 150e6))
    if r30:
        checks.append(("peak bytes/agent <= 32 at 30M", r30["bytes_per_agent"], r30["bytes_per_agent"] <= 32))
    if r1 and r30:
        ratio = r30["vs_1M_per_agent_month"]
        checks.append(("time/agent-month at 30M within 20% of 1M", ratio, ratio <= 1.2))
    worst_out = max(r["output_share"] for r in results)
    checks.append(("output writing <= 5% of the run (worst case)", worst_out, worst_out <= 0.05))
    sps = [r["speedup"] for r in results if r["speedup"]]
    if sps:
        checks.append(("2-thread speed-up >= 1.6x, against an average core (worst case)", min(sps), min(sps) >= 1.6))
    print("targets:")
    for name, value, ok, *more in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {value:.3g}{''.join(more)}")

    doc = {"migsim_version": version, "started_utc": started, "machine": machine(), "repeats": a.repeats,
           "one_thread_cores": cores,
           "probe": {str(t): {"copy_gb_s": g, "update_gb_s": probe_update.get(t)} for t, g in probe.items()},
           "probe_by_core": summary["probe_by_core"],
           "probe_update_by_core": summary["probe_update_by_core"],
           "cases": results,
           "targets": [{"name": n, "value": v, "pass": ok} for n, v, ok, *_ in checks]}
    (OUT / "results.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
