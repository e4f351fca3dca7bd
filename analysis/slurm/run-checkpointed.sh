#!/usr/bin/env bash
# One long `migsim run` that survives time limits: Slurm warns the batch shell with SIGUSR1
# before the limit, migsim writes a checkpoint and exits 3, and the job requeues itself; the
# next start resumes from the checkpoint (docs/hpc.md). The final output equals an
# uninterrupted run's.
#
#   sbatch analysis/slurm/run-checkpointed.sh SCENARIO.yaml OUTPUT.h5 [migsim run options]
#
# The checkpoint is OUTPUT.h5.ckpt (removed when the run completes). Set MIGSIM to the
# binary if it is not on PATH; adjust --time and the warning (B:USR1@SECONDS) to the queue.
#SBATCH --job-name=migsim-run
#SBATCH --cpus-per-task=2
#SBATCH --time=04:00:00
#SBATCH --signal=B:USR1@300
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=slurm-%j.out
set -uo pipefail
if [ $# -lt 2 ]; then
  echo "usage: sbatch analysis/slurm/run-checkpointed.sh SCENARIO.yaml OUTPUT.h5 [migsim run options]" >&2
  exit 2
fi
scenario=$1 output=$2
shift 2
migsim=${MIGSIM:-migsim}
ckpt="$output.ckpt"
threads=(--threads "${SLURM_CPUS_PER_TASK:-1}")
if [ -f "$ckpt" ]; then
  echo "== $(date -u +%FT%TZ) resuming from $ckpt (restart ${SLURM_RESTART_COUNT:-0})"
  "$migsim" run --resume "$ckpt" "${threads[@]}" &
else
  "$migsim" run "$scenario" -o "$output" --checkpoint "$ckpt" "${threads[@]}" "$@" &
fi
pid=$!
trap 'echo "== $(date -u +%FT%TZ) time limit near: asking migsim for a checkpoint"; kill -USR1 $pid' USR1
wait $pid
rc=$?
while [ $rc -gt 128 ] && kill -0 $pid 2>/dev/null; do  # wait was interrupted by the trap
  wait $pid
  rc=$?
done
if [ $rc -eq 3 ]; then
  echo "== $(date -u +%FT%TZ) checkpoint written; requeueing job $SLURM_JOB_ID"
  scontrol requeue "$SLURM_JOB_ID"
fi
exit $rc
