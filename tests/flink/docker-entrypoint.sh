#!/usr/bin/env bash
# A stand-in for the official Flink image's /docker-entrypoint.sh, for tests that run rendered
# containers as local processes (tests/e2e/run.py). Written for this project; it does what the
# upstream script does for the paths kubectl-flink renders, and says below where it differs.
#
# Upstream: apache/flink-docker, file docker-entrypoint.sh, one per release branch. Three
# behaviours, told apart here by the Flink version of $FLINK_HOME (lib/flink-dist*-X.Y.Z.jar):
#   dev-1.12, dev-1.13    "A": conf/flink-conf.yaml edited with grep/sed/echo; the TaskManager slot
#                         count is written always ($TASK_MANAGER_NUMBER_OF_TASK_SLOTS, default 1);
#                         FLINK_PROPERTIES appended to the file, then the whole file through envsubst
#   dev-1.14 ... dev-1.18 "B": as A, but the slot count only when $TASK_MANAGER_NUMBER_OF_TASK_SLOTS
#                         is set
#   dev-1.19 ... dev-2.3  "C": conf/config.yaml edited by Flink's own bin/config-parser-utils.sh
#                         (-Dkey=value pairs); FLINK_PROPERTIES read line by line: all whitespace
#                         removed, split at the first ':', the value through envsubst, then written
#                         the same way
# Versions before 1.12 (dev-1.9 ... dev-1.11 are shaped differently) are refused: not modelled.
#
# Common to all three, in this order: ENABLE_BUILT_IN_PLUGINS (';'-separated jar names of opt/,
# each linked into plugins/<name>/, a missing one exits 1); the conf edits
# jobmanager.rpc.address = $JOB_MANAGER_RPC_ADDRESS or `hostname -f`, blob.server.port 6124,
# query.server.port 6125 (+ the slot count above); FLINK_PROPERTIES; then the first argument
# picks the script: jobmanager -> bin/jobmanager.sh, standalone-job -> bin/standalone-job.sh,
# taskmanager -> bin/taskmanager.sh, history-server -> bin/historyserver.sh, each as
# `start-foreground` followed by the remaining arguments unchanged; help prints the usage; any
# other first argument is run as a command (pass-through).
#
# Differences from upstream, all because this runs as a local process and not in the image:
# - No privilege drop: upstream execs through `gosu flink` (or su-exec) when it runs as root; a pod
#   rendered by kubectl-flink runs as uid 9999, where upstream does not drop either.
# - No jemalloc: upstream adds libjemalloc.so to LD_PRELOAD unless DISABLE_JEMALLOC=true (the
#   library is part of the image, not of this machine). The stand-in only prints what it skipped.
# - `hostname -f` is $E2E_POD_HOSTNAME when set: the harness passes the pod's name, which (as for a
#   TaskManager in a pod, whose own name is not the JobManager) does not lead to the JobManager.
# - A ConfigMap volume is read-only in a pod, so every edit of conf/ above fails there (upstream
#   does not stop on that failure). The harness runs as root, which ignores file modes, so it says
#   so with E2E_CONF_READONLY=1: each edit then fails with a message and the script goes on, as
#   upstream does.
# - The exec'd script is $FLINK_HOME/bin/<script>.sh, as upstream; FLINK_HOME comes from the
#   environment (the image sets FLINK_HOME=/opt/flink), here a local directory.

set -u
: "${FLINK_HOME:?FLINK_HOME must be set (the image sets /opt/flink)}"

log() { echo "docker-entrypoint (stand-in): $*"; }

dist_jar=$(ls "$FLINK_HOME"/lib/flink-dist*.jar 2>/dev/null | head -n 1)
version=$(basename "${dist_jar:-none}" .jar | sed -n 's/^flink-dist[^-]*-\([0-9][0-9]*\.[0-9][0-9]*\)\..*$/\1/p')
if [ -z "$version" ]; then
    log "cannot tell the Flink version from $FLINK_HOME/lib/flink-dist*.jar" >&2
    exit 2
