#!/usr/bin/env bash
# Starts the local backend stack the acceptance tests run against, on
# 127.0.0.1 and on free ports only (parallel stacks and other services must
# never collide):
#   moto_server  S3 + IAM + STS (one endpoint)     log DIR/moto.log   pid DIR/moto.pid
#   tansu        Kafka-protocol broker, in-memory  log DIR/tansu.log  pid DIR/tansu.pid
# and writes DIR/stack.env (source it) with the endpoints, dummy AWS
# credentials and the Terraform CLI to use. Stop it with scripts/stack-down.sh DIR.
#
# Usage: scripts/stack-up.sh [DIR]
#   DIR defaults to ${DATAMESH_STACK_DIR:-${TMPDIR:-/tmp}/datamesh-stack}
#   env: DATAMESH_TOOLS_DIR, DATAMESH_STACK_TIMEOUT (seconds per service, default 60),
#        TF_ACC_TERRAFORM_PATH (Terraform CLI to advertise instead of the launcher),
#        DATAMESH_TANSU_RUST_LOG (tansu's RUST_LOG, default warn)
set -euo pipefail

SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS="${DATAMESH_TOOLS_DIR:-$HOME/.cache/terraform-provider-datamesh}"
DIR="${1:-${DATAMESH_STACK_DIR:-${TMPDIR:-/tmp}/datamesh-stack}}"
TIMEOUT="${DATAMESH_STACK_TIMEOUT:-60}"
START=$(date +%s)

say() { echo "stack-up.sh: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

"$SCRIPTS/tools.sh"

PY="$TOOLS/venv/bin/python"
MOTO="$TOOLS/venv/bin/moto_server"
TANSU="$TOOLS/tansu-0.6.0/bin/tansu"
TERRAFORM="${TF_ACC_TERRAFORM_PATH:-$TOOLS/bin/terraform}"
[ -x "$TERRAFORM" ] || say "WARNING: TF_ACC_TERRAFORM_PATH=$TERRAFORM is not an executable file"

mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)" # absolute: stack.env is sourced from anywhere

# ------------------------------------------------------------- helpers ----

# Checks that a service answers. moto: any HTTP response. kafka: ApiVersions v0
# and Metadata v0 round trips, and the broker advertises the address we gave it
# (clients reconnect to the advertised address, so a mismatch breaks them).
probe() {
    "$PY" - "$@" <<'PY'
import socket, struct, sys, urllib.error, urllib.request

kind, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])

def moto():
    try:
        urllib.request.urlopen(f"http://{host}:{port}/moto-api/", timeout=2).read()
    except urllib.error.HTTPError:
        pass  # an HTTP error status is still an answer

def call(sock, api_key, version, corr, body=b""):
    client = b"stack-up"
    msg = struct.pack(">hhih", api_key, version, corr, len(client)) + client + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    size = struct.unpack(">i", recv(sock, 4))[0]
    data = recv(sock, size)
    if struct.unpack(">i", data[:4])[0] != corr:
        sys.exit("kafka: correlation id mismatch")
    return data[4:]

def recv(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            sys.exit("kafka: connection closed")
        buf += chunk
    return buf

def kafka():
    with socket.create_connection((host, port), timeout=3) as s:
        s.settimeout(3)
        r = call(s, 18, 0, 1)  # ApiVersions v0
        if struct.unpack(">h", r[:2])[0] != 0:
            sys.exit("kafka: ApiVersions error %d" % struct.unpack(">h", r[:2])[0])
        r = call(s, 3, 0, 2, struct.pack(">i", 0))  # Metadata v0, all topics
        n, off, brokers = struct.unpack(">i", r[:4])[0], 4, []
        for _ in range(n):
            node, hlen = struct.unpack(">ih", r[off:off + 6]); off += 6
            bhost = r[off:off + hlen].decode(); off += hlen
            bport = struct.unpack(">i", r[off:off + 4])[0]; off += 4
            brokers.append((bhost, bport))
        if (host, port) not in brokers:
            sys.exit(f"kafka: broker advertises {brokers}, expected {(host, port)}")

try:
    moto() if kind == "moto" else kafka()
except Exception as e:  # one line for the error message, not a traceback
    sys.exit(f"{kind}: {type(e).__name__}: {e}")
PY
}

