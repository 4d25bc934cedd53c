#!/usr/bin/env bash
# Stand-in for the official Flink image's /docker-entrypoint.sh, per version (written for the
# matrix, not copied). It follows apache/flink-docker's docker-entrypoint.sh on these branches:
#   dev-1.9            : `jobmanager`/`taskmanager` only (anything else, `standalone-job`
#                        included, is `exec "$@"`); edits conf/flink-conf.yaml in place:
#                        jobmanager.rpc.address (= $JOB_MANAGER_RPC_ADDRESS or `hostname -f`),
#                        blob.server.port 6124, query.server.port 6125, TaskManager slots
#                        (= $TASK_MANAGER_NUMBER_OF_TASK_SLOTS or the processor count); appends
#                        $FLINK_PROPERTIES; envsubst over the whole file.
#   dev-1.10, dev-1.11 : + `standalone-job` (same JobManager preparation).
#   dev-1.12, dev-1.13 : bash; the preparation runs before dispatch for every command, slots
#                        default to 1 and are always written; jemalloc LD_PRELOAD.
#   dev-1.14 ... dev-1.18 : slots written only when $TASK_MANAGER_NUMBER_OF_TASK_SLOTS is set.
#   dev-1.19 ... dev-2.3 : options are set through the distribution's own
#                        bin/config-parser-utils.sh (-D key=value, which rewrites the conf
#                        file with Flink's YAML writer); each $FLINK_PROPERTIES line loses all
#                        whitespace, is split at the first ':' and only its value goes through
#                        envsubst; no envsubst over the file.
# Released images are built from apache/flink-docker master:<X.Y>/*/docker-entrypoint.sh; for
# the versions the matrix runs those equal the dev branches above, except 2.2.x images, which carry
# the dev-2.4/dev-master script (no gosu, `USER flink` in the Dockerfile): no difference here, as
# the stand-in drops no privileges (facts: /work/notes/entrypoint.md of issue 15).
# The edits run on the real conf directory: when the harness mounts a ConfigMap there
# read-only (as the kubelet does), they fail exactly as upstream's `sed -i`/`>>`/`mv` do
# (upstream has no `set -e`, so the start goes on).
# Differences from upstream, on purpose: no privilege drop (gosu), and the jemalloc LD_PRELOAD is
# recorded in $MATRIX_ENTRYPOINT_LOG instead of exported (the library is not installed here).
minor="${MATRIX_FLINK_MINOR:?MATRIX_FLINK_MINOR (e.g. 112 for 1.12) is not set}"
note() { [ -n "${MATRIX_ENTRYPOINT_LOG:-}" ] && printf '%s\n' "$*" >> "$MATRIX_ENTRYPOINT_LOG"; return 0; }

JOB_MANAGER_RPC_ADDRESS=${JOB_MANAGER_RPC_ADDRESS:-$(hostname -f)}
CONF_FILE="${FLINK_HOME}/conf/flink-conf.yaml"

copy_plugins_if_required() {
  if [ -z "${ENABLE_BUILT_IN_PLUGINS:-}" ]; then
    return 0
  fi
  echo "Enabling required built-in plugins"
  for target_plugin in $(echo "$ENABLE_BUILT_IN_PLUGINS" | tr ';' ' '); do
    plugin_name=${target_plugin%.jar}
    mkdir -p "${FLINK_HOME}/plugins/${plugin_name}"
    # the matrix's slim install keeps only the names of most opt/ jars (opt/.slim-omitted)
    if [ ! -e "${FLINK_HOME}/opt/${target_plugin}" ] && ! grep -qxF "${target_plugin}" "${FLINK_HOME}/opt/.slim-omitted" 2>/dev/null; then
      echo "Plugin ${target_plugin} does not exist. Exiting."
      exit 1
    fi
    ln -fs "${FLINK_HOME}/opt/${target_plugin}" "${FLINK_HOME}/plugins/${plugin_name}"
    note "plugin ${target_plugin}"
  done
}

# <= 1.18: grep/sed -i/echo >> on flink-conf.yaml
set_config_option() {
  local option=$1
  local value=$2
  local escaped_option
  escaped_option=$(echo ${option} | sed -e "s/\./\\\./g")
  if grep -E "^${escaped_option}:.*" "${CONF_FILE}" > /dev/null; then
        sed -i -e "s/${escaped_option}:.*/$option: $value/g" "${CONF_FILE}"
  else
        echo "${option}: ${value}" >> "${CONF_FILE}"
  fi
}

