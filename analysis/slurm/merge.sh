#!/usr/bin/env bash
# Joins the member files of a job array into the ensemble file (docs/hpc.md); submitted by
# submit-sweep.sh to run after every task of the array has ended (afterany: failed members
# are recorded, not lost).
#SBATCH --job-name=migsim-merge
#SBATCH --cpus-per-task=1
#SBATCH --time=00:30:00
#SBATCH --output=slurm-%j-merge.out
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: sbatch analysis/slurm/merge.sh OUT_DIR ENSEMBLE.h5" >&2
  exit 2
fi
exec "${MIGSIM:-migsim}" merge "$1" -o "$2" --force
