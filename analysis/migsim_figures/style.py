"""One look for every figure: sizes, fonts, the colour-blind-safe palette, footer, saving."""
from __future__ import annotations

import os

import numpy as np

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.textpath import TextToPath  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

_TEXT_TO_PATH = TextToPath()

#: A journal/brief column: 89 mm. Figures are drawn at this size so 7 pt text stays 7 pt.
COLUMN_IN = 3.5
DPI = 300

#: Okabe & Ito (2008), distinguishable with every common colour-vision deficiency. Yellow is
#: left out: it vanishes on white paper.
OKABE_ITO = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "green": "#009E73",
    "orange": "#E69F00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "black": "#000000",
}
PALETTE = list(OKABE_ITO.values())
GREY = "#8C8C8C"
LIGHT_GREY = "#D9D9D9"

#: Fixed colours for arrival kinds, so a kind has the same colour in every figure.
KIND_COLOURS = {
    "labour_visa": OKABE_ITO["blue"],
    "humanitarian_visa": OKABE_ITO["orange"],
    "private_sponsorship": OKABE_ITO["purple"],
    "family_reunification": OKABE_ITO["green"],
    "free_movement": OKABE_ITO["sky"],
    "regularisation": OKABE_ITO["black"],
    "irregular": OKABE_ITO["vermillion"],
    "other": GREY,
}
KIND_LABELS = {
    "labour_visa": "Labour visa",
    "humanitarian_visa": "Humanitarian visa",
    "private_sponsorship": "Private sponsorship",
    "family_reunification": "Family reunification",
    "free_movement": "Free movement",
    "regularisation": "Regularisation",
    "irregular": "Irregular",
    "other": "Other (no pathway)",
}

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 7,
    "axes.titlesize": 7.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 7,
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#E6E6E6",
    "grid.linewidth": 0.5,
    "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "legend.fontsize": 6.5,
    "legend.frameon": False,
    "legend.handlelength": 1.6,
    "lines.linewidth": 1.2,
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "svg.fonttype": "none",  # text stays text in the SVG, editable by a designer
    "pdf.fonttype": 42,
}


def apply() -> None:
    plt.rcParams.update(RC)


def new_figure(height_in: float, nrows: int = 1, ncols: int = 1, width_in: float = COLUMN_IN, **kw):
    """A constrained-layout figure of a column's width with room for the footer."""
    apply()
    fig, axes = plt.subplots(nrows, ncols, figsize=(width_in, height_in), layout="constrained", **kw)
    fig.get_layout_engine().set(h_pad=0.03, w_pad=0.03)
    return fig, axes


def text_width_pt(text: str, fontsize: float, weight: str = "normal") -> float:
    prop = FontProperties(family=RC["font.family"], size=fontsize, weight=weight)
    return _TEXT_TO_PATH.get_text_width_height_descent(text, prop, ismath=False)[0]


def _wrap(text: str, fontsize: float, width_in: float, weight: str = "normal") -> list[str]:
    """Greedy word wrap to a width, measuring the text with the figure's font."""
    limit = width_in * 72
    out = []
    for para in text.split("\n"):
        line = ""
        for word in para.split(" "):
            trial = f"{line} {word}" if line else word
            if line and text_width_pt(trial, fontsize, weight) > limit:
                out.append(line)
                line = word
            else:
                line = trial
        out.append(line)
    return out


def title(fig, text: str) -> None:
    """The figure's title (its subject), left-aligned above everything, wrapped to the width."""
    fig.suptitle("\n".join(_wrap(text, 8.5, fig.get_figwidth() - 0.12, "bold")), x=0.01, ha="left",
                 fontsize=8.5, fontweight="bold", linespacing=1.15)


def footer(fig, lines: list[str]) -> None:
    """Small grey provenance lines at the bottom (scenario, seeds, version, file).

    Long lines are wrapped, and the layout keeps exactly the footer's height free.
    """
    size = 5.2
    wrapped = [w for line in lines for w in _wrap(line, size, fig.get_figwidth() - 0.12)]
    h = fig.get_figheight()
    fig.text(0.01, 0.04 / h, "\n".join(wrapped), ha="left", va="bottom", fontsize=size,
             color="#595959", linespacing=1.25)
    foot = (0.08 + len(wrapped) * size * 1.25 / 72) / h
    fig.get_layout_engine().set(rect=(0, foot, 1, 1 - foot))


def scale_of(vmax: float) -> tuple[float, str]:
    """A divisor and its name so tick labels stay short: (1e6, 'millions of persons')."""
    if vmax >= 2e6:
        return 1e6, "millions of persons"
    if vmax >= 2e3:
        return 1e3, "thousands of persons"
    return 1.0, "persons"


def persons_axis(ax, vmax: float, per: str = "", axis: str = "y", what: str | None = None) -> float:
    """Label an axis in persons ('Thousands of\npersons per year') and divide its ticks to match.

    `what` replaces 'persons' (e.g. 'migrants'); `per` is appended ('per year').
    """
    div, _unit = scale_of(abs(vmax))
    noun = what or "persons"
    tail = f" {per}" if per else ""
    if div == 1:
        label = f"{noun.capitalize()}{tail}"
    else:
        sep = "\n" if axis == "y" else " "
        label = f"{'Millions' if div == 1e6 else 'Thousands'} of{sep}{noun}{tail}"
    locator = MaxNLocator(nbins=5, steps=[1, 2, 5, 10], min_n_ticks=3)
    fmt = FuncFormatter(lambda v, _pos: _tick_text(v / div, locator, div))
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(fmt)
    target.set_major_locator(locator)
    (ax.set_ylabel if axis == "y" else ax.set_xlabel)(label)
    ax._persons_axis = {"per": per, "axis": axis, "what": what}  # for figures.harmonise
    return div


def _tick_text(x: float, locator: MaxNLocator, div: float) -> str:
    """A tick value with as many decimals as the tick spacing needs (0.5 -> 1 decimal)."""
    ticks = locator()
    step = abs(ticks[1] - ticks[0]) / div if len(ticks) > 1 else 1.0
    decimals = 0 if step >= 1 else min(3, int(np.ceil(-np.log10(step) - 1e-9)))
    return f"{x:,.{decimals}f}".replace("-", "\u2212")


def fmt_persons(v: float) -> str:
    """Short and exact enough: 3,400 stays '3,400'; 45,600 -> '45.6k'; 12,345,678 -> '12.3M'."""
    a = abs(v)
    if a < 1e4:
        return f"{v:,.0f}".replace("-", "\u2212")
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if a >= div:
            x = v / div
            digits = 0 if abs(x) >= 100 else 1 if abs(x) >= 10 else 2
            return f"{x:.{digits}f}{suffix}".replace("-", "\u2212")


def fmt_tick(v: float) -> str:
    """Round tick values without trailing zeros: 10000 -> '10k', 1e6 -> '1M', 2.5e6 -> '2.5M'."""
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:g}{suffix}"
    return f"{v:g}"


def save(fig, df, outdir: str, name: str, formats=("png", "svg")) -> list[str]:
    """Write name.png (300 dpi), name.svg and name.csv (the plotted data) into outdir."""
    os.makedirs(outdir, exist_ok=True)
    paths = []
    for ext in formats:
        path = os.path.join(outdir, f"{name}.{ext}")
        fig.savefig(path, dpi=DPI, metadata=None if ext != "png" else {"Software": None})
        paths.append(path)
    csv = os.path.join(outdir, f"{name}.csv")
    df.to_csv(csv, index=False, float_format="%.10g")
    paths.append(csv)
    plt.close(fig)
    return paths
