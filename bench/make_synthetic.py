#!/usr/bin/python3
"""Writes a synthetic benchmark scenario: 30 countries, AGENTS agents at the start, every
mechanism switched on (new movers, choice, capped and uncapped pathways of each kind, two
year-long regularisations, irregular routes with risky edges, labour matching, returns, onward moves,
deportation, events), with shares of agents aspiring, applying, waiting, in transit and
settled like those of the Americas runs (most agents settled, about 1-3 % in process).

The numbers are made up for benchmarking (a fixed pseudo-random draw), not data. Every
number of persons that the agents meet (vacancies, pathway quotas, the regularisations'
capacities, the quota an event sets) is drawn for a case of 1M agents and scaled with AGENTS,
as the new movers are, so that every size is the same labour market and the same queues per
agent: its shares of agents in each state, and so its work per agent-month, do not depend on
the size. (Before 2026-12-02 they were not scaled: at 10M agents the vacancies per migrant were
a tenth of the 1M case's, and the migrants' unemployment rose from 8.5% to 23% over the 24
months, against about 6% at 1M; docs/performance.md.)

    make_synthetic.py AGENTS OUT.yaml [--months 24]
"""
import argparse
import math
import random


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("agents", type=int)
    ap.add_argument("out")
    ap.add_argument("--months", type=int, default=24)
    a = ap.parse_args()
    rng = random.Random(20240601)
    # Persons the agents meet, per agent of a 1M case (see the docstring).
    scale = a.agents / 1_000_000
    n = 30
    codes = [chr(ord("A") + i // 26) + chr(ord("A") + i % 26) + "X" for i in range(n)]
    sectors = ["agriculture", "construction", "manufacturing", "care", "services", "high_skill"]
    ratios = [0.45, 0.8, 0.9, 0.5, 0.7, 2.0]
    end_year, end_month = 2020 + (a.months - 1) // 12, (a.months - 1) % 12 + 1
    lines = [
        "# Synthetic benchmark scenario written by bench/make_synthetic.py: made-up numbers.",
        "scenario_format: 1",
        f"name: synthetic-{a.agents}",
        "start: 2020-01",
        f"end: {end_year}-{end_month:02d}",
        "seed: 1",
        "people_per_agent: 1",
        "sectors:",
    ]
    lines += [f"  - {{name: {s}, wage_ratio: {r}}}" for s, r in zip(sectors, ratios)]
    # Countries: a few rich destinations, many middle- and low-income origins.
    pops, gdps = [], []
    lines.append("countries:")
    for i, c in enumerate(codes):
        pop = math.exp(rng.uniform(math.log(3e6), math.log(2e8)))
        gdp = [60000, 50000, 45000][i] if i < 3 else math.exp(rng.uniform(math.log(3000), math.log(25000)))
        pops.append(pop)
        gdps.append(gdp)
        lat, lon = rng.uniform(-40, 50), rng.uniform(-120, -40)
        shares = [rng.uniform(0.05, 0.3) for _ in sectors]
        total = sum(shares)
        shares = [round(x / total, 6) for x in shares]
        shares[-1] = round(1 - sum(shares[:-1]), 6)
        vac = ", ".join(f"{s}: {int(pop * rng.uniform(2e-5, 2e-4) * scale)}" for s in sectors)
        crisis = f"{{2020: 0, 2021: {rng.choice([0, 0, 0, 0.3, 0.6])}}}"
        lines.append(
            f"  - {{code: {c}, language: l{i % 4}, regions: [{'NORTH' if i < 3 else 'SOUTH'}], "
            f"capital: [{lat:.2f}, {lon:.2f}], population: {pop:.0f}, working_age: {0.65 * pop:.0f}, "
            f"gdp_pc_ppp: {{2020: {gdp:.0f}, 2022: {gdp * 1.05:.0f}}}, unemployment: {rng.uniform(0.03, 0.15):.3f}, "
            f"crisis: {crisis}, sector_shares: {{{', '.join(f'{s}: {x}' for s, x in zip(sectors, shares))}}}, "
            f"vacancies: {{{vac}}}, deportation_rate: {rng.uniform(0, 0.004):.4f}}}")
    # Routes: a chain through all countries plus chords; some risky edges.
    lines.append("routes:")
    edges = set()
    for i in range(n - 1):
        edges.add((i, i + 1))
    while len(edges) < 60:
        i, j = sorted(rng.sample(range(n), 2))
        edges.add((i, j))
    for i, j in sorted(edges):
        risky = rng.random() < 0.15
        lines.append(
            f"  - {{edge: {codes[i]}-{codes[j]}, kind: {rng.choice(['land', 'land', 'sea', 'air'])}, "
            f"months: {rng.choice([1, 1, 2])}, cost: {rng.randint(100, 3000)}, "
            f"mortality: {0.004 if risky else 0.0005}, interception: {0.2 if risky else 0.03}}}")
    # Pathways: each kind, at the rich destinations and some others.
    kinds = ["labour_visa", "humanitarian_visa", "private_sponsorship", "family_reunification", "free_movement"]
    lines.append("pathways:")
    k = 0
    for d in range(n):
        for kind in kinds:
            if d >= 3 and rng.random() < 0.7:
                continue
            origins = sorted(rng.sample(codes[:d] + codes[d + 1:], 8))
            quota = "" if kind == "free_movement" else f", quota: {int(pops[d] * rng.uniform(2e-6, 2e-5) * scale)}"
            lines.append(
                f"  - {{name: p{k}, country: {codes[d]}, kind: {kind}, origins: [{', '.join(origins)}]"
                f"{quota}, processing_months: {rng.randint(0, 4)}, applies_from: {rng.choice(['abroad', 'both'])}}}")
            k += 1
        if d in (3, 4):
            # Two regularisations at mid-size destinations, open for a year, with a monthly
            # capacity about that of their take-up (like Chile 2018 or Peru's PTP).
            lines.append(
                f"  - {{name: reg{d}, country: {codes[d]}, kind: regularisation, presence_before: 2021-01, "
                f"take_up: 0.05, quota: {int(pops[d] * 2e-4 * scale)}, open: 2020-06, close: 2021-05}}")
    # Initial stock: a gravity-like spread of the agents over (location, origin) pairs, most
    # of them in the rich destinations.
    weights = {}
    for l in range(n):
        for o in range(n):
            if l != o:
                weights[(l, o)] = (gdps[l] / 1000) ** 1.5 * pops[o] ** 0.5 * rng.uniform(0.2, 1.8)
    total = sum(weights.values())
    lines.append("initial_stock:")
    for l in range(n):
        cells = [f"{codes[o]}: {int(round(a.agents * weights[(l, o)] / total))}" for o in range(n) if o != l]
        lines.append(f"  {codes[l]}: {{{', '.join(cells)}}}")
    lines.append("initial_irregular_share: {default: 0.2}")
    # New movers sized so that about 0.25 % of the agents start each month, close to the
    # month's exits, so the population stays about the same size over the run.
    wa = sum(0.65 * p for p in pops)
    move_rate = 0.0025 * a.agents / wa
    lines.append(f"behaviour: {{move_rate: {move_rate:.3e}, gain_weight: 0, unemployment_weight: 0, "
                 f"crisis_weight: 0.5, onward_rate: 0.0005, return_rate: 0.002, "
                 f"natural_mortality: 0.0005, give_up_months: 6}}")
    lines.append("events:")
    lines.append(f"  - {{date: 2020-07, pathway: p0, set: {{quota: {int(100000 * scale)}}}}}")
    lines.append(f"  - {{date: 2020-09, country: {codes[5]}, set: {{crisis: 0.8}}}}")
    lines.append(f"  - {{date: 2021-01, route: {codes[0]}-{codes[1]}, set: {{mortality: 0.01}}}}")
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
