# Apache Flink: a session cluster of one JobManager and one TaskManager with six slots
# (DATAMESH_FLINK_SLOTS; its memory DATAMESH_FLINK_TM_MEMORY, 2g: `make soak` runs 20 jobs), both in
# the foreground (start-foreground), every port a free one on 127.0.0.1. The distribution is
# PyPI's apache-flink + apache-flink-libraries (site-packages/pyflink: bin/, lib/, conf/); the
# stack runs it with a copy of its conf/ in DIR/flink/conf whose config.yaml is written here.
# Savepoints and checkpoints go under DIR/flink. The Kafka connector built for this Flink and the
# kafka-clients it needs are at hand for jobs in $FLINK_CONNECTORS/libs (not on the cluster's
# classpath: a job ships what it uses in its jar, or is built against them).
# See scripts/lib/stack.sh for what a service file defines.
# shellcheck shell=bash

FLINK_VENV="$TOOLS/flink-$FLINK_VERSION"
FLINK_CONNECTORS="$TOOLS/flink-connectors-$FLINK_KAFKA_CONNECTOR_VERSION"
FLINK_SLOTS="${DATAMESH_FLINK_SLOTS:-6}"
FLINK_TM_MEMORY="${DATAMESH_FLINK_TM_MEMORY:-2g}"

# The distribution inside the venv (site-packages/pyflink; the python minor version varies).
flink_home() { site_package "$FLINK_VENV" pyflink "lib/flink-dist-$FLINK_VERSION.jar"; }

install_flink() {
    PIP_EXTRA=--no-deps pip_venv "$FLINK_VENV" "apache-flink==$FLINK_VERSION" "apache-flink-libraries==$FLINK_VERSION"
    flink_home >/dev/null || install_die "no pyflink/lib/flink-dist-$FLINK_VERSION.jar in $FLINK_VENV"
    maven_fetch "$FLINK_CONNECTORS" "org.apache.flink:flink-connector-kafka:$FLINK_KAFKA_CONNECTOR_VERSION"
}

# GET URL/overview: exit 0 when it reports one TaskManager with FLINK_SLOTS slots.
flink_overview_ok() {
    "$PY" - "$1" "$FLINK_SLOTS" <<'PY'
import json, sys, urllib.request
o = json.load(urllib.request.urlopen(f"{sys.argv[1]}/overview", timeout=2))
want = int(sys.argv[2])
if o.get("taskmanagers") != 1 or o.get("slots-total") != want:
    sys.exit(f"overview: {o.get('taskmanagers')} TaskManager(s), {o.get('slots-total')} slot(s); want 1 and {want}")
PY
}

# The JVM options the distribution's own conf/config.yaml gives every Flink process
# (env.java.opts.all: the --add-opens/--add-exports Flink needs on Java 17), carried into the
# stack's config.yaml, which replaces that file.
flink_dist_java_opts() {
    "$PY" - "$1/conf/config.yaml" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1])) or {}
opts = c.get("env.java.opts.all")
if opts is None:
    opts = (((c.get("env") or {}).get("java") or {}).get("opts") or {}).get("all")
if not opts:
    sys.exit(f"no env.java.opts.all in {sys.argv[1]}")
print(opts)
PY
}

probe_flink() { flink_overview_ok "$DATAMESH_FLINK_REST_URL"; }

# One try of start_flink on fresh ports (start_on_free_ports); its variables are start_flink's locals.
try_flink() {
    rest="$(free_port)" rpc="$(free_port)" blob="$(free_port)" tm_rpc="$(free_port)"
    tm_data="$(free_port)" jm_metrics="$(free_port)" tm_metrics="$(free_port)"
    rm -rf "$DIR/flink"
    mkdir -p "$DIR/flink/savepoints" "$DIR/flink/checkpoints" "$DIR/flink/tmp" "$DIR/flink/web" "$DIR/flink/log"
    conf="$DIR/flink/conf"
    cp -R "$home/conf" "$conf"
    cat >"$conf/config.yaml" <<YAML
# Written by scripts/stack/flink.sh for the local stack: loopback only, free ports.
env.java.opts.all: "$java_opts"
jobmanager.rpc.address: 127.0.0.1
jobmanager.rpc.port: $rpc
jobmanager.bind-host: 127.0.0.1
jobmanager.memory.process.size: 1g
taskmanager.host: 127.0.0.1
taskmanager.bind-host: 127.0.0.1
taskmanager.rpc.port: $tm_rpc
taskmanager.data.port: $tm_data
taskmanager.memory.process.size: $FLINK_TM_MEMORY
taskmanager.numberOfTaskSlots: $FLINK_SLOTS
parallelism.default: 1
rest.address: 127.0.0.1
rest.bind-address: 127.0.0.1
rest.port: $rest
blob.server.port: $blob
web.submit.enable: true
web.cancel.enable: true
web.upload.dir: $DIR/flink/web
web.tmpdir: $DIR/flink/web
io.tmp.dirs: $DIR/flink/tmp
execution.checkpointing.dir: file://$DIR/flink/checkpoints
execution.checkpointing.savepoint-dir: file://$DIR/flink/savepoints
state.backend.type: hashmap
YAML
    # Each process's metric query service gets its own port (a dynamic property: the
    # two share config.yaml).
    # The environment goes through env(1), so each .cmd reproduces its process (respawn).
    local flink_env=(FLINK_CONF_DIR="$conf" FLINK_LOG_DIR="$DIR/flink/log" FLINK_PID_DIR="$DIR/flink")
    spawn flink-jobmanager env "${flink_env[@]}" "$home/bin/jobmanager.sh" start-foreground \
        -D "metrics.internal.query-service.port=$jm_metrics"
    rc=0; wait_for flink-jobmanager "REST answer on 127.0.0.1:$rest" \
        "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2).read()' \
        "http://127.0.0.1:$rest/config" || rc=$?
    if [ "$rc" -eq 0 ]; then
        spawn flink-taskmanager env "${flink_env[@]}" "$home/bin/taskmanager.sh" start-foreground \
            -D "metrics.internal.query-service.port=$tm_metrics"
        wait_for flink-taskmanager "registration with the JobManager (1 TaskManager, $FLINK_SLOTS slots)" \
            flink_overview_ok "http://127.0.0.1:$rest" || rc=$?
    fi
    return "$rc"
}

start_flink() {
    local home conf rest rpc blob tm_rpc tm_data jm_metrics tm_metrics rc java_opts
    home="$(flink_home)" || die "Flink $FLINK_VERSION is not installed in $FLINK_VENV (scripts/tools.sh flink)"
    java_opts="$(flink_dist_java_opts "$home")" || die "flink: could not read the JVM options of $home/conf/config.yaml"
    start_on_free_ports flink "Apache Flink" try_flink
    check_loopback flink-jobmanager
    check_loopback flink-taskmanager
    stack_env DATAMESH_FLINK_REST_URL "http://127.0.0.1:$rest" DATAMESH_FLINK_HOME "$home" \
        DATAMESH_FLINK_SAVEPOINT_DIR "$DIR/flink/savepoints" DATAMESH_FLINK_CHECKPOINT_DIR "$DIR/flink/checkpoints" \
        DATAMESH_FLINK_CONNECTORS_DIR "$FLINK_CONNECTORS/libs"
}
