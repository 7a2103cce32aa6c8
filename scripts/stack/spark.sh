# Apache Spark standalone: one master with its REST submission server (cluster-mode submissions
# over HTTP: POST /v1/submissions/create) and one worker (4 cores, 3 GiB for drivers and
# executors), both through bin/spark-class in the foreground, every port a free one on 127.0.0.1.
# The distribution is PyPI's pyspark (site-packages/pyspark: bin/, jars/), installed --no-deps in
# a venv of its own. hadoop-aws at Spark's own Hadoop version, with the AWS SDK bundle, is in
# $SPARK_S3A/libs: the worker puts it on the classpath of every driver and executor it launches
# (SPARK_DIST_CLASSPATH), so jobs read and write s3a:// (the stack's S3 endpoint when they set
# spark.hadoop.fs.s3a.endpoint to AWS_ENDPOINT_URL and path-style access).
# See scripts/lib/stack.sh for what a service file defines.
# shellcheck shell=bash

SPARK_VENV="$TOOLS/spark-$SPARK_VERSION"
SPARK_S3A="$TOOLS/spark-s3a-$HADOOP_AWS_VERSION"

# The distribution inside the venv (site-packages/pyspark; the python minor version varies).
spark_home() { site_package "$SPARK_VENV" pyspark "jars/spark-core_2.13-$SPARK_VERSION.jar"; }

install_spark() {
    local home
    PIP_EXTRA=--no-deps pip_venv "$SPARK_VENV" "pyspark==$SPARK_VERSION"
    home="$(spark_home)" || install_die "no pyspark/jars/spark-core_2.13-$SPARK_VERSION.jar in $SPARK_VENV"
    [ -f "$home/jars/hadoop-client-api-$HADOOP_AWS_VERSION.jar" ] ||
        install_die "Spark $SPARK_VERSION does not ship hadoop-client-api-$HADOOP_AWS_VERSION.jar: set HADOOP_AWS_VERSION in scripts/versions.sh to its version ($(cd "$home/jars" && echo hadoop-client-api-*.jar))"
    maven_fetch "$SPARK_S3A" "org.apache.hadoop:hadoop-aws:$HADOOP_AWS_VERSION"
}

# GET URL/json/ (the master web UI): exit 0 when it lists exactly one ALIVE worker.
spark_worker_alive() {
    "$PY" - "$1" <<'PY'
import json, sys, urllib.request
m = json.load(urllib.request.urlopen(f"{sys.argv[1]}/json/", timeout=2))
alive = [w for w in m.get("workers", []) if w.get("state") == "ALIVE"]
if len(alive) != 1 or m.get("status") != "ALIVE":
    sys.exit(f"master {m.get('status')}: {len(alive)} ALIVE worker(s), want 1")
PY
}

# GET URL/v1/submissions/status/none (the REST submission server): exit 0 on a JSON answer
# (an unknown submission is an error status with a JSON body).
spark_rest_answers() {
    "$PY" - "$1" <<'PY'
import json, sys, urllib.error, urllib.request
try:
    body = urllib.request.urlopen(f"{sys.argv[1]}/v1/submissions/status/none", timeout=2).read()
except urllib.error.HTTPError as e:
    body = e.read()
if "action" not in json.loads(body):
    sys.exit(f"not a submission server answer: {body[:200]!r}")
PY
}

probe_spark() {
    spark_rest_answers "$DATAMESH_SPARK_REST_URL" && spark_worker_alive "$DATAMESH_SPARK_MASTER_WEBUI_URL"
}

# One try of start_spark on fresh ports (start_on_free_ports); its variables are start_spark's locals.
try_spark() {
    port="$(free_port)" ui="$(free_port)" rest="$(free_port)" wport="$(free_port)" wui="$(free_port)"
    rm -rf "$DIR/spark"
    mkdir -p "$DIR/spark/conf" "$DIR/spark/work" "$DIR/spark/log" "$DIR/spark/tmp"
    # Every Spark process the stack starts, and every driver and executor the worker
    # launches (they inherit its environment), binds to loopback and keeps its files in DIR.
    # The environment goes through env(1), so each .cmd reproduces its process (respawn).
    local spark_env=(SPARK_HOME="$home" SPARK_CONF_DIR="$DIR/spark/conf" SPARK_LOG_DIR="$DIR/spark/log"
        SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_DIRS="$DIR/spark/tmp" SPARK_DAEMON_MEMORY=512m
        SPARK_NO_DAEMONIZE=1)
    spawn spark-master env "${spark_env[@]}" \
        SPARK_MASTER_OPTS="-Dspark.master.rest.enabled=true -Dspark.master.rest.host=127.0.0.1 -Dspark.master.rest.port=$rest -Dspark.ui.reverseProxy=false" \
        "$home/bin/spark-class" org.apache.spark.deploy.master.Master \
        --host 127.0.0.1 --port "$port" --webui-port "$ui"
    rc=0; wait_for spark-master "REST submission server answer on 127.0.0.1:$rest" \
        spark_rest_answers "http://127.0.0.1:$rest" || rc=$?
    if [ "$rc" -eq 0 ]; then
        spawn spark-worker env "${spark_env[@]}" SPARK_DIST_CLASSPATH="$SPARK_S3A/libs/*" SPARK_WORKER_DIR="$DIR/spark/work" \
            "$home/bin/spark-class" org.apache.spark.deploy.worker.Worker \
            --host 127.0.0.1 --port "$wport" --webui-port "$wui" --cores 4 --memory 3g \
            --work-dir "$DIR/spark/work" "spark://127.0.0.1:$port"
        wait_for spark-worker "registration with the master (1 ALIVE worker)" \
            spark_worker_alive "http://127.0.0.1:$ui" || rc=$?
    fi
    return "$rc"
}

start_spark() {
    local home port ui rest wport wui rc
    home="$(spark_home)" || die "Spark $SPARK_VERSION is not installed in $SPARK_VENV (scripts/tools.sh spark)"
    start_on_free_ports spark "Apache Spark" try_spark
    check_loopback spark-master
    check_loopback spark-worker
    stack_env DATAMESH_SPARK_MASTER_URL "spark://127.0.0.1:$port" DATAMESH_SPARK_REST_URL "http://127.0.0.1:$rest" \
        DATAMESH_SPARK_MASTER_WEBUI_URL "http://127.0.0.1:$ui" DATAMESH_SPARK_HOME "$home" \
        DATAMESH_SPARK_VERSION "$SPARK_VERSION" DATAMESH_SPARK_S3A_JARS "$SPARK_S3A/libs"
}
