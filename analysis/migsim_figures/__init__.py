"""Figures and briefs from migsim output files (single runs, ensembles, comparisons).

Run as ``/usr/bin/python3 -m migsim_figures figures FILE`` (with ``analysis/`` on
PYTHONPATH); see docs/figures.md.
"""
from .load import Experiment, FileError, Source, open_source

__all__ = ["Experiment", "FileError", "Source", "open_source"]
