# HDFS (Hadoop 3.5): a NameNode and one DataNode of Hadoop's shaded minicluster in one JVM, run
# by scripts/stack/hdfs/MiniHdfs.java (compiled by install_hdfs into the tools cache), storage
# under DIR/hdfs. Permissions and ACLs on, WebHDFS on; the NameNode runs as HADOOP_USER_NAME=hdfs,
# which makes `hdfs` its superuser (simple auth: a WebHDFS caller names itself with user.name).
# Ports, each free and on 127.0.0.1: NameNode RPC and HTTP (WebHDFS), DataNode data transfer,
# HTTP (WebHDFS reads and writes are redirected there), IPC and its internal HTTP proxy.
# Measured on 2 cores (other builds running): cold install 16-22 s (226 MB with its Maven repo;
# 33 s under a load of 10), start 14-32 s, RSS ~250 MiB (~275 MiB after the smoke test).
# See scripts/lib/stack.sh for what a service file defines.
# shellcheck shell=bash

HDFS_HOME="$TOOLS/hadoop-minicluster-$HADOOP_VERSION"
HDFS_LAUNCHER="$HDFS_HOME.launcher"
HDFS_SUPERUSER=hdfs

install_hdfs() {
    local src="$SCRIPTS/stack/hdfs/MiniHdfs.java" want
    maven_fetch "$HDFS_HOME" "org.apache.hadoop:hadoop-client-minicluster:$HADOOP_VERSION" \
        "org.apache.hadoop:hadoop-client-api:$HADOOP_VERSION" "org.apache.hadoop:hadoop-client-runtime:$HADOOP_VERSION" \
        "org.apache.logging.log4j:log4j-slf4j-impl:$LOG4J_VERSION"
    want="$(sha256sum "$src" | cut -d' ' -f1) hadoop=$HADOOP_VERSION"
    if [ -f "$HDFS_LAUNCHER/.datamesh-javac" ] && [ "$(cat "$HDFS_LAUNCHER/.datamesh-javac")" = "$want" ]; then return 0; fi
    command -v javac >/dev/null 2>&1 || install_die "javac (a JDK 17) not found: it compiles $src"
    install_say "compiling $src into $HDFS_LAUNCHER"
    rm -rf "$HDFS_LAUNCHER.tmp"
    mkdir -p "$HDFS_LAUNCHER.tmp"
    javac --release 17 -cp "$HDFS_HOME/libs/*" -d "$HDFS_LAUNCHER.tmp" "$src" ||
        install_die "javac $src failed"
    # The web apps (NameNode, DataNode UIs, WebHDFS) as files ahead of the jar on the class path:
    # Jetty served from inside the 100+ MB minicluster jar reads through all of it at every start
    # (~20 s on 2 cores).
    (cd "$HDFS_LAUNCHER.tmp" && jar xf "$HDFS_HOME/libs/hadoop-client-minicluster-$HADOOP_VERSION.jar" webapps) ||
        install_die "could not extract webapps/ from hadoop-client-minicluster-$HADOOP_VERSION.jar"
    echo "$want" >"$HDFS_LAUNCHER.tmp/.datamesh-javac"
    rm -rf "$HDFS_LAUNCHER"
    mv "$HDFS_LAUNCHER.tmp" "$HDFS_LAUNCHER"
}

# A WebHDFS GETFILESTATUS of / as the superuser (owned by it), and the NameNode's own view: out
# of safe mode, with a live DataNode (so a CREATE finds a place for its block).
probe_hdfs() {
    "$PY" - "$DATAMESH_HDFS_WEBHDFS_URL" "$HDFS_SUPERUSER" <<'PY'
import json, sys, urllib.request
url, user = sys.argv[1], sys.argv[2]
try:
    with urllib.request.urlopen(f"{url}/webhdfs/v1/?op=GETFILESTATUS&user.name={user}", timeout=5) as r:
        status = json.load(r)["FileStatus"]
    if status.get("owner") != user:
        sys.exit(f"WebHDFS: / is owned by {status.get('owner')!r}, not the superuser {user!r}")
    q = "Hadoop:service=NameNode,name=NameNodeInfo"
    with urllib.request.urlopen(f"{url}/jmx?qry={q}", timeout=5) as r:
        info = json.load(r)["beans"][0]
except Exception as e:
    sys.exit(f"WebHDFS on {url}: {type(e).__name__}: {e}")
if info.get("Safemode"):
    sys.exit(f"NameNode in safe mode: {info['Safemode']}")
live = json.loads(info.get("LiveNodes") or "{}")
if not live:
    sys.exit("NameNode has no live DataNode yet")
print(f"WebHDFS answers as {user}; {len(live)} live DataNode(s); out of safe mode")
PY
}

# One try of start_hdfs on fresh ports (start_on_free_ports); its variables are start_hdfs's locals.
try_hdfs() {
    rpc="$(free_port)"; http="$(free_port)"
    dn_data="$(free_port)"; dn_http="$(free_port)"; dn_ipc="$(free_port)"; dn_proxy="$(free_port)"
    rm -rf "$home"
    mkdir -p "$home/tmp"
    "$PY" -c 'import secrets; print(secrets.token_urlsafe(32))' >"$home/http-auth-secret"
    chmod 600 "$home/http-auth-secret"
    cat >"$home/log4j2.properties" <<'PROPS'
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.state.name = org.apache.hadoop.hdfs.StateChange
logger.state.level = WARN
logger.audit.name = org.apache.hadoop.hdfs.server.namenode.FSNamesystem.audit
logger.audit.level = WARN
PROPS
    spawn hdfs env HADOOP_USER_NAME="$HDFS_SUPERUSER" java -Xms128m -Xmx512m -XX:+UseSerialGC \
        -Djava.net.preferIPv4Stack=true -Djava.io.tmpdir="$home/tmp" -Dhadoop.tmp.dir="$home/tmp" -Dlog4j2.configurationFile="$home/log4j2.properties" \
        --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED \
        --add-opens java.base/java.net=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED \
        --add-opens java.base/sun.nio.ch=ALL-UNNAMED --add-exports java.base/sun.net.dns=ALL-UNNAMED \
        --add-exports java.base/sun.net.util=ALL-UNNAMED \
        -cp "$HDFS_LAUNCHER:$HDFS_HOME/libs/*" MiniHdfs "$home" "$rpc" "$http" "$dn_data" "$dn_http" "$dn_ipc" "$dn_proxy" \
        hadoop.http.authentication.signature.secret.file="$home/http-auth-secret"
    export DATAMESH_HDFS_WEBHDFS_URL="http://127.0.0.1:$http"
    rc=0; wait_for hdfs "WebHDFS GETFILESTATUS / as $HDFS_SUPERUSER on 127.0.0.1:$http, out of safe mode, a live DataNode" \
        probe_hdfs || rc=$?
    return "$rc"
}

start_hdfs() {
    local home="$DIR/hdfs" rpc http dn_data dn_http dn_ipc dn_proxy rc
    start_on_free_ports hdfs "HDFS" try_hdfs
    check_loopback hdfs
    stack_env DATAMESH_HDFS_WEBHDFS_URL "http://127.0.0.1:$http" DATAMESH_HDFS_NAMENODE_URI "hdfs://127.0.0.1:$rpc" \
        DATAMESH_HDFS_USERNAME "$HDFS_SUPERUSER"
}
