#!/usr/bin/python3
"""Build configs/americas.yaml, the default scenario, from the CSVs in configs/data/.

    /usr/bin/python3 analysis/build_scenario.py [-o configs/americas.yaml] [--check]

Every number written into the scenario comes either from a file of configs/data/ (named in
the comment beside it) or from the ASSUMPTIONS block below, where each value carries its
reasoning. The calibrated behavioural parameters are not written here: americas.yaml
`extends` configs/calibration/behaviour.yaml, which `make calibrate` writes.

The output is a pure function of the inputs: running the script twice gives the same
bytes (`--check` exits 1 if the file on disk differs from what would be written).
"""
from __future__ import annotations

import argparse
import csv
import math
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "configs" / "data"

# ---------------------------------------------------------------------------------------
# The 30 countries. The 29 flagged `core30` in countries_capitals_centroids.csv, plus
# Puerto Rico: among the Americas' entities not flagged, it has by far the largest
# immigrant stock (304,969 in 2010, UN DESA totals; next are French Guiana 96,288 and
# Guadeloupe 94,942), it is a destination of the Dominican Republic's irregular sea route
# (the Mona Passage), and WDI has its drivers (French Guiana and Guadeloupe, parts of
# France, have none).
# ---------------------------------------------------------------------------------------
EXTRA_COUNTRY = "PRI"
NORTH = ("USA", "CAN")  # not in Latin America and the Caribbean

# Main official language (one string per country; equal strings = common language).
# CEPII comlang_off agrees for every pair joined here; it also joins Belize and Puerto
# Rico to both English and Spanish, and Canada to Haiti by French, which one string per
# country cannot represent.
LANGUAGE = {c: "spanish" for c in (
    "ARG", "BOL", "CHL", "COL", "CRI", "CUB", "DOM", "ECU", "GTM", "HND", "MEX", "NIC", "PAN",
    "PER", "PRI", "PRY", "SLV", "URY", "VEN")}
LANGUAGE.update({c: "english" for c in ("BHS", "BLZ", "BRB", "CAN", "GUY", "JAM", "TTO", "USA")})
LANGUAGE.update({"BRA": "portuguese", "HTI": "french", "SUR": "dutch"})

# Region tags: LAC = UN DESA's "Latin America and the Caribbean" (the calibration target's
# region); sub-regions as UN M49 (Mexico in Central America, the USA and Canada in
# Northern America).
SUBREGION = {
    "Caribbean": ("BHS", "BRB", "CUB", "DOM", "HTI", "JAM", "PRI", "TTO"),
    "Central_America": ("BLZ", "CRI", "GTM", "HND", "MEX", "NIC", "PAN", "SLV"),
    "South_America": ("ARG", "BOL", "BRA", "CHL", "COL", "ECU", "GUY", "PER", "PRY", "SUR", "URY", "VEN"),
    "Northern_America": ("CAN", "USA"),
}
MERCOSUR_STATES = ("ARG", "BRA", "PRY", "URY")

# ---------------------------------------------------------------------------------------
# ASSUMPTIONS: numbers with no data behind them in configs/data/. Each is documented here
# and in docs/ODD.md ("Scenario: the Americas"); the YAML repeats the reasoning briefly.
# ---------------------------------------------------------------------------------------
SECTORS = [  # name, wage ratio = monthly wage / (GDP per capita PPP / 12)
    ("agriculture", 0.45), ("construction", 0.8), ("manufacturing", 0.9),
    ("care", 0.5), ("services", 0.7), ("high_skill", 2.0)]
# Share of working-age people by sector: one vector for the region's middle-income
# countries and one for its high-income economies (no sector data in configs/data/).
SHARES_MIDDLE = {"agriculture": 0.14, "construction": 0.08, "manufacturing": 0.12,
                 "care": 0.08, "services": 0.48, "high_skill": 0.10}
SHARES_HIGH = {"agriculture": 0.02, "construction": 0.07, "manufacturing": 0.10,
               "care": 0.08, "services": 0.58, "high_skill": 0.15}
HIGH_INCOME = ("USA", "CAN", "PRI", "BHS", "BRB", "TTO")  # GDP pc PPP above ~$30k in 2010 (WDI)
# Vacancies open to migrants per month, as a share of the sector's employment: hires run at
# roughly 3-4 % of employment a month in the region's labour markets (order of magnitude of
# the US JOLTS hires rate); we assume one hire in eight is open to a foreign-born job
# seeker, i.e. 0.5 %. Only ratios of vacancies to migrant job seekers matter in the model.
VACANCY_RATE = 0.005

# Share of the initial (2010) stock without a regular status, by host (and origin).
IRREGULAR_DEFAULT = 0.2  # LAC hosts: no register-based estimate; a round middle value
IRREGULAR_MERCOSUR = 0.05  # nationals of a Mercosur Residence Agreement member in another member
IRREGULAR = {
    # USA: DHS (Hoefer, Rytina & Baker 2011) estimated 10.8 million unauthorized residents in
    # January 2010, 6.6 million born in Mexico, i.e. about 0.55 of the 12.2 million
    # Mexican-born; Central Americans similar; other origins lower. Figures not in
    # configs/data/: rounded assumptions on that basis.
    "USA": {"default": 0.25, "MEX": 0.55, "GTM": 0.6, "HND": 0.6, "SLV": 0.5, "ECU": 0.4,
            "BRA": 0.4, "PRI": 0.0},
    "CAN": {"default": 0.03},  # small irregular population: assumption
    "PRI": {"default": 0.1, "USA": 0.0, "DOM": 0.3},  # US citizens are regular; DOM: sea route
    "DOM": {"HTI": 0.6},  # most Haitian-born lacked papers before the 2014-15 PNRE: assumption
    "CRI": {"NIC": 0.3},  # assumption
}
DEPORTATION = {  # share of settled irregular migrants removed per month: assumptions
    "USA": 0.001,  # ~1.2 %/yr of ~11 M: the order of interior removals (DHS, 2010s)
    "MEX": 0.002,  # Mexico removes many Central Americans (most at the border: interception)
    "DOM": 0.002,  # repeated Haitian deportation campaigns
}
DEPORTATION_DEFAULT = 0.0003