# Prints the TCP ports a process (and its threads) is listening on.
listening_ports() {
    "$PY" - "$1" <<'PY'
import os, sys
pid = sys.argv[1]
inodes = set()
for fd in os.listdir(f"/proc/{pid}/fd"):
    try:
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        continue
    if link.startswith("socket:["):
        inodes.add(link[8:-1])
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        lines = open(table).read().splitlines()[1:]
    except OSError:
        continue
    for line in lines:
        f = line.split()
        if f[3] == "0A" and f[9] in inodes:  # state 0A = LISTEN
            addr, port = f[1].rsplit(":", 1)
            print(int(port, 16))
PY
}

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Is the pid in DIR/NAME.pid alive and still the program we started?
alive() {
    local pidfile="$DIR/$1.pid" pid cmd
    [ -f "$pidfile" ] || return 1
    pid="$(cat "$pidfile")"
    [ -n "$pid" ] && cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" && [[ "$cmd" == *"$2"* ]]
}

# Starts a command detached in its own session/process group (stack-down
# kills the group), with default signal dispositions (bash background jobs
# ignore SIGINT; python ignores SIGPIPE; both would be inherited), stdin from
# /dev/null, output to DIR/NAME.log and no other inherited fds (an inherited
# pipe would keep a caller like `stack-up.sh | tee` or a CI step waiting).
# The pid is the group id.
spawn() {
    local name="$1"; shift
    "$PY" -c '
import os, signal, sys
for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTERM, signal.SIGXFSZ):
    signal.signal(s, signal.SIG_DFL)
os.closerange(3, os.sysconf("SC_OPEN_MAX"))
os.setsid()
os.execv(sys.argv[1], sys.argv[1:])
' "$@" </dev/null >"$DIR/$name.log" 2>&1 &
    echo $! >"$DIR/$name.pid"
}

# Waits until `probe KIND 127.0.0.1 PORT` succeeds; fails with the log tail if
# the process dies or the timeout passes. Returns 2 if the port was taken
# between choosing and binding it (caller retries with another port).
wait_ready() {
    local name="$1" kind="$2" port="$3" pid deadline err
    pid="$(cat "$DIR/$name.pid")"
    deadline=$(($(date +%s) + TIMEOUT))
    while :; do
        # tansu may log AddrInUse from a worker thread without exiting at once.
        if grep -qiE "address already in use|AddrInUse" "$DIR/$name.log"; then return 2; fi
        if ! kill -0 "$pid" 2>/dev/null; then
            say "$name (pid $pid) exited during start-up; last lines of $DIR/$name.log:"
            tail -n 40 "$DIR/$name.log" >&2
            return 1
        fi
        if err="$(probe "$kind" 127.0.0.1 "$port" 2>&1)"; then return 0; fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            say "$name did not answer on 127.0.0.1:$port within ${TIMEOUT}s (last probe: ${err:-no output}); last lines of $DIR/$name.log:"
            tail -n 40 "$DIR/$name.log" >&2
            return 1
        fi
        sleep 0.2
    done
}

# Starts service NAME (up to 3 ports, in case another process grabs the free
# port first) and sets PORT_<NAME>.
PORT_moto=""
PORT_tansu=""
start_service() {
    local name="$1" kind="$2" port rc
    for _ in 1 2 3; do
        port="$(free_port)"
        "start_$name" "$port"
        rc=0; wait_ready "$name" "$kind" "$port" || rc=$?
        if [ "$rc" -eq 0 ]; then
            case "$name" in moto) PORT_moto="$port" ;; tansu) PORT_tansu="$port" ;; esac
            return 0
        fi
        [ "$rc" -eq 2 ] || die "could not start $name"
        "$SCRIPTS/stack-down.sh" "$DIR" "$name" >/dev/null 2>&1 || true
        say "port $port was taken before $name bound it; retrying with another port"
    done
    die "could not start $name: no free port after 3 tries"
}

start_moto() {
    spawn moto "$MOTO" -H 127.0.0.1 -p "$1"
}

