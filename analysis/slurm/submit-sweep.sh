#!/usr/bin/env bash
# Submits a whole experiment to Slurm: a job array with one task per member, then a merge
# job that runs when the array has ended. Prints the two job ids.
#
#   analysis/slurm/submit-sweep.sh EXPERIMENT.yaml OUT_DIR ENSEMBLE.h5 [extra sbatch options]
#
# Extra options go to both jobs (for example --partition=short --account=proj). Add
# --wait to block until the merge is done.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 EXPERIMENT.yaml OUT_DIR ENSEMBLE.h5 [sbatch options]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
experiment=$1 out_dir=$2 ensemble=$3
shift 3
migsim=${MIGSIM:-migsim}
n=$("$migsim" sweep "$experiment" --count)
mkdir -p "$out_dir"
wait_flag=()
opts=()
for o in "$@"; do
  if [ "$o" = "--wait" ]; then wait_flag=(--wait); else opts+=("$o"); fi
done
array=$(sbatch --parsable "${opts[@]}" --array=0-$((n - 1)) --output="$out_dir/slurm-%A_%a.out" \
  "$here/sweep-array.sh" "$experiment" "$out_dir")
array=${array%%;*}
merge=$(sbatch --parsable "${opts[@]}" "${wait_flag[@]}" --dependency=afterany:"$array" \
  --output="$out_dir/slurm-%j-merge.out" "$here/merge.sh" "$out_dir" "$ensemble")
echo "members: job array $array ($n tasks); merge: job ${merge%%;*}"
