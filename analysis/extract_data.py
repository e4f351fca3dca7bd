#!/usr/bin/python3
"""Copy the rows of ../shared/data that the Americas scenario uses into configs/data/.

Rows are copied verbatim (same columns, same values, same source column); only rows are
filtered, so that the project carries a few hundred kilobytes instead of 17 MB. Rerun with
`/usr/bin/python3 analysis/extract_data.py [SHARED_DATA_DIR]`; the output is deterministic.
What each filter keeps is written in configs/data/README.md.
"""
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "configs" / "data"
SRC = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
if not SRC.is_dir():
    SRC = Path("/work/shared/data")

# The 29 countries flagged core30 in countries_capitals_centroids.csv, plus Puerto Rico
# (see configs/data/README.md for why).
THIRTY = None

WDI_CODES = {
    "SP.POP.TOTL", "DERIVED_POP_1564", "NY.GDP.PCAP.PP.CD", "SL.UEM.TOTL.ZS",
    "SL.EMP.TOTL.SP.ZS", "SP.POP.0014.TO.ZS", "FP.CPI.TOTL.ZG", "NY.GDP.PCAP.KD.ZG",
}


def rows(name):
    with open(SRC / name, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        header = next(r)
        return header, list(r)


def write(name, header, data):
    with open(OUT / name, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(data)
    print(f"{name}: {len(data)} rows")


def main():
    global THIRTY
    OUT.mkdir(parents=True, exist_ok=True)
    h, d = rows("countries_capitals_centroids.csv")
    core = h.index("core30")
    THIRTY = sorted({r[0] for r in d if r[core] == "True"} | {"PRI"})
    assert len(THIRTY) == 30, THIRTY
    write("countries_capitals_centroids.csv", h, d)  # small: kept whole
    for name in ("land_borders.csv", "policies.csv", "calibration_targets.csv"):
        write(name, *rows(name))

    # UN DESA bilateral stock: rows with both ends among the 30 (all years), and rows with
    # a destination among the 30 from any origin in 2005 and 2010 (to split each
    # destination's total into origins among the 30, other origins and unknown origin).
    h, d = rows("undesa_stock_bilateral_1990_2010.csv")
    o, de, y = h.index("orig_iso3"), h.index("dest_iso3"), h.index("year")
    write("undesa_stock_bilateral_1990_2010.csv", h,
          [r for r in d if r[de] in THIRTY and (r[o] in THIRTY or r[y] in ("2005", "2010"))])
    # UN DESA totals: kept whole (the region rows and every territory's total are used).
    write("undesa_stock_totals_1990_2010.csv", *rows("undesa_stock_totals_1990_2010.csv"))
    # Abel & Cohen flows: both ends among the 30.
    h, d = rows("abel_cohen_flows_1990_2010.csv")
    o, de = h.index("orig_iso3"), h.index("dest_iso3")
    write("abel_cohen_flows_1990_2010.csv", h, [r for r in d if r[de] in THIRTY and r[o] in THIRTY])
    # WDI: the 30, the indicators the scenario uses.
    h, d = rows("wdi_drivers_2000_2024.csv")
    i, c = h.index("iso3"), h.index("indicator_code")
    write("wdi_drivers_2000_2024.csv", h, [r for r in d if r[i] in THIRTY and r[c] in WDI_CODES])
    # Maddison: the 30.
    h, d = rows("maddison_gdppc_pop_2000_2022.csv")
    write("maddison_gdppc_pop_2000_2022.csv", h, [r for r in d if r[0] in THIRTY])
    # CEPII: pairs among the 30.
    h, d = rows("cepii_distances.csv")
    write("cepii_distances.csv", h, [r for r in d if r[0] in THIRTY and r[1] in THIRTY])


if __name__ == "__main__":
    main()