start_tansu() {
    # tansu's clap flags also read env vars (LISTENER_URL, STORAGE_ENGINE, ...);
    # explicit flags win, and the optional ones (schema registry, OTLP
    # exporter) are unset so a stray env var can't turn them on.
    spawn tansu /usr/bin/env -u SCHEMA_REGISTRY -u OTEL_EXPORTER_OTLP_ENDPOINT \
        -u CLUSTER_ID -u LISTENER_URL -u ADVERTISED_LISTENER_URL -u STORAGE_ENGINE \
        RUST_LOG="${DATAMESH_TANSU_RUST_LOG:-warn}" NO_COLOR=1 \
        "$TANSU" broker \
        --cluster-id datamesh \
        --listener-url "tcp://127.0.0.1:$1" \
        --advertised-listener-url "tcp://127.0.0.1:$1" \
        --storage-engine memory://tansu/
}

write_env() {
    local tmp="$DIR/stack.env.tmp.$$"
    {
        echo "# Written by scripts/stack-up.sh: source it (. $DIR/stack.env). Stop with scripts/stack-down.sh $DIR"
        printf 'export %s=%q\n' \
            DATAMESH_STACK_DIR "$DIR" \
            AWS_ENDPOINT_URL "http://127.0.0.1:$1" \
            AWS_ACCESS_KEY_ID testing \
            AWS_SECRET_ACCESS_KEY testing \
            AWS_REGION us-east-1 \
            AWS_DEFAULT_REGION us-east-1 \
            AWS_EC2_METADATA_DISABLED true \
            DATAMESH_KAFKA_BOOTSTRAP_SERVERS "127.0.0.1:$2" \
            DATAMESH_TERRAFORM "$TERRAFORM" \
            DATAMESH_TOOLS_DIR "$TOOLS"
    } >"$tmp"
    mv -f "$tmp" "$DIR/stack.env"
}

# Reads KEY's value back from an existing stack.env (values are plain here).
env_value() {
    sed -n "s/^export $1=//p" "$DIR/stack.env" | tail -n 1
}

# ---------------------------------------------------------------- main ----

# Already up and healthy: keep it (tests may hold state in it), refresh env.
if [ -f "$DIR/stack.env" ] && alive moto moto_server && alive tansu tansu; then
    moto_port="$(env_value AWS_ENDPOINT_URL)"; moto_port="${moto_port##*:}"
    kafka_port="$(env_value DATAMESH_KAFKA_BOOTSTRAP_SERVERS)"; kafka_port="${kafka_port##*:}"
    if [ -n "$moto_port" ] && [ -n "$kafka_port" ] &&
        probe moto 127.0.0.1 "$moto_port" >/dev/null 2>&1 &&
        probe kafka 127.0.0.1 "$kafka_port" >/dev/null 2>&1; then
        write_env "$moto_port" "$kafka_port"
        say "stack in $DIR is already up (moto 127.0.0.1:$moto_port, kafka 127.0.0.1:$kafka_port); env: $DIR/stack.env"
        exit 0
    fi
    say "stack in $DIR is running but unhealthy; restarting it (in-memory state is lost)"
fi

# Anything half-up in DIR (dead or unhealthy service, stale pid files) goes.
"$SCRIPTS/stack-down.sh" "$DIR" >/dev/null 2>&1 || true
rm -f "$DIR/stack.env"
# From here on a failure must not leave half a stack running.
trap 'rc=$?; if [ "$rc" -ne 0 ]; then "$SCRIPTS/stack-down.sh" "$DIR" >/dev/null 2>&1 || true; fi' EXIT

start_service moto moto
start_service tansu kafka

# Every listener must be on the chosen port: a fixed extra port (metrics,
# admin, ...) would collide between parallel stacks.
for svc in moto tansu; do
    if [ "$svc" = moto ]; then want="$PORT_moto"; else want="$PORT_tansu"; fi
    for p in $(listening_ports "$(cat "$DIR/$svc.pid")"); do
        if [ "$p" != "$want" ]; then
            die "$svc listens on unexpected port $p (expected only $want)"
        fi
    done
done

write_env "$PORT_moto" "$PORT_tansu"
say "stack up in $(($(date +%s) - START))s: moto http://127.0.0.1:$PORT_moto, kafka 127.0.0.1:$PORT_tansu; env: $DIR/stack.env"