# Behavioural parameters that are not calibrated (the calibrated ones are in
# configs/calibration/behaviour.yaml). Reasoning in docs/ODD.md.
FIXED_BEHAVIOUR = [
    ("natural_mortality", 0.0005, "per month = 6 per 1000 a year, the order of LAC crude death rates (assumption)"),
    ("return_rate", 0.001, "per month = 1.2 %/yr return hazard of settled migrants (assumption: the stock is mostly long-settled; at 2.4 %/yr the Americas-born stock of the USA fell from 24.0 M to ~14 M by 2022, against its UN DESA growth 20.2 M (2005) -> 23.1 M (2010))"),
    ("return_unemployed_factor", 2.0, "returns double after long unemployment (assumption)"),
    ("return_irregular_factor", 1.5, "irregular migrants return 1.5x as often (assumption)"),
    ("return_crisis_weight", 2.0, "returns fall by exp(-2 x crisis at origin) (assumption)"),
    ("onward_rate", 0.0005, "per month: settled migrants who start to consider moving on (assumption)"),
    ("onward_unemployed_factor", 2.0, "onward moves double after long unemployment, as returns do (assumption)"),
    ("onward_irregular_factor", 1.5, "irregular migrants move on 1.5x as often, as they return (assumption)"),
    ("give_up_months", 12, "aspirants keep trying for a year (assumption)"),
    ("job_separation_rate", 0.02, "per month (assumption: ~2 % monthly separations)"),
    ("long_unemployment_months", 6, "(assumption)"),
    ("irregular_match", 0.6, "irregular job seekers are hired at 0.6x the regular rate (assumption)"),
    ("transit_stay", 0.2, "(assumption)"),
    ("irregular_rate", 0.5, "per month: an aspirant with no pathway sets off irregularly at 0.5 x route feasibility x logistic(gain); (assumption: crossing a land border needs no paperwork, so those who decide go within weeks; 0.15 left most Venezuelans waiting for pathways further away)"),
]

# Crisis (push) indices, 0..1 (0 none, 1 collapse): documented scenario inputs.
#  VEN: the reference collapse. The share of GDP per capita lost since the 2010-2013 peak
#       (Maddison), at mid-year, divided by its largest value (2021: 73.5 % lost), so that
#       the index is 1 at the depth of the collapse; 0 before 2014. Computed below from the data.
#  HTI: ASSUMPTIONS relative to that reference: the earthquake of 2010-01-12, 0.4 falling to 0
#       by 2012-01 (the acute displacement lasted about two years); from 2021-07 (the
#       president's assassination on 2021-07-07, the earthquake of 2021-08-14, gang control)
#       0.3, rising to 0.4 by 2022-07.
#  NIC: ASSUMPTIONS: the repression of the protests from 2018-04, 0.3 from 2018-05, 0.2 in
#       2019-2020, 0.3 again from 2021-11 (the election and new repression).
CRISIS_HTI = {"2009-12": 0.0, "2010-01": 0.4, "2012-01": 0.0, "2021-06": 0.0, "2021-07": 0.3,
              "2022-07": 0.4}
CRISIS_NIC = {"2018-03": 0.0, "2018-05": 0.3, "2018-12": 0.3, "2019-06": 0.2, "2021-10": 0.2,
              "2021-11": 0.3}

# Route edges: [kind, months, cost $, mortality, interception] by kind, unless listed.
# Assumptions (see docs/ODD.md): ordinary land borders are cheap and safe; the risky
# edges carry mortality of the order that the IOM Missing Migrants Project records
# relative to crossings (corrected upwards for under-recording) and interception of the
# order of apprehension shares reported by border agencies.
LAND_DEFAULT = ("land", 1, 100, 0.0, 0.02)
ROUTE_OVERRIDE = {
    "COL-PAN": ("land", 1, 1000, 0.002, 0.05, "the Darien gap: jungle crossing, deaths and robbery"),
    "MEX-USA": ("land", 1, 5000, 0.0005, 0.35, "the US-Mexico border: smuggler fees of thousands of dollars, apprehension"),
    "GTM-MEX": ("land", 1, 1500, 0.0005, 0.15, "Mexico's southern border: enforcement since the 2014 Programa Frontera Sur"),
    "CRI-PAN": ("land", 1, 300, 0.0, 0.05, "Panama and Costa Rica channel the flow north"),
    "CRI-NIC": ("land", 1, 300, 0.0, 0.05, ""),
    "HND-NIC": ("land", 1, 300, 0.0, 0.05, ""),
    "GUY-VEN": ("land", 2, 500, 0.0, 0.1, "no road crosses this border (the Essequibo is disputed): river and bush paths"),
    "CAN-USA": ("land", 1, 500, 0.0, 0.3, "irregular northbound crossings are few; the Safe Third Country Agreement (2004) returns asylum seekers at ports"),
    "GTM-HND": ("land", 1, 300, 0.0, 0.05, ""),
}
SEA_AIR = [  # edge, kind, months, cost, mortality, interception, reason
    ("CUB-USA", "sea", 1, 2000, 0.005, 0.6, "Florida Straits; US Coast Guard interdiction"),
    ("CUB-MEX", "sea", 1, 1500, 0.003, 0.3, "Yucatan Channel"),
    ("DOM-PRI", "sea", 1, 1500, 0.01, 0.3, "the Mona Passage in small boats (yolas)"),
    ("HTI-BHS", "sea", 1, 1000, 0.01, 0.3, "Windward Passage"),
    ("BHS-USA", "sea", 1, 1500, 0.005, 0.4, "to Florida"),
    ("TTO-VEN", "sea", 1, 500, 0.003, 0.3, "Gulf of Paria in small boats; Trinidad's coast guard interdicts and deports"),
    ("BRB-TTO", "sea", 1, 300, 0.0, 0.05, "Eastern Caribbean"),
    ("PRI-USA", "air", 1, 300, 0.0, 0.0, "a domestic US flight"),
    ("JAM-USA", "air", 1, 800, 0.0, 0.2, "entry as a visitor and overstay; refusal at the border"),
    ("HTI-PAN", "air", 1, 800, 0.0, 0.2, "Copa's Panama hub; entry as a visitor"),
    ("DOM-PAN", "air", 1, 800, 0.0, 0.2, "Copa's Panama hub; entry as a visitor"),
    ("CUB-PAN", "air", 1, 800, 0.0, 0.3, "Copa's Panama hub; visa regimes"),
    ("HTI-CHL", "air", 1, 1200, 0.0, 0.05, "visa-free entry to Chile until 2018-04"),
    ("COL-MEX", "air", 1, 800, 0.0, 0.15, "entry to Mexico as a visitor, then north"),
]