legacy_prepare() {   # $1 = jobmanager|taskmanager (what the version's script edits)
    set_config_option jobmanager.rpc.address ${JOB_MANAGER_RPC_ADDRESS}
    set_config_option blob.server.port 6124
    set_config_option query.server.port 6125
    if [ "$minor" -lt 112 ]; then
        if [ "$1" = taskmanager ]; then
            TASK_MANAGER_NUMBER_OF_TASK_SLOTS=${TASK_MANAGER_NUMBER_OF_TASK_SLOTS:-$(grep -c ^processor /proc/cpuinfo)}
            set_config_option taskmanager.numberOfTaskSlots ${TASK_MANAGER_NUMBER_OF_TASK_SLOTS}
        fi
    elif [ "$minor" -lt 114 ]; then
        TASK_MANAGER_NUMBER_OF_TASK_SLOTS=${TASK_MANAGER_NUMBER_OF_TASK_SLOTS:-1}
        set_config_option taskmanager.numberOfTaskSlots ${TASK_MANAGER_NUMBER_OF_TASK_SLOTS}
    elif [ -n "${TASK_MANAGER_NUMBER_OF_TASK_SLOTS:-}" ]; then
        set_config_option taskmanager.numberOfTaskSlots ${TASK_MANAGER_NUMBER_OF_TASK_SLOTS}
    fi
    if [ -n "${FLINK_PROPERTIES:-}" ]; then
        if [ "$minor" -lt 112 ]; then
            # up to dev-1.11 the script is #!/bin/sh (dash in the Debian image): its echo
            # expands backslash escapes
            printf '%b\n' "${FLINK_PROPERTIES}" >> "${CONF_FILE}"
        else
            echo "${FLINK_PROPERTIES}" >> "${CONF_FILE}"
        fi
    fi
    envsubst < "${CONF_FILE}" > "${CONF_FILE}.tmp" && mv "${CONF_FILE}.tmp" "${CONF_FILE}"
}

# >= 1.19: bin/config-parser-utils.sh with -Dkey=value pairs
set_config_options() {
    local config_params=()
    while [ $# -gt 0 ]; do
        config_params+=("-D$1=$2")
        shift 2
    done
    if [ "${#config_params[@]}" -gt 0 ]; then
        "$FLINK_HOME/bin/config-parser-utils.sh" "$FLINK_HOME/conf" "$FLINK_HOME/bin" "$FLINK_HOME/lib" "${config_params[@]}"
    fi
}

modern_prepare() {
    local config_options=()
    config_options+=("jobmanager.rpc.address" "${JOB_MANAGER_RPC_ADDRESS}")
    config_options+=("blob.server.port" "6124")
    config_options+=("query.server.port" "6125")
    if [ -n "${TASK_MANAGER_NUMBER_OF_TASK_SLOTS:-}" ]; then
        config_options+=("taskmanager.numberOfTaskSlots" "${TASK_MANAGER_NUMBER_OF_TASK_SLOTS}")
    fi
    set_config_options "${config_options[@]}"
    if [ -n "${FLINK_PROPERTIES:-}" ]; then
        local props=() prop key value OLD_IFS="$IFS"
        IFS=$'\n'
        for prop in $FLINK_PROPERTIES; do
            prop=$(echo $prop | tr -d '[:space:]')
            if [ -z "$prop" ]; then continue; fi
            IFS=':' read -r key value <<< "$prop"
            value=$(echo $value | envsubst)
            props+=("$key" "$value")
        done
        IFS="$OLD_IFS"
        if [ ${#props[@]} -ne 0 ]; then set_config_options "${props[@]}"; fi
    fi
}

if [ "$minor" -ge 112 ]; then
    if [ "${DISABLE_JEMALLOC:-false}" == "false" ]; then note "jemalloc LD_PRELOAD"; fi
    copy_plugins_if_required
    if [ "$minor" -ge 119 ]; then modern_prepare; else legacy_prepare any; fi
fi

cmd="${1:-}"
script=""
case "$cmd" in
    jobmanager) script=jobmanager ;;
    taskmanager) script=taskmanager ;;
    standalone-job) [ "$minor" -ge 110 ] && script=standalone-job ;;
    help) echo "Usage: $(basename "$0") (jobmanager|standalone-job|taskmanager|help)"; exit 0 ;;
esac
if [ -z "$script" ]; then
    note "pass-through: $*"
    exec "$@"
fi
shift 1
if [ "$minor" -lt 112 ]; then
    copy_plugins_if_required
    if [ "$script" = taskmanager ]; then legacy_prepare taskmanager; else legacy_prepare jobmanager; fi
fi
note "start: $script.sh start-foreground $*"
exec "$FLINK_HOME/bin/$script.sh" start-foreground "$@"
