#!/usr/bin/env bash
# One member of a migsim experiment per task of a Slurm job array (docs/hpc.md).
#
#   n=$(migsim sweep EXPERIMENT.yaml --count)
#   sbatch --array=0-$((n - 1)) analysis/slurm/sweep-array.sh EXPERIMENT.yaml OUT_DIR
#   ... then: migsim merge OUT_DIR -o ENSEMBLE.h5   (or use submit-sweep.sh for both)
#
# Each task writes OUT_DIR/member-KKKKK.h5 (written to a temporary name and renamed when
# complete, so a killed task never leaves a file that looks finished). A member that fails
# still writes its file, marked member_ok = 0, and the task exits 1; merge records it.
# Set MIGSIM to the migsim binary if it is not on PATH.
#SBATCH --job-name=migsim-member
#SBATCH --cpus-per-task=1
#SBATCH --time=02:00:00
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: sbatch --array=0-N analysis/slurm/sweep-array.sh EXPERIMENT.yaml OUT_DIR" >&2
  exit 2
fi
experiment=$1
out_dir=$2
migsim=${MIGSIM:-migsim}
k=${SLURM_ARRAY_TASK_ID:?"run this script as a job array (sbatch --array=0-N)"}
mkdir -p "$out_dir"
exec "$migsim" sweep "$experiment" --member "$k" --threads "${SLURM_CPUS_PER_TASK:-1}" --force --quiet \
  -o "$out_dir/$(printf 'member-%05d.h5' "$k")"