# Policy events (dates are facts named in the reason; values are assumptions).
EVENTS = [
    ("2015-08", "route", "COL-VEN", {"interception": 0.15}, "Venezuela closes the border with Colombia (2015-08-19)"),
    ("2016-08", "route", "COL-VEN", {"interception": 0.02}, "the border reopens to pedestrians (2016-08-13)"),
    ("2017-01", "route", "CUB-USA", {"interception": 0.8}, "end of the 'wet foot, dry foot' policy (2017-01-12)"),
    ("2018-04", "route", "HTI-CHL", {"interception": 0.7}, "Chile requires a consular visa of Haitians (2018-04)"),
    ("2019-06", "route", "CHL-PER", {"interception": 0.1}, "Chile's consular visa for Venezuelans (2019-06-22)"),
    ("2019-06", "route", "ECU-PER", {"interception": 0.1}, "Peru's humanitarian visa required of Venezuelans (2019-06-15)"),
    ("2019-08", "route", "COL-ECU", {"interception": 0.1}, "Ecuador's visa for Venezuelans (2019-08-26)"),
    ("2020-03", "route", "COL-VEN", {"interception": 0.3}, "COVID-19 border closure (2020-03-14); crossings go on by informal paths"),
    ("2021-06", "route", "COL-VEN", {"interception": 0.02}, "Colombia reopens the border (2021-06-02)"),
    ("2022-01", "route", "COL-MEX", {"months": 12, "interception": 0.6},
     "Mexico requires visas of Venezuelans (2022-01-21): the air shortcut is effectively shut "
     "(12 months makes the overland route through the Darien the shorter one)"),
]