fi
minor=$(( ${version%%.*} * 100 + 10#${version#*.} ))
if [ "$minor" -lt 112 ]; then
    log "Flink $version: the entrypoint of dev-${version} is not modelled by this stand-in" >&2
    exit 2
elif [ "$minor" -le 113 ]; then
    family=A
elif [ "$minor" -le 118 ]; then
    family=B
else
    family=C
fi

CONF_DIR="$FLINK_HOME/conf"
POD_HOSTNAME=${E2E_POD_HOSTNAME:-$(hostname -f)}
JOB_MANAGER_RPC_ADDRESS=${JOB_MANAGER_RPC_ADDRESS:-$POD_HOSTNAME}

readonly_conf() {
    if [ "${E2E_CONF_READONLY:-0}" = 1 ]; then
        log "$CONF_DIR is a read-only ConfigMap volume: $1 fails there, conf/ stays as mounted" >&2
        return 0
    fi
    return 1
}

link_builtin_plugins() {
    [ -n "${ENABLE_BUILT_IN_PLUGINS:-}" ] || return 0
    local jar dir
    for jar in $(echo "$ENABLE_BUILT_IN_PLUGINS" | tr ';' ' '); do
        dir="$FLINK_HOME/plugins/${jar%.jar}"
        mkdir -p "$dir"
        if [ ! -e "$FLINK_HOME/opt/$jar" ]; then
            log "plugin $jar is not in $FLINK_HOME/opt: exit 1 (as upstream)"
            exit 1
        fi
        ln -fs "$FLINK_HOME/opt/$jar" "$dir"
        log "linked built-in plugin $jar"
    done
}

# --- A and B: flink-conf.yaml, edited as text -------------------------------------------------------
conf_file_ab="$CONF_DIR/flink-conf.yaml"

# set_in_file KEY VALUE: replace the value of an existing `KEY:` line, or append `KEY: VALUE`
# (upstream matches the key as a regular expression with its dots escaped, unanchored in sed)
set_in_file() {
    local key=$1 value=$2 re
    re=$(printf '%s' "$key" | sed 's/\./\\./g')
    readonly_conf "setting $key" && return 0
    if grep -E "^${re}:" "$conf_file_ab" >/dev/null 2>&1; then
        sed -i -e "s/${re}:.*/${key}: ${value}/g" "$conf_file_ab"
    else
        printf '%s: %s\n' "$key" "$value" >> "$conf_file_ab"
    fi
}

configure_ab() {
    set_in_file jobmanager.rpc.address "$JOB_MANAGER_RPC_ADDRESS"
    set_in_file blob.server.port 6124
    set_in_file query.server.port 6125
    if [ "$family" = A ]; then
        set_in_file taskmanager.numberOfTaskSlots "${TASK_MANAGER_NUMBER_OF_TASK_SLOTS:-1}"
    elif [ -n "${TASK_MANAGER_NUMBER_OF_TASK_SLOTS:-}" ]; then
        set_in_file taskmanager.numberOfTaskSlots "$TASK_MANAGER_NUMBER_OF_TASK_SLOTS"
    fi
    readonly_conf "appending FLINK_PROPERTIES and envsubst" && return 0
    if [ -n "${FLINK_PROPERTIES:-}" ]; then
        printf '%s\n' "$FLINK_PROPERTIES" >> "$conf_file_ab"
    fi
    envsubst < "$conf_file_ab" > "$conf_file_ab.tmp" && mv "$conf_file_ab.tmp" "$conf_file_ab"
}

# --- C: config.yaml, edited by Flink's own config-parser-utils.sh --------------------------------------
# set_through_flink KEY VALUE [KEY VALUE ...]
set_through_flink() {
    local params=()
    while [ $# -ge 2 ]; do
        params+=("-D$1=$2")
        shift 2
    done
    [ ${#params[@]} -gt 0 ] || return 0
    readonly_conf "writing ${params[*]}" && return 0
    "$FLINK_HOME/bin/config-parser-utils.sh" "$CONF_DIR" "$FLINK_HOME/bin" "$FLINK_HOME/lib" "${params[@]}"
}

configure_c() {
    local kv=(jobmanager.rpc.address "$JOB_MANAGER_RPC_ADDRESS" blob.server.port 6124 query.server.port 6125)
    if [ -n "${TASK_MANAGER_NUMBER_OF_TASK_SLOTS:-}" ]; then
        kv+=(taskmanager.numberOfTaskSlots "$TASK_MANAGER_NUMBER_OF_TASK_SLOTS")
    fi
    set_through_flink "${kv[@]}"
    [ -n "${FLINK_PROPERTIES:-}" ] || return 0
    local props=() line key value saved_ifs=$IFS
    IFS=$'\n'
    for line in $FLINK_PROPERTIES; do
        # as upstream: the unquoted echo, every whitespace character removed, split at the first ':'
        line=$(echo $line | tr -d '[:space:]')
        [ -n "$line" ] || continue
        IFS=':' read -r key value <<< "$line"
        value=$(echo $value | envsubst)
        props+=("$key" "$value")
    done
    IFS=$saved_ifs
    set_through_flink "${props[@]}"
}

if [ "${DISABLE_JEMALLOC:-false}" = false ]; then
    log "jemalloc: not preloaded (upstream adds libjemalloc.so to LD_PRELOAD; not on this machine)"
fi
link_builtin_plugins
if [ "$family" = C ]; then configure_c; else configure_ab; fi

command=${1:-help}
[ $# -gt 0 ] && shift
case "$command" in
    help)
        echo "Usage: $(basename "$0") (jobmanager|standalone-job|taskmanager|history-server)"
        echo "    Or $(basename "$0") help"
        exit 0 ;;
    jobmanager)     script=jobmanager.sh ;;
    standalone-job) script=standalone-job.sh ;;
    taskmanager)    script=taskmanager.sh ;;
    history-server) script=historyserver.sh ;;
    *)              exec "$command" "$@" ;;
esac
log "Flink $version (upstream dev-$version, behaviour $family): exec bin/$script start-foreground $*"
exec "$FLINK_HOME/bin/$script" start-foreground "$@"
