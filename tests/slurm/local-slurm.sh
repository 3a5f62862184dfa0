#!/usr/bin/env bash
# Starts (or finds running) a single-node Slurm cluster on this machine for the
# sweep backend's test: munged, slurmctld and slurmd from Debian's packages
# (munge, slurmctld, slurmd, slurm-client), as root, with a minimal slurm.conf
# in its own folder. Prints the slurm.conf path on success (export SLURM_CONF
# to use it); exits non-zero with the reason on stderr if Slurm cannot start.
#   tests/slurm/local-slurm.sh [DIR]    (default DIR: /tmp/bitcycle-slurm)
set -euo pipefail
DIR="${1:-/tmp/bitcycle-slurm}"
CONF="$DIR/slurm.conf"
export SLURM_CONF="$CONF"
fail() { echo "local-slurm: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (it starts munged, slurmctld and slurmd)"
for b in munged slurmctld slurmd sbatch scontrol sinfo; do
  command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] || fail "$b not installed (Debian: munge slurmctld slurmd slurm-client)"
done

# Already up (an earlier test run): reuse it.
if [ -f "$CONF" ] && scontrol ping 2>/dev/null | grep -q "is UP" &&
   sinfo -h -o %T 2>/dev/null | grep -qE "idle|mixed|allocated"; then
  echo "$CONF"; exit 0
fi

mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
HOST="$(hostname -s)"
CPUS="$(nproc)"
MEM_MB="$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)"
cat >"$CONF" <<CONF
# Minimal single-node cluster for BitCycle's Slurm sweep test.
ClusterName=bitcycle
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF

# munge: the package made a key; the daemon runs as the munge user.
mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
[ -f /etc/munge/munge.key ] || { mungekey --create 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=128 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 600 /etc/munge/munge.key; }
if ! munge -n >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged || fail "munged did not start"
fi
for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
munge -n >/dev/null 2>&1 || fail "munge does not answer"

pgrep -f "slurmctld.*$CONF" >/dev/null || /usr/sbin/slurmctld -f "$CONF" || fail "slurmctld did not start (see $DIR/log/slurmctld.log)"
pgrep -f "slurmd.*$CONF" >/dev/null || /usr/sbin/slurmd -f "$CONF" || fail "slurmd did not start (see $DIR/log/slurmd.log)"
for _ in $(seq 100); do
  if scontrol ping 2>/dev/null | grep -q "is UP" && sinfo -h -o %T 2>/dev/null | grep -qE "idle|mixed|allocated"; then
    echo "$CONF"; exit 0
  fi
  sleep 0.2
done
fail "the node did not come up: $(sinfo -h -o '%T %E' 2>&1 | head -1) (see $DIR/log)"
