"""Command line: `figures FILE [-o DIR]` and `brief BASE [POLICY] [-o PDF]`."""
from __future__ import annotations

import argparse
import sys
import time

from .load import FileError, open_source


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="migsim_figures", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    f = sub.add_parser("figures", help="every figure of one output file (run, ensemble or comparison)")
    f.add_argument("file")
    f.add_argument("-o", "--outdir", default="outputs/figures")
    f.add_argument("--only", nargs="+", metavar="NAME", help="only these figures (by file name)")
    f.add_argument("--format", default="png,svg", help="comma-separated: png, svg, pdf (default png,svg)")
    b = sub.add_parser("brief", help="a short PDF comparing two scenarios")
    b.add_argument("base", help="baseline output file (or a comparison/ensemble file holding both)")
    b.add_argument("policy", nargs="?", help="policy output file (omit when BASE holds both)")
    b.add_argument("-o", "--output", default="outputs/brief.pdf")
    b.add_argument("--base-label", help="which scenario of BASE is the baseline (default: the first)")
    b.add_argument("--country", help="also give this country's headline numbers (a location code, e.g. USA)")
    b.add_argument("--policy-label", help="which scenario of POLICY (or BASE) is the policy "
                                         "(default: the first of POLICY, or the second of BASE)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        if args.command == "figures":
            from .figures import make_figures
            written = make_figures(open_source(args.file), args.outdir, args.only,
                                   tuple(x.strip() for x in args.format.split(",") if x.strip()))
            print(f"{len(written)} files in {args.outdir} ({time.perf_counter() - t0:.1f} s)")
        else:
            from .brief import make_brief
            pages = make_brief(args.base, args.policy, args.output, args.base_label, args.policy_label,
                               country=args.country)
            print(f"wrote {args.output} ({pages} pages, {time.perf_counter() - t0:.1f} s)")
    except (FileError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
