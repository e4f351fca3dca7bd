#!/usr/bin/python3
"""Calibrate configs/americas.yaml (`make calibrate`).

    /usr/bin/python3 analysis/calibrate.py [--ranges configs/calibration/ranges.yaml]
                                          [--migsim build/migsim] [--no-confirm] [--jobs 1]

Searches the free behavioural parameters named in ranges.yaml against the moments it
describes (the LAC migrant stock in 2022-12, the pre-crisis growth of the intra-LAC stock,
and that growth's mix of origins), running build/migsim at a coarse people_per_agent:
  for each value of the grid parameter (network_weight), alternate
    - move_rate solved so the 2010-2014 intra-LAC growth matches its 2005-2010 pace,
    - crisis_weight solved so the LAC stock at 2022-12 is 16.3 million,
  then keep the grid value whose origin mix is closest to the data.
The chosen values go to configs/calibration/behaviour.yaml (which americas.yaml extends),
the fit to configs/calibration/fit_report.md (spread over seeds, and the full-scale
confirmation unless --no-confirm). Deterministic: the same inputs give the same values.
"""
from __future__ import annotations

import argparse
import csv
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import h5py
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "configs" / "americas.yaml"
CAL = ROOT / "configs" / "calibration"
DATA = ROOT / "configs" / "data"
BASELINE_MONTHS = 60  # 2010-01 .. 2014-12


# ---------------------------------------------------------------------------------------
# Targets from the data
# ---------------------------------------------------------------------------------------
def lac_codes():
    with open(SCENARIO, encoding="utf-8") as f:
        doc = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return [c["code"] for c in doc["countries"] if "LAC" in c.get("regions", [])]


