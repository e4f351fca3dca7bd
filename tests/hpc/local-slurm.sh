#!/usr/bin/env bash
# A single-node Slurm on this host, for the HPC tests and CI (Debian's slurm-wlm and munge,
# run as root): `start` writes /etc/slurm/slurm.conf for this host, starts munged,
# slurmctld and slurmd unless they are running, and waits until the node is idle;
# `stop` stops the daemons this script started (by their pid files); `status` says
# whether sbatch can be used. Exit status of start: 0 ready, 1 could not start (the
# reason on stderr).
set -uo pipefail
STATE=/run/migsim-local-slurm   # pid files of the daemons this script started
cmd=${1:-status}

ready() { sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; }

start() {
  if ready; then echo "local-slurm: already running"; return 0; fi
  for b in munged slurmctld slurmd sbatch sinfo; do
    command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || { echo "local-slurm: $b is not installed (apt-get install slurm-wlm munge)" >&2; return 1; }
  done
  if [ "$(id -u)" -ne 0 ]; then echo "local-slurm: starting the daemons needs root" >&2; return 1; fi
  mkdir -p "$STATE" /run/munge /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /var/log/munge /var/lib/munge /etc/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 2>/dev/null
    chmod 400 /etc/munge/munge.key
  fi
  chown -R munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
  if ! pgrep -x munged >/dev/null; then
    runuser -u munge -- /usr/sbin/munged --force || { echo "local-slurm: munged did not start" >&2; return 1; }
    echo munged > "$STATE/munged"
  fi
  local host; host=$(hostname)
  cat > /etc/slurm/slurm.conf <<CONF
# Written by migsim's tests/hpc/local-slurm.sh: a single-node cluster on this host.
ClusterName=local
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/spool/slurmctld
SlurmUser=root
JobAcctGatherType=jobacct_gather/none
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$host CPUs=$(nproc) RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  if [ ! -s /run/slurmctld.pid ] || ! kill -0 "$(cat /run/slurmctld.pid)" 2>/dev/null; then
    slurmctld || { echo "local-slurm: slurmctld did not start (see /var/log/slurm/slurmctld.log)" >&2; return 1; }
    echo slurmctld > "$STATE/slurmctld"
  fi
  if [ ! -s /run/slurmd.pid ] || ! kill -0 "$(cat /run/slurmd.pid)" 2>/dev/null; then
    slurmd || { echo "local-slurm: slurmd did not start (see /var/log/slurm/slurmd.log)" >&2; return 1; }
    echo slurmd > "$STATE/slurmd"
  fi
  for _ in $(seq 1 60); do
    if ready; then echo "local-slurm: node $(hostname) ready"; return 0; fi
    scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
    sleep 1
  done
  echo "local-slurm: the node did not become idle in 60 s: $(sinfo 2>&1 | tail -1)" >&2
  return 1
}

stop_pidfile() {  # name pidfile
  [ -s "$2" ] || return 0
  local pid; pid=$(cat "$2")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  [ -f "$STATE/slurmd" ] && stop_pidfile slurmd /run/slurmd.pid && rm -f "$STATE/slurmd"
  [ -f "$STATE/slurmctld" ] && stop_pidfile slurmctld /run/slurmctld.pid && rm -f "$STATE/slurmctld"
  if [ -f "$STATE/munged" ]; then
    stop_pidfile munged /run/munge/munged.pid
    rm -f "$STATE/munged"
  fi
  return 0
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) if ready; then echo "local-slurm: ready"; else echo "local-slurm: not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