# ---------------------------------------------------------------------------------------
# Reading the data
# ---------------------------------------------------------------------------------------
def read(name):
    with open(DATA / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load():
    d = {}
    cc = read("countries_capitals_centroids.csv")
    thirty = sorted({r["iso3"] for r in cc if r["core30"] == "True"} | {EXTRA_COUNTRY})
    assert len(thirty) == 30
    d["thirty"] = thirty
    d["lac"] = [c for c in thirty if c not in NORTH]
    d["country"] = {r["iso3"]: r for r in cc}
    d["borders"] = [(r["iso3_a"], r["iso3_b"], int(r["capital_distance_km_greatcircle"]))
                    for r in read("land_borders.csv")]
    d["bilateral"] = read("undesa_stock_bilateral_1990_2010.csv")
    d["totals"] = read("undesa_stock_totals_1990_2010.csv")
    d["wdi"] = read("wdi_drivers_2000_2024.csv")
    d["maddison"] = read("maddison_gdppc_pop_2000_2022.csv")
    d["policies"] = read("policies.csv")
    d["targets"] = read("calibration_targets.csv")
    return d


def wdi_series(d, code):
    out = defaultdict(dict)
    for r in d["wdi"]:
        if r["indicator_code"] == code and r["value"] != "":
            out[r["iso3"]][int(r["year"])] = float(r["value"])
    return out


def gdp_ppp(d):
    """WDI GDP per capita PPP (current int. $); Maddison (2011 int. $) for Venezuela after
    WDI's last year and for Cuba, converted to WDI's units by R(y) = the median over the
    other countries with both series of WDI(y) / Maddison(y) (which carries the drift of
    current international dollars), times Venezuela's own mean WDI / (Maddison x R) over
    the years both exist (Cuba has no WDI PPP year: factor 1)."""
    wdi = wdi_series(d, "NY.GDP.PCAP.PP.CD")
    mad = defaultdict(dict)
    for r in d["maddison"]:
        if r["gdppc_2011intl_ppp"]:
            mad[r["iso3"]][int(r["year"])] = float(r["gdppc_2011intl_ppp"])
    ratio = {}
    for y in range(2000, 2023):
        rs = sorted(wdi[c][y] / mad[c][y] for c in d["thirty"]
                    if c not in ("VEN", "CUB") and y in wdi[c] and y in mad[c])
        n = len(rs)
        ratio[y] = rs[n // 2] if n % 2 else 0.5 * (rs[n // 2 - 1] + rs[n // 2])
    out = {c: dict(wdi[c]) for c in d["thirty"]}
    notes = {}
    for c in ("VEN", "CUB"):
        both = [y for y in mad[c] if y in wdi[c] and y in ratio]
        k = sum(wdi[c][y] / (mad[c][y] * ratio[y]) for y in both) / len(both) if both else 1.0
        last = max(wdi[c]) if wdi[c] else 1999
        for y in range(last + 1, 2023):
            out[c][y] = mad[c][y] * ratio[y] * k
        notes[c] = (last, k)
    return out, ratio, notes


def series_text(points, fmt):
    return "{" + ", ".join(f"{k}: {fmt(v)}" for k, v in points) + "}"


def fmt_int(v):
    return str(int(round(v)))


def fmt_g(v, digits=4):
    s = f"{v:.{digits}g}"
    if "e" in s:
        s = f"{v:.{digits + 6}f}".rstrip("0").rstrip(".")
    return s


def fmt_p(v):  # probabilities and shares
    return fmt_g(round(v, 4), 4)


YEARS = list(range(2009, 2026))  # annual figures placed at mid-year (July)


def annual(series_by_year, years=YEARS, fmt=fmt_int, scale=1.0):
    pts = [(f"{y}-07", series_by_year[y] * scale) for y in years if y in series_by_year]
    return series_text(pts, fmt)


def largest_remainder(total, weights):
    """Split an integer total in proportion to weights, exactly (ties to the first)."""
    s = sum(weights.values())
    raw = {k: total * w / s for k, w in weights.items()}
    base = {k: math.floor(v) for k, v in raw.items()}
    left = total - sum(base.values())
    order = sorted(raw, key=lambda k: (-(raw[k] - base[k]), k))
    for k in order[:left]:
        base[k] += 1
    return base


# ---------------------------------------------------------------------------------------
# Building the scenario
# ---------------------------------------------------------------------------------------
def build(d):
    thirty, lac = d["thirty"], d["lac"]
    lines = []
    w = lines.append

    # --- stocks ---
    bil = defaultdict(int)  # (year, orig, dest) -> persons
    bil_all = defaultdict(int)  # (year, dest) -> persons from every listed origin
    for r in d["bilateral"]:
        y, o, de, v = int(r["year"]), r["orig_iso3"], r["dest_iso3"], int(r["value"])
        if o in thirty:
            bil[(y, o, de)] += v
        bil_all[(y, de)] += v
    tot = {}
    region = {}
    for r in d["totals"]:
        if r["indicator"] != "immigrant_stock_total":
            continue
        if r["iso3"] == "REGION":
            region[(int(r["year"]), r["name"])] = int(r["value"])
        else:
            tot[(int(r["year"]), r["iso3"])] = int(r["value"])
    LAC_NAME = "Latin America and the Caribbean"
    lac_total = region[(2010, LAC_NAME)]
    assert lac_total == 8326588
    inner = {(o, de): bil[(2010, o, de)] for o in thirty for de in thirty if o != de and bil[(2010, o, de)] > 0}
    inner_lac = sum(v for (o, de), v in inner.items() if de in lac)
    other_origin = {de: bil_all[(2010, de)] - sum(v for (o, x), v in inner.items() if x == de) for de in lac}
    unknown = {de: tot[(2010, de)] - bil_all[(2010, de)] for de in lac}
    gap = lac_total - sum(tot[(2010, de)] for de in lac)  # immigrants of LAC entities outside the 30
    n_out = sum(1 for r in d["totals"] if r["year"] == "2010" and r["indicator"] == "immigrant_stock_total"
                and r["region"] == LAC_NAME and r["iso3"] != "REGION" and r["iso3"] not in lac)
    gap_share = largest_remainder(gap, {de: tot[(2010, de)] for de in lac})
    row = {de: other_origin[de] + unknown[de] + gap_share[de] for de in lac}
    assert inner_lac + sum(row.values()) == lac_total
    intra_lac = {y: sum(bil[(y, o, de)] for o in lac for de in lac if o != de) for y in (2005, 2010)}
    row_equiv = {y: region[(y, LAC_NAME)] - sum(bil[(y, o, de)] for o in thirty for de in lac if o != de)
                 for y in (2000, 2005, 2010)}

    # --- drivers ---
    pop = wdi_series(d, "SP.POP.TOTL")
    wa = wdi_series(d, "DERIVED_POP_1564")
    unemp = wdi_series(d, "SL.UEM.TOTL.ZS")
    emp_ratio = wdi_series(d, "SL.EMP.TOTL.SP.ZS")
    young = wdi_series(d, "SP.POP.0014.TO.ZS")
    gdp, ratio, gdp_notes = gdp_ppp(d)
    mad_ven = {int(r["year"]): float(r["gdppc_2011intl_ppp"]) for r in d["maddison"] if r["iso3"] == "VEN"}
    peak = max(mad_ven[y] for y in range(2010, 2014))
    loss = {y: max(0.0, 1.0 - mad_ven[y] / peak) for y in range(2014, 2023)}
    deepest = max(loss.values())
    crisis_ven = [("2013-07", 0.0)] + [(f"{y}-07", loss[y] / deepest) for y in range(2014, 2023)]

    # --- header ---
    w("# migsim default scenario: 30 countries of the Americas, 2010-01 to 2022-12.")
    w("# GENERATED by analysis/build_scenario.py from configs/data/ (`make scenario`); do not edit")
    w("# by hand: change the script or its data and rebuild. Sources of configs/data/ are in")
    w("# configs/data/README.md; every assumption is marked ASSUMPTION here and explained in")
    w("# docs/ODD.md, section \"Scenario: the Americas\".")
    w("#")
    w("# The calibrated behavioural parameters come from the file this one extends")
    w("# (configs/calibration/behaviour.yaml, written by `make calibrate`); the others are below.")
    w("#")
    w("# Countries: the 29 flagged core30 in countries_capitals_centroids.csv plus Puerto Rico, the")
    w("# entity outside them with the largest immigrant stock (304,969 in 2010, UN DESA totals),")
    w("# a destination of the Dominican Republic's sea route, and covered by WDI.")
    w("scenario_format: 1")
    w("extends: calibration/behaviour.yaml")
    w("name: americas")
    w("description: >-")
    w("  Thirty countries of the Americas from UN DESA 2010 stocks and WDI drivers, 2010-01 to")
    w("  2022-12, every migrant an agent; calibrated to the migrant stock of Latin America and the")
    w("  Caribbean (8.3 million in 2010, 16.3 million in 2022).")
    w("start: 2010-01")
    w("end: 2022-12")
    w("seed: 20100101")
    w("people_per_agent: 1")
    w("")

    # --- sectors ---
    w("# Sectors. wage_ratio = monthly wage / (GDP per capita PPP / 12). ASSUMPTION: relative")
    w("# wages of the six sectors (no sector wage data in configs/data/); only ratios between")
    w("# countries of the same sector enter the choice, so the level matters little.")
    w("sectors:")
    for name, ratio_ in SECTORS:
        w(f"  - {{name: {name}, wage_ratio: {ratio_}}}")
    w("")

    # --- countries ---
    w("# Countries. Drivers are annual values placed at mid-year (YYYY-07) and interpolated by")
    w("# month by the engine; constant after the last year. Sources (configs/data/wdi_drivers_2000_2024.csv):")
    w("#   population = SP.POP.TOTL; working_age = DERIVED_POP_1564 (SP.POP.TOTL x SP.POP.1564.TO.ZS);")
    w("#   gdp_pc_ppp = NY.GDP.PCAP.PP.CD (current international $); unemployment = SL.UEM.TOTL.ZS / 100.")
    ven_last, ven_k = gdp_notes["VEN"]
    w(f"#   Venezuela after {ven_last} and Cuba (no WDI PPP): Maddison GDP per capita (2011 int. $,")
    w("#   maddison_gdppc_pop_2000_2022.csv) x R(y), R(y) = median over the other countries of")
    w(f"#   WDI/Maddison in year y; Venezuela's also x {ven_k:.4f} (its mean WDI/(Maddison x R) over the")
    w("#   years both exist). Held at 2022 after 2022.")
    w("#   vacancies (persons/month open to migrants) = 0.005 x employment in the sector, employment =")
    w("#   population x (1 - SP.POP.0014.TO.ZS/100) x SL.EMP.TOTL.SP.ZS/100 x sector share.")
    w("#   ASSUMPTION: 0.005 = one monthly hire in eight (hires run at ~3-4 % of employment a month)")
    w("#   open to foreign-born job seekers.")
    w("#   sector_shares: ASSUMPTION, one vector for middle-income and one for high-income economies.")
    w("#   deportation_rate: ASSUMPTION (per month, of settled irregular migrants).")
    w("#   crisis (0 none .. 1 collapse): Venezuela = share of GDP per capita (Maddison) lost since")
    w(f"#   the 2010-2013 peak ({peak:.0f}), divided by its deepest value ({deepest:.3f}); Haiti 2010")
    w("#   earthquake and 2021 crisis, Nicaragua 2018 repression: ASSUMPTIONS relative to Venezuela's")
    w("#   collapse (docs/ODD.md).")
    w("countries:")
    for c in thirty:
        info = d["country"][c]
        regs = ([] if c in NORTH else ["LAC"]) + [k for k, v in SUBREGION.items() if c in v]
        if c in MERCOSUR_STATES:
            regs.append("Mercosur")
        shares = SHARES_HIGH if c in HIGH_INCOME else SHARES_MIDDLE
        w(f"  - code: {c}")
        w(f"    name: {info['name']}")
        w(f"    language: {LANGUAGE[c]}")
        w(f"    regions: [{', '.join(regs)}]")
        w(f"    capital: [{info['capital_lat']}, {info['capital_lon']}]  # {info['capital']}")
        w(f"    population: {annual(pop[c])}")
        w(f"    working_age: {annual(wa[c])}")
        w(f"    gdp_pc_ppp: {annual({y: v for y, v in gdp[c].items()})}")
        w(f"    unemployment: {annual(unemp[c], fmt=fmt_p, scale=0.01)}")
        if c == "VEN":
            w(f"    crisis: {series_text(crisis_ven, fmt_p)}")
        elif c == "HTI":
            w(f"    crisis: {series_text(CRISIS_HTI.items(), fmt_p)}  # ASSUMPTION")
        elif c == "NIC":
            w(f"    crisis: {series_text(CRISIS_NIC.items(), fmt_p)}  # ASSUMPTION")
        w(f"    sector_shares: {{{', '.join(f'{k}: {v}' for k, v in shares.items())}}}")
        w("    vacancies:")
        for sec, _ in SECTORS:
            emp = {y: pop[c][y] * (1 - young[c][y] / 100) * emp_ratio[c][y] / 100 * shares[sec]
                   for y in YEARS if y in pop[c] and y in young[c] and y in emp_ratio[c]}
            w(f"      {sec}: {annual(emp, scale=VACANCY_RATE)}")
        w(f"    deportation_rate: {DEPORTATION.get(c, DEPORTATION_DEFAULT)}")
    w("")

    # --- routes ---
    w("# Irregular route graph. Land edges: every land border among the 30 in land_borders.csv.")
    w("# Sea and air edges, and every edge's months, cost ($/person), mortality and interception")
    w("# (per crossing): ASSUMPTIONS with the reason beside each (docs/ODD.md). Ordinary land borders:")
    w(f"# {LAND_DEFAULT[1]} month, ${LAND_DEFAULT[2]}, no deaths, {LAND_DEFAULT[4]} interception.")
    w("routes:")
    for a, b, km in d["borders"]:
        if a in thirty and b in thirty:
            e = f"{a}-{b}"
            kind, months, cost, mort, inter, *why = ROUTE_OVERRIDE.get(e, LAND_DEFAULT + ("",))
            note = f"  # {why[0]}" if why and why[0] else ""
            w(f"  - {{edge: {e}, kind: {kind}, months: {months}, cost: {cost}, mortality: {mort}, interception: {inter}}}{note}")
    for e, kind, months, cost, mort, inter, why in SEA_AIR:
        w(f"  - {{edge: {e}, kind: {kind}, months: {months}, cost: {cost}, mortality: {mort}, interception: {inter}}}  # {why}")
    w("")

    # --- pathways ---
    build_pathways(d, w)

    # --- initial stock ---
    w("# Initial stock, 2010-01 = UN DESA International Migrant Stock 2020, mid-2010 bilateral cells")
    w("# among the 30 (undesa_stock_bilateral_1990_2010.csv), persons.")
    w(f"# ROW (rest of the world), in the {len(lac)} LAC locations only, closes each location's UN DESA 2010")
    w("# total and the region's total: ROW = (born outside the 30) + (origin unknown: a location's")
    w(f"# total minus its bilateral cells) + (a share of the {gap:,} immigrants living in the {n_out} LAC")
    w(f"# entities outside the 30, spread over the {len(lac)} in proportion to their 2010 totals, by largest")
    w(f"# remainder, so that the sum is exact). Among the 30 in LAC: {inner_lac:,}; ROW {sum(row.values()):,}")
    w(f"# (born outside the 30 {sum(other_origin.values()):,}; unknown {sum(unknown.values()):,}; outside entities {gap:,});")
    w(f"# LAC total {lac_total:,} = UN DESA's region total.")
    w("# The USA and Canada hold only the stock born in the other 29 countries: their stock born")
    w("# elsewhere (about 20 million in the USA) would add agents, memory and time without touching")
    w("# the LAC target or the Americas' flows (rest-of-world agents do not choose destinations).")
    w("initial_stock:")
    for de in thirty:
        cells = [(o, inner[(o, de)]) for o in thirty if (o, de) in inner]
        if de in row:
            cells.append(("ROW", row[de]))
        w(f"  {de}: {{{', '.join(f'{o}: {v}' for o, v in cells)}}}")
    w("")
    w("# Share of the initial stock without a regular status. ASSUMPTIONS (docs/ODD.md): the US- and")
    w("# Canadian-born in LAC are regular (children of returning citizens, retirees); USA from")
    w("# DHS's January 2010 estimate (10.8 million unauthorized, 6.6 million Mexican-born: ~0.55 of")
    w(f"# the Mexican-born); Mercosur nationals in another member {IRREGULAR_MERCOSUR}; other LAC cells {IRREGULAR_DEFAULT}.")
    w("initial_irregular_share:")
    w(f"  default: {IRREGULAR_DEFAULT}")
    for de in thirty:
        spec = dict(IRREGULAR.get(de, {}))
        if de not in NORTH:
            for o in NORTH:
                spec.setdefault(o, 0.0)
        if de in MERCOSUR_STATES or de in ("BOL", "CHL"):
            for o in MERCOSUR_STATES + ("BOL", "CHL"):
                if o != de and (o, de) in inner and o not in spec:
                    spec[o] = IRREGULAR_MERCOSUR
        spec = {k: v for k, v in spec.items() if k == "default" or (k, de) in inner or (k == "ROW" and de in row)}
        if spec:
            w(f"  {de}: {{{', '.join(f'{k}: {v}' for k, v in spec.items())}}}")
    w("")

    # --- inflows ---
    behaviour = dict((k, v) for k, v, _ in FIXED_BEHAVIOUR)
    w("# Inflows: stocks that the model does not generate by behaviour are held at their 2010 level")
    w("# by a replacement inflow equal to their expected exits at the fixed hazards below:")
    w("# 12 x stock x (natural_mortality + return_rate x (1 + (return_irregular_factor - 1) x irregular")
    w("# share) + deportation_rate x irregular share). Rest of the world in the LAC locations: the")
    w(f"# region's stock born outside the 30 (or unknown) was {row_equiv[2000]:,} (2000), {row_equiv[2005]:,}")
    w(f"# (2005), {row_equiv[2010]:,} (2010) (UN DESA region total minus the bilateral cells among the 30):")
    w("# flat to within 0.4 %/yr, so we hold it flat (ASSUMPTION: no post-2010 data in configs/data/).")
    w("inflows:")
    for de in lac:
        irr = irregular_share(de, "ROW")
        h = hazard(behaviour, irr, DEPORTATION.get(de, DEPORTATION_DEFAULT), onward=False)
        w(f"  - {{origin: ROW, destination: {de}, persons_per_year: {int(round(12 * row[de] * h))}, irregular_share: {irr}}}")
    w("")
    w("# The USA-born in LAC locations (1,131,460 in 2010, 742,050 of them in Mexico, many the")
    w("# children of returning Mexican emigrants) are not generated by the model's behaviour (US")
    w("# working-age people rarely choose a poorer destination): replacement inflow as above, also")
    w("# replacing their onward moves (ASSUMPTION: flat after 2010).")
    for de in lac:
        v = inner.get(("USA", de), 0)
        if v >= 1000:
            irr = irregular_share(de, "USA")
            h = hazard(behaviour, irr, DEPORTATION.get(de, DEPORTATION_DEFAULT), onward=True)
            w(f"  - {{origin: USA, destination: {de}, persons_per_year: {int(round(12 * v * h))}, irregular_share: {irr}}}")
    w("")

    # --- behaviour ---
    w("# Behaviour not calibrated (ASSUMPTIONS, docs/ODD.md); the calibrated parameters are in")
    w("# configs/calibration/behaviour.yaml (extended above).")
    w("behaviour:")
    for k, v, why in FIXED_BEHAVIOUR:
        w(f"  {k}: {v}  # {why}")
    w("")

    # --- events ---
    w("# Policy events (mechanism 9). Dates are the facts named; values are ASSUMPTIONS.")
    w("events:")
    for date, kind, target, values, why in EVENTS:
        vals = ", ".join(f"{k}: {v}" for k, v in values.items())
        w(f"  - {{date: {date}, {kind}: {target}, set: {{{vals}}}, note: \"{why}\"}}")
    return "\n".join(lines) + "\n", {
        "inner_lac": inner_lac, "row": row, "gap": gap, "unknown": unknown, "other_origin": other_origin,
        "intra_lac": intra_lac, "row_equiv": row_equiv, "lac_total": lac_total}


def irregular_share(de, o):
    spec = IRREGULAR.get(de, {})
    if o in spec:
        return spec[o]
    if o in NORTH and de not in NORTH:
        return 0.0
    if o in MERCOSUR_STATES + ("BOL", "CHL") and (de in MERCOSUR_STATES or de in ("BOL", "CHL")):
        return IRREGULAR_MERCOSUR
    return spec.get("default", IRREGULAR_DEFAULT)


def hazard(b, irr, deport, onward):
    h = b["natural_mortality"] + b["return_rate"] * (1 + (b["return_irregular_factor"] - 1) * irr) + deport * irr
    if onward:
        h += b["onward_rate"] * (1 + (b["onward_irregular_factor"] - 1) * irr)
    return h


# ---------------------------------------------------------------------------------------
# Pathways
# ---------------------------------------------------------------------------------------
# The Mercosur Residence Agreement (Acuerdo sobre Residencia para Nacionales de los Estados
# Partes del MERCOSUR, Bolivia y Chile, 2002; in force 2009-07-28 for Argentina, Brazil,
# Paraguay, Uruguay, Bolivia and Chile; later adherents Peru 2011, Colombia 2012, Ecuador
# 2014). Dates from the agreement's record (not in configs/data/): marked as cited facts to
# verify. Venezuela never joined the agreement, but Argentina and Uruguay extend Mercosur
# residence criteria to Venezuelans (Argentina's Ley 25.871 nationality criterion; Uruguay's
# Ley 19.254 of 2014): ASSUMPTION as to the dates 2010-01 and 2014-09.
MERCOSUR_JOIN = {"ARG": "2010-01", "BRA": "2010-01", "PRY": "2010-01", "URY": "2010-01",
                 "BOL": "2010-01", "CHL": "2010-01", "PER": "2011-06", "COL": "2012-07", "ECU": "2014-06"}


def build_pathways(d, w):
    pol = {r["programme"]: r for r in d["policies"]}
    w("# Pathways (mechanism 4). Each is cited (configs/data/policies.csv or the named law) or marked")
    w("# ASSUMPTION. take_up (regularisations) and processing months are ASSUMPTIONS; a regularisation")
    w("# has no processing months (admitted applicants become regular in the month of the decision).")
    w("pathways:")
    # Mercosur residence: one pathway per destination and accession month of the origins.
    w("  # Mercosur Residence Agreement (2002; in force 2009-07-28 for ARG BRA PRY URY BOL CHL; Peru")
    w("  # 2011, Colombia 2012, Ecuador 2014: dates of adhesion from the agreement's record, to verify).")
    w("  # Free movement: no cap, residence on request; one pathway per destination and accession month.")
    members = sorted(MERCOSUR_JOIN)
    for de in members:
        groups = defaultdict(list)
        for o in members:
            if o != de:
                groups[max(MERCOSUR_JOIN[o], MERCOSUR_JOIN[de])].append(o)
        for open_, origins in sorted(groups.items()):
            w(f"  - {{name: {de.lower()}-mercosur-{open_.replace('-', '')}, country: {de}, kind: free_movement, "
              f"origins: [{', '.join(origins)}], processing_months: 1, cost: 100, open: {open_}, applies_from: both}}")
    w("  # Venezuelans under Mercosur residence criteria in Argentina (Ley 25.871) and Uruguay (Ley")
    w("  # 19.254, 2014): ASSUMPTION as to the opening months.")
    w("  - {name: arg-mercosur-criteria-ven, country: ARG, kind: free_movement, origins: [VEN], processing_months: 2, cost: 200, open: 2010-01, applies_from: both}")
    w("  - {name: ury-ley19254-ven, country: URY, kind: free_movement, origins: [VEN], processing_months: 2, cost: 200, open: 2014-09, applies_from: both}")
    w("  # Puerto Ricans are US citizens (Jones-Shafroth Act, 1917): free movement both ways.")
    w("  - {name: usa-pri-citizens, country: USA, kind: free_movement, origins: [PRI], processing_months: 0, cost: 300, applies_from: both}")
    w("  - {name: pri-usa-citizens, country: PRI, kind: free_movement, origins: [USA], processing_months: 0, cost: 300, applies_from: both}")
    w("  # CARICOM free movement of skilled nationals (CSME, Revised Treaty of Chaguaramas, 2001;")
    w("  # skills certificates from 2006): high-skill sector only (ASSUMPTION: the skilled categories")
    w("  # stand for the high_skill sector).")
    csme = ("BLZ", "BRB", "GUY", "JAM", "SUR", "TTO")
    for de in csme:
        origins = [o for o in csme if o != de]
        w(f"  - {{name: {de.lower()}-csme-skills, country: {de}, kind: free_movement, origins: [{', '.join(origins)}], "
          f"sectors: [high_skill], processing_months: 2, cost: 300, applies_from: both}}")
    w("  # Labour visas. US H-2A (agriculture, no statutory cap) and H-2B (other seasonal work, statutory")
    w("  # cap 66,000 a fiscal year: INA 214(g)(1)(B)); Canada's Seasonal Agricultural Worker Program")
    w("  # (Mexico and the Commonwealth Caribbean). Monthly quotas: ASSUMPTIONS of the order of the")
    w("  # visas issued (US Department of State, Report of the Visa Office: H-2A ~56,000 in FY2010 rising")
    w("  # to ~300,000 in FY2022, resized by events below; SAWP ~26,000 a year), not in configs/data/.")
    w("  # The engine has no temporary stay: seasonal workers settle and leave at the ordinary return")
    w("  # hazard, so these pathways overstate the settled stock they add in the USA and Canada.")
    w("  - {name: usa-h2a, country: USA, kind: labour_visa, origins: [MEX, GTM, HND, SLV, JAM, PER, NIC], sectors: [agriculture], quota: 4700, processing_months: 3, cost: 500}")
    w("  - {name: usa-h2b, country: USA, kind: labour_visa, origins: [MEX, JAM, GTM, HND, SLV, CRI, DOM, BRA], sectors: [construction, services, care], quota: 5500, processing_months: 4, cost: 800}")
    w("  - {name: can-sawp, country: CAN, kind: labour_visa, origins: [MEX, JAM, TTO, BRB, GTM], sectors: [agriculture], quota: 2200, processing_months: 3, cost: 500}")

    # Humanitarian / facilitated entry.
    r = pol["Operacao Acolhida (interiorisation)"]
    w(f"  # Brazil: {r['programme']} from {r['start']} (policies.csv: {r['cap_note']}); with it, Brazil's")
    w("  # temporary residence for Venezuelans (Portaria Interministerial 9/2018): an uncapped")
    w("  # humanitarian visa applied for at the border or inside (ASSUMPTION: modelled this way).")
    w(f"  - {{name: bra-acolhida-ven, country: BRA, kind: humanitarian_visa, origins: [VEN], processing_months: 1, cost: 0, open: {r['start']}, applies_from: both}}")
    w("  # Brazil's humanitarian visa for Haitians (Resolucao Normativa CNIg 97/2012, 2012-01; cap of")
    w("  # 1,200 a year lifted 2013-04): quota 100 a month, then none (event below).")
    w("  - {name: bra-humanitarian-hti, country: BRA, kind: humanitarian_visa, origins: [HTI], quota: 100, processing_months: 2, cost: 200, open: 2012-01}")
    w("  # Chile's Visa de Responsabilidad Democratica for Venezuelans (2018-04, applied for at")
    w("  # consulates): no published cap; processing 3 months (ASSUMPTION).")
    w("  - {name: chl-vrd-ven, country: CHL, kind: humanitarian_visa, origins: [VEN], processing_months: 3, cost: 100, open: 2018-04}")
    r = pol["Venezuela parole (first phase)"]
    w(f"  # USA: {r['programme']}, {r['start']} to {r['end']}: {r['cap_per_month']} slots \"initially available\"")
    w("  # (policies.csv); spread over its three months: 8,000 a month (ASSUMPTION). Needs a US-based")
    w("  # financial supporter: private sponsorship.")
    w(f"  - {{name: usa-parole-ven, country: USA, kind: private_sponsorship, origins: [VEN], quota: 8000, processing_months: 1, cost: 500, open: {r['start']}, close: {r['end']}}}")
    r = pol["CHNV parole"]
    w(f"  # USA: {r['programme']}, {r['start']} to {r['end']} (ended 2025-01-20), {r['cap_per_month']} a month for")
    w("  # the four nationalities combined (policies.csv). After this scenario's end; the 2030 policy")
    w("  # scenarios run it.")
    w(f"  - {{name: usa-chnv-parole, country: USA, kind: private_sponsorship, origins: [{r['eligible_origins_iso3'].replace(';', ', ')}], "
      f"quota: {r['cap_per_month']}, processing_months: 1, cost: 500, open: {r['start']}, close: {r['end']}}}")

    # Regularisations.
    w("  # Regularisations (mechanism 7). Windows from policies.csv; presence dates are the programmes'")
    w("  # published cut-offs (not in configs/data/: to verify); no monthly caps were published, so")
    w("  # none is set; take_up (monthly share of the eligible who apply) ASSUMPTION 0.1.")
    r = pol["Temporary Stay Permit (PTP)"]
    w(f"  - {{name: per-ptp, country: PER, kind: regularisation, origins: [VEN], open: {r['start']}, close: {r['end']}, "
      "presence_before: 2018-11, take_up: 0.1}  # entries up to 2018-10-31")
    r = pol["Extraordinary regularisation"]
    w(f"  - {{name: chl-regularisation-2018, country: CHL, kind: regularisation, origins: all, open: {r['start']}, close: {r['end']}, "
      "presence_before: 2018-04, take_up: 0.1}  # in Chile by 2018-04-08")
    r = pol["Temporary Protection Statute (ETPV/PPT)"]
    w(f"  - {{name: col-etpv, country: COL, kind: regularisation, origins: [VEN], open: {r['start']}, "
      "presence_before: 2021-02, take_up: 0.1}  # present on 2021-01-31; no end date in policies.csv")
    w("  # Colombia's Permiso Especial de Permanencia (PEP, Resolucion 5797 of 2017-07; several rounds")
    w("  # to 2020) and the Dominican Republic's Plan Nacional de Regularizacion de Extranjeros")
    w("  # (2014-06 to 2015-06, presence before 2011-10): not in policies.csv (cited, to verify).")
    w("  - {name: col-pep, country: COL, kind: regularisation, origins: [VEN], open: 2017-08, close: 2020-12, presence_before: 2018-12, take_up: 0.1}")
    w("  - {name: dom-pnre, country: DOM, kind: regularisation, origins: all, open: 2014-06, close: 2015-06, presence_before: 2011-10, take_up: 0.1}")
    w("")


# Pathway events: appended to EVENTS (quota changes of the labour visas, Brazil's cap lifted).
H2A_MONTHLY = {  # ASSUMPTION: visas issued a fiscal year / 12, rounded (DOS Report of the Visa Office)
    "2012-10": 5500, "2013-10": 6200, "2014-10": 7400, "2015-10": 9000, "2016-10": 11200,
    "2017-10": 13500, "2018-10": 16400, "2019-10": 17100, "2020-10": 17800, "2021-10": 21500}
EVENTS += [(m, "pathway", "usa-h2a", {"quota": q}, "H-2A visas issued grow (ASSUMPTION: order of DOS figures)")
           for m, q in H2A_MONTHLY.items()]
EVENTS += [("2013-04", "pathway", "bra-humanitarian-hti", {"quota": "none"}, "Brazil lifts the cap on humanitarian visas for Haitians (2013-04)")]
EVENTS.sort(key=lambda e: e[0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=str(ROOT / "configs" / "americas.yaml"))
    ap.add_argument("--check", action="store_true", help="exit 1 if the output file differs")
    ap.add_argument("--facts", action="store_true", help="print the derived stock figures")
    a = ap.parse_args(argv)
    text, facts = build(load())
    if a.facts:
        for k, v in facts.items():
            print(k, v)
    out = Path(a.output)
    if a.check:
        same = out.exists() and out.read_text(encoding="utf-8") == text
        print(f"{out}: {'up to date' if same else 'DIFFERS from a rebuild'}")
        return 0 if same else 1
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
