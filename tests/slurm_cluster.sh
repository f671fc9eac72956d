# tests/slurm_cluster.sh - a one-node Slurm cluster on this machine, for tests/slurm.sh and
# bench/slurm.sh. Source it, then:
#
#   slurm_cluster_start DIR   starts munged, slurmctld and slurmd as root, without systemd, with
#                             their configuration, keys, sockets, state and logs in DIR (ports
#                             of their own, so that it runs beside any other Slurm); exports
#                             SLURM_CONF for sbatch, squeue, scancel and scontrol
#   slurm_cluster_stop        cancels what is left of its jobs and stops the daemons by pid
#   slurm_cluster_missing     prints why a cluster cannot start here (empty when it can)
#
# Needs Debian's munge, slurmctld, slurmd and slurm-client (apt-get install munge slurmctld
# slurmd slurm-client) and root.

SLURM_CLUSTER_PIDS=()

slurm_cluster_missing() {
    local t missing=()
    for t in munged mungekey slurmctld slurmd sbatch squeue scancel scontrol sinfo; do
        command -v "$t" >/dev/null 2>&1 || missing+=("$t")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "${missing[*]} not found (apt-get install munge slurmctld slurmd slurm-client)"
    elif [ "$(id -u)" != 0 ]; then
        echo "the daemons run as root here and this is $(id -un)"
    fi
}

# A TCP port nobody listens on (from /proc/net/tcp*), between 20000 and 59999.
slurm_free_port() {
    local used=" " f sl local rest port
    for f in /proc/net/tcp /proc/net/tcp6; do
        [ -r "$f" ] || continue
        while read -r sl local rest; do
            [ "$sl" = sl ] || used+="$((16#${local##*:})) "
        done <"$f"
    done
    while :; do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        [[ $used == *" $port "* ]] || { echo "$port"; return; }
    done
}

# slurm_cluster_wait SECONDS COMMAND...: until COMMAND succeeds; 1 when it never does.
slurm_cluster_wait() {
    local end=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $end ] || return 1
        sleep 0.2
    done
}

slurm_cluster_start() {
    local dir=$1 host cpus try
    host=$(hostname -s)
    cpus=$(nproc)
    mkdir -p "$dir/munge" "$dir/run" "$dir/state" "$dir/spool" "$dir/log"
    # munged wants its socket's folders (DIR's parents too) searchable by all, its key private.
    chmod 755 "$dir" "$dir/run"
    chmod 700 "$dir/munge"
    mungekey -c -f -k "$dir/munge/munge.key" || return 1
    munged -F --socket="$dir/run/munge.sock" --key-file="$dir/munge/munge.key" \
        --pid-file="$dir/run/munged.pid" --seed-file="$dir/munge/seed" \
        --log-file="$dir/log/munged.log" >>"$dir/log/munged.out" 2>&1 &
    SLURM_CLUSTER_PIDS+=($!)
    slurm_cluster_wait 10 test -S "$dir/run/munge.sock" || { echo "munged did not start: $(tail -n 1 "$dir/log/munged.out")" >&2; return 1; }
    for try in 1 2 3; do
        cat >"$dir/slurm.conf" <<CONF
ClusterName=learntest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(slurm_free_port)
SlurmdPort=$(slurm_free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/run/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
        export SLURM_CONF=$dir/slurm.conf
        slurmctld -D -f "$SLURM_CONF" >>"$dir/log/slurmctld.out" 2>&1 &
        SLURM_CLUSTER_PIDS+=($!)
        slurmd -D -f "$SLURM_CONF" >>"$dir/log/slurmd.out" 2>&1 &
        SLURM_CLUSTER_PIDS+=($!)
        if slurm_cluster_wait 30 slurm_cluster_idle; then return 0; fi
        # A port taken meanwhile, most likely: stop these two and try other ports.
        echo "slurm_cluster: the cluster did not come up (try $try): $(tail -n 2 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" 2>&1 | tr '\n' ' ')" >&2
        slurm_cluster_kill "${SLURM_CLUSTER_PIDS[@]:1}"
        SLURM_CLUSTER_PIDS=("${SLURM_CLUSTER_PIDS[0]}")
    done
    return 1
}

slurm_cluster_idle() { [ "$(sinfo -h -o %t 2>/dev/null)" = idle ]; }
slurm_cluster_empty() { [ -z "$(squeue -h -o %i 2>/dev/null)" ]; }

# Stops the given daemons by pid: TERM, then KILL after 10 s.
slurm_cluster_kill() {
    local pid end
    for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
    for pid in "$@"; do
        end=$((SECONDS + 10))
        while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

slurm_cluster_stop() {
    [ ${#SLURM_CLUSTER_PIDS[@]} -gt 0 ] || return 0
    if [ -n "${SLURM_CONF:-}" ] && [ ${#SLURM_CLUSTER_PIDS[@]} -ge 3 ]; then
        # Jobs' processes outlive slurmd: cancel them while it still can.
        scancel --full -u "$(id -un)" 2>/dev/null || true
        slurm_cluster_wait 20 slurm_cluster_empty || true
    fi
    # slurmd, slurmctld, then munged (the others authenticate through it).
    local i
    for ((i = ${#SLURM_CLUSTER_PIDS[@]} - 1; i >= 0; i--)); do slurm_cluster_kill "${SLURM_CLUSTER_PIDS[i]}"; done
    SLURM_CLUSTER_PIDS=()
}