def targets():
    lac = lac_codes()
    t = {}
    with open(DATA / "calibration_targets.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            t[f"lac_{r['period']}"] = float(r["value"])
    growth = defaultdict(float)
    with open(DATA / "undesa_stock_bilateral_1990_2010.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            o, d, y = r["orig_iso3"], r["dest_iso3"], r["year"]
            if o in lac and d in lac and o != d and y in ("2005", "2010"):
                growth[o] += float(r["value"]) * (1 if y == "2010" else -1)
    t["baseline"] = sum(growth.values())
    t["origin_growth"] = dict(sorted(growth.items()))
    return t


def tv_distance(model: dict, data: dict) -> float:
    """Total variation distance between the positive parts of two growth vectors."""
    keys = sorted(set(model) | set(data))
    m = np.array([max(model.get(k, 0.0), 0.0) for k in keys])
    d = np.array([max(data.get(k, 0.0), 0.0) for k in keys])
    if m.sum() <= 0 or d.sum() <= 0:
        return 2.0
    return float(np.abs(m / m.sum() - d / d.sum()).sum())


# ---------------------------------------------------------------------------------------
# Running the model
# ---------------------------------------------------------------------------------------
class Runner:
    def __init__(self, migsim: Path, workdir: Path, threads: int):
        self.migsim = migsim
        self.workdir = workdir
        self.threads = threads
        self.runs = 0
        self.seconds = 0.0
        self.lac = lac_codes()

    def run(self, params: dict, ppa: int, seed: int, months: int | None = None) -> dict:
        self.runs += 1
        name = f"r{self.runs:04d}"
        beh = ", ".join(f"{k}: {fmt(v)}" for k, v in sorted(params.items()))
        text = (f"scenario_format: 1\nextends: {SCENARIO}\npeople_per_agent: {ppa}\n"
                f"behaviour: {{{beh}}}\n")
        yml = self.workdir / f"{name}.yaml"
        out = self.workdir / f"{name}.h5"
        yml.write_text(text, encoding="utf-8")
        cmd = [str(self.migsim), "run", str(yml), "-o", str(out), "--force", "--quiet",
               "--seed", str(seed), "--threads", str(self.threads)]
        if months:
            cmd += ["--months", str(months)]
        t0 = time.monotonic()
        subprocess.run(cmd, check=True)
        dt = time.monotonic() - t0
        self.seconds += dt
        m = measure(out, self.lac)
        m["seconds"] = dt
        out.unlink()
        yml.unlink()
        return m


def fmt(v):
    return f"{v:.6g}"


def measure(path: Path, lac: list[str]) -> dict:
    with h5py.File(path, "r") as f:
        dec = lambda a: [x.decode() if isinstance(x, bytes) else str(x) for x in a[:]]
        origins, locations = dec(f["origin"]), dec(f["location"])
        stock = f["migrant_stock"][:].sum(axis=3)  # time, origin, location
        agents = f["agents"][:]
    T = stock.shape[0]
    oi = {o: i for i, o in enumerate(origins)}
    li = [locations.index(c) for c in lac]
    abroad = stock.copy()
    for i, o in enumerate(origins):
        if o in locations:
            abroad[:, i, locations.index(o)] = 0
    lac_stock = abroad[:, :, li].sum(axis=(1, 2))
    lac_orig = [oi[c] for c in lac]
    intra = abroad[:, lac_orig][:, :, li].sum(axis=2)  # time, LAC origin
    res = {"lac_first": float(lac_stock[0]), "lac_last": float(lac_stock[-1]), "months": T,
           "agents_first": int(agents[0]), "agents_max": int(agents.max())}
    if T >= BASELINE_MONTHS:
        g = intra[BASELINE_MONTHS - 1] - intra[0]
        # 59 months of change between the ends of 2010-01 and 2014-12: scale to 60.
        res["baseline"] = float(g.sum()) * 60.0 / (BASELINE_MONTHS - 1)
        res["origin_growth"] = {c: float(g[k]) for k, c in enumerate(lac)}
    if T >= 156:
        res["lac_2022"] = float(lac_stock[155])
        by_origin = abroad[155][:, li].sum(axis=1)
        res["lac_by_origin"] = {o: float(by_origin[i]) for i, o in enumerate(origins)}
        res["ven_by_location"] = {c: float(abroad[155, oi["VEN"], k]) for k, c in enumerate(locations)}
    return res


def mean_over(runner, params, ppa, seeds, months=None):
    ms = [runner.run(params, ppa, s, months) for s in seeds]
    out = {}
    for k in ms[0]:
        if isinstance(ms[0][k], dict):
            out[k] = {c: statistics.fmean(m[k][c] for m in ms) for c in ms[0][k]}
        else:
            out[k] = statistics.fmean(m[k] for m in ms)
    return out


# ---------------------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------------------
def solve(f, target, x0, lo, hi, iterations, tol, log_scale, log):
    """Find x in [lo, hi] with f(x) = target, f increasing: bracketed secant steps (in log x
    if log_scale). Returns (x, value)."""
    tx = (lambda x: math.log(x)) if log_scale else (lambda x: x)
    ix = (lambda u: math.exp(u)) if log_scale else (lambda u: u)
    pts = []
    x = x0
    best = None
    for _ in range(iterations):
        v = f(x)
        log(f"      x={x:.6g} -> {v:,.0f} (target {target:,.0f})")
        pts.append((tx(x), v))
        if best is None or abs(v - target) < abs(best[1] - target):
            best = (x, v)
        if abs(v - target) <= tol * abs(target):
            break
        below = [p for p in pts if p[1] < target]
        above = [p for p in pts if p[1] > target]
        if below and above:
            a = max(below, key=lambda p: p[1])
            b = min(above, key=lambda p: p[1])
            u = a[0] + (target - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
        elif len(pts) >= 2 and pts[-1][1] != pts[-2][1]:
            a, b = pts[-2], pts[-1]
            u = b[0] + (target - b[1]) * (b[0] - a[0]) / (b[1] - a[1])
            step = 2.0 if log_scale else (hi - lo) / 4
            u = min(max(u, b[0] - step), b[0] + step)
        else:
            u = tx(x) + ((0.7 if v < target else -0.7) if log_scale else (1.0 if v < target else -1.0))
        x = min(max(ix(u), lo), hi)
    return best


def calibrate(cfg, runner, log):
    t = targets()
    P = cfg["parameters"]
    S = cfg["search"]
    ppa, seeds = S["people_per_agent"], S["seeds"]
    grid_name = next(k for k, v in P.items() if "values" in v)
    results = []
    warm = {"move_rate": P["move_rate"]["start"], "crisis_weight": P["crisis_weight"]["start"]}
    for g in P[grid_name]["values"]:
        # Warm start from the previous grid value's solution (the grid is in increasing order).
        params = {grid_name: g, **warm}
        log(f"{grid_name} = {g}")
        for rnd in range(S["rounds"]):
            log(f"   round {rnd + 1}: move_rate to the baseline growth {t['baseline']:,.0f}")
            mr, _ = solve(lambda x: mean_over(runner, {**params, "move_rate": x}, ppa, seeds, BASELINE_MONTHS)["baseline"],
                          t["baseline"], params["move_rate"], P["move_rate"]["min"], P["move_rate"]["max"],
                          S["iterations"], S["tolerance"], True, log)
            params["move_rate"] = float(f"{mr:.4g}")
            log(f"   round {rnd + 1}: crisis_weight to the LAC stock {t['lac_2022']:,.0f} at 2022-12")
            cw, _ = solve(lambda x: mean_over(runner, {**params, "crisis_weight": x}, ppa, seeds)["lac_2022"],
                          t["lac_2022"], params["crisis_weight"], P["crisis_weight"]["min"], P["crisis_weight"]["max"],
                          S["iterations"], S["tolerance"], False, log)
            params["crisis_weight"] = float(f"{cw:.4g}")
        m = mean_over(runner, params, ppa, seeds)
        tv = tv_distance(m["origin_growth"], t["origin_growth"])
        err = max(abs(m["lac_2022"] / t["lac_2022"] - 1), abs(m["baseline"] / t["baseline"] - 1))
        log(f"   -> {params}: LAC 2022 {m['lac_2022']:,.0f}, baseline {m['baseline']:,.0f}, origin mix TV {tv:.3f}")
        results.append({"params": dict(params), "m": m, "tv": tv, "err": err})
        warm = {"move_rate": params["move_rate"], "crisis_weight": params["crisis_weight"]}
    ok = [r for r in results if r["err"] <= S["accept"]] or results
    best = min(ok, key=lambda r: (r["tv"], r["err"]))
    return best, results, t


def spread(runner, params, ppa, seeds, threads_note=""):
    rows = [(s, runner.run(params, ppa, s)) for s in seeds]
    return rows


def write_behaviour(params, cfg, t):
    lines = [
        "# Calibrated behavioural parameters of configs/americas.yaml (which extends this file).",
        "# WRITTEN BY `make calibrate` (analysis/calibrate.py, ranges in ranges.yaml); do not edit by",
        "# hand. The fit is in fit_report.md beside this file.",
        f"#   move_rate      fitted to the 2005-2010 pace of intra-LAC stock growth ({t['baseline']:,.0f} in 5 years)",
        f"#   crisis_weight  fitted to the LAC migrant stock at 2022-12 ({t['lac_2022']:,.0f})",
        "#   network_weight chosen on the grid by the origin mix of that baseline growth",
        "behaviour:",
    ]
    for k in sorted(params):
        lines.append(f"  {k}: {params[k]:.4g}")
    (CAL / "behaviour.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_report(best, results, t, report_rows, confirm_rows, cfg, runner, started):
    P = best["params"]
    L = []
    w = L.append
    w("# Calibration of configs/americas.yaml")
    w("")
    w("Written by `make calibrate` (analysis/calibrate.py; ranges and settings in ranges.yaml).")
    w("Machine: 2-core AMD EPYC VM; times are wall-clock and noisy (shared machine).")
    w("")
    w("## Moments")
    w("")
    w(f"- LAC migrant stock at 2022-12: target {t['lac_2022']:,.0f} (calibration_targets.csv F002, MPI).")
    w(f"- LAC migrant stock at 2010: {t['lac_2010']:,.0f} rounded in F001; UN DESA's 8,326,588 is the initial stock by construction.")
    w(f"- Baseline: growth of the intra-LAC stock 2010-01 to 2014-12 = UN DESA's 2005-2010 growth, {t['baseline']:,.0f}.")
    w("- Origin mix of that growth: total variation distance to UN DESA's 2005-2010 shares (0 best, 2 worst).")
    w("")
    w("## Search (people_per_agent %d, mean over seeds %s)" % (cfg["search"]["people_per_agent"], cfg["search"]["seeds"]))
    w("")
    w("| network_weight | move_rate | crisis_weight | LAC 2022-12 | baseline growth | origin-mix TV |")
    w("| --- | --- | --- | --- | --- | --- |")
    for r in results:
        p, m = r["params"], r["m"]
        w(f"| {p['network_weight']} | {p['move_rate']:.4g} | {p['crisis_weight']:.4g} | {m['lac_2022']:,.0f} | "
          f"{m['baseline']:,.0f} | {r['tv']:.3f} |")
    w("")
    w("Chosen: " + ", ".join(f"{k} = {v:.4g}" for k, v in sorted(P.items())) + ".")
    w("")

    def table(rows, title):
        w(f"## {title}")
        w("")
        w("| seed | LAC first month | LAC 2022-12 | vs 16.3M | baseline growth | agents (first month) | agents (max) | wall s |")
        w("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for s, m in rows:
            w(f"| {s} | {m['lac_first']:,.0f} | {m['lac_2022']:,.0f} | {100 * (m['lac_2022'] / t['lac_2022'] - 1):+.2f} % | "
              f"{m['baseline']:,.0f} | {m['agents_first']:,} | {m['agents_max']:,} | {m['seconds']:.0f} |")
        v = [m["lac_2022"] for _, m in rows]
        f0 = [m["lac_first"] for _, m in rows]
        w("")
        w(f"LAC 2022-12: median {statistics.median(v):,.0f} ({100 * (statistics.median(v) / t['lac_2022'] - 1):+.2f} % "
          f"of the target), min {min(v):,.0f}, max {max(v):,.0f}, spread (max-min) {max(v) - min(v):,.0f} "
          f"({100 * (max(v) - min(v)) / t['lac_2022']:.2f} % of the target).  ")
        w(f"LAC first month (2010-01, after one step): median {statistics.median(f0):,.0f} "
          f"({100 * (statistics.median(f0) / 8326588 - 1):+.2f} % of 8,326,588).")
        w("")

    def composition(m, title):
        w(f"## {title}")
        w("")
        tot = m["lac_2022"]
        top = sorted(m["lac_by_origin"].items(), key=lambda kv: -kv[1])[:10]
        w("LAC migrant stock at 2022-12 by country of birth (top 10): " +
          ", ".join(f"{o} {v / 1e6:.2f}M ({100 * v / tot:.0f} %)" for o, v in top) + ".  ")
        ven = sorted(m["ven_by_location"].items(), key=lambda kv: -kv[1])[:10]
        w(f"Born in Venezuela, living abroad at 2022-12: {sum(m['ven_by_location'].values()) / 1e6:.2f}M; by location (top 10): " +
          ", ".join(f"{l} {v / 1e6:.2f}M" for l, v in ven) + ".")
        w("")
        w("Not a calibration target: a check against the region's known history (Venezuelans the")
        w("largest group; Colombia, Peru, Ecuador, Chile, Brazil and Argentina the main hosts).")
        w("")

    composition(report_rows[0][1], f"Composition (seed {report_rows[0][0]}, people_per_agent {cfg['report']['people_per_agent']})")
    table(report_rows, f"Spread over seeds (people_per_agent {cfg['report']['people_per_agent']})")
    if confirm_rows:
        table(confirm_rows, f"Confirmation at full scale (people_per_agent {cfg['confirm']['people_per_agent']}, "
                            f"{cfg['confirm']['threads']} threads)")
    else:
        w("## Confirmation at full scale")
        w("")
        w("Not run (--no-confirm).")
        w("")
    w(f"Calibration took {runner.runs} model runs and {(time.monotonic() - started) / 60:.1f} minutes.")
    (CAL / "fit_report.md").write_text("\n".join(L) + "\n", encoding="utf-8")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranges", default=str(CAL / "ranges.yaml"))
    ap.add_argument("--migsim", default=str(ROOT / "build" / "migsim"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-confirm", action="store_true", help="skip the full-scale confirmation runs")
    a = ap.parse_args(argv)
    cfg = yaml.safe_load(Path(a.ranges).read_text(encoding="utf-8"))
    started = time.monotonic()
    log = lambda s: print(s, flush=True)
    work = Path(tempfile.mkdtemp(prefix="migsim-calibrate-"))
    try:
        runner = Runner(Path(a.migsim), work, a.threads)
        best, results, t = calibrate(cfg, runner, log)
        log(f"chosen {best['params']}")
        write_behaviour(best["params"], cfg, t)
        log("spread over seeds")
        rep = spread(runner, best["params"], cfg["report"]["people_per_agent"], cfg["report"]["seeds"])
        conf = []
        if not a.no_confirm:
            log("confirmation at full scale")
            conf = spread(runner, best["params"], cfg["confirm"]["people_per_agent"], cfg["confirm"]["seeds"])
            for s, m in conf:
                log(f"   seed {s}: LAC 2022-12 {m['lac_2022']:,.0f} ({m['seconds']:.0f} s)")
        write_report(best, results, t, rep, conf, cfg, runner, started)
        log(f"wrote {CAL / 'behaviour.yaml'} and {CAL / 'fit_report.md'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
