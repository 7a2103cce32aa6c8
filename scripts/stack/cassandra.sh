# Apache Cassandra 5.0: one CassandraDaemon in its own JVM, in the foreground, configured by a
# cassandra.yaml written into DIR/cassandra, PasswordAuthenticator + CassandraAuthorizer +
# CassandraRoleManager with every auth cache off (a grant or a new password counts at once).
# Once the default superuser cassandra/cassandra logs in, it creates the provider's admin role
# (superuser, login, a random password) and the admin replaces cassandra's well-known password.
# Ports: native transport (CQL) and storage (internode), both on 127.0.0.1; JMX is not started
# (neither cassandra.jmx.local.port nor cassandra.jmx.remote.port is set). The CQL client of the
# readiness check is the Python driver in a venv of its own (scripts/stack/cassandra_probe.py).
# Measured on 2 cores (other builds running): cold install 25-29 s (188 MB with its Maven repo and
# the driver's venv; 82 s under a load of 10), start 22-39 s, RSS ~640 MiB.
# See scripts/lib/stack.sh for what a service file defines.
# shellcheck shell=bash

CASSANDRA_HOME="$TOOLS/cassandra-$CASSANDRA_VERSION"
CASSANDRA_VENV="$TOOLS/cassandra-driver-$CASSANDRA_DRIVER_VERSION"
CASSANDRA_ADMIN=datamesh_admin

install_cassandra() {
    maven_fetch "$CASSANDRA_HOME" "org.apache.cassandra:cassandra-all:$CASSANDRA_VERSION"
    pip_venv "$CASSANDRA_VENV" "cassandra-driver==$CASSANDRA_DRIVER_VERSION"
}

# cassandra_cql HOST:PORT USER [--setup ADMIN] <passwords: see cassandra_probe.py
cassandra_cql() {
    "$CASSANDRA_VENV/bin/python" "$SCRIPTS/stack/cassandra_probe.py" "$@"
}

# Readiness: the default superuser's first login (its role appears once the node has joined).
cassandra_default_login() {
    cassandra_cql "$1" cassandra <<<cassandra
}

probe_cassandra() {
    printf '%s\n' "$DATAMESH_CASSANDRA_PASSWORD" |
        cassandra_cql "${DATAMESH_CASSANDRA_CONTACT_POINTS%%,*}" "$DATAMESH_CASSANDRA_USERNAME"
}

# The module flags of Cassandra's conf/jvm17-server.options (what Cassandra, its Netty, Chronicle
# and jamm reach into on Java 17).
CASSANDRA_JAVA17_FLAGS=(
    -Djdk.attach.allowAttachSelf=true
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports java.base/jdk.internal.ref=ALL-UNNAMED
    --add-exports java.base/sun.nio.ch=ALL-UNNAMED
    --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports java.sql/java.sql=ALL-UNNAMED
    --add-exports java.base/java.lang.ref=ALL-UNNAMED
    --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
    --add-opens java.base/java.lang.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens java.base/jdk.internal.math=ALL-UNNAMED
    --add-opens java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
    --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens java.base/java.io=ALL-UNNAMED
    --add-opens java.base/java.nio=ALL-UNNAMED
    --add-opens java.base/java.util.concurrent=ALL-UNNAMED
    --add-opens java.base/java.util=ALL-UNNAMED
    --add-opens java.base/java.util.concurrent.atomic=ALL-UNNAMED
    --add-opens java.base/java.lang=ALL-UNNAMED
    --add-opens java.base/java.math=ALL-UNNAMED
    --add-opens java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens java.base/java.net=ALL-UNNAMED
)

cassandra_config() {
    local home="$1" native="$2" storage="$3"
    cat >"$home/cassandra.yaml" <<YAML
# Written by scripts/stack/cassandra.sh for the local stack; regenerated on every start.
cluster_name: datamesh-stack
num_tokens: 1
initial_token: 0
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:$storage"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: $storage
native_transport_port: $native
start_native_transport: true
authenticator: PasswordAuthenticator
authorizer: CassandraAuthorizer
role_manager: CassandraRoleManager
network_authorizer: AllowAllNetworkAuthorizer
roles_validity: 0ms
permissions_validity: 0ms
credentials_validity: 0ms
data_file_directories:
  - $home/data
commitlog_directory: $home/commitlog
hints_directory: $home/hints
saved_caches_directory: $home/saved_caches
cdc_raw_directory: $home/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
storage_compatibility_mode: NONE
auto_snapshot: false
# Small: one node for tests on a 2-core machine.
concurrent_reads: 4
concurrent_writes: 4
concurrent_counter_writes: 4
concurrent_compactors: 1
memtable_heap_space: 64MiB
memtable_offheap_space: 64MiB
file_cache_size: 32MiB
key_cache_size: 8MiB
counter_cache_size: 0MiB
native_transport_max_threads: 16
YAML
    cat >"$home/logback.xml" <<'XML'
<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
XML
}

# One try of start_cassandra on fresh ports (start_on_free_ports); its variables are start_cassandra's locals.
try_cassandra() {
    native="$(free_port)"
    storage="$(free_port)"
    rm -rf "$home"
    mkdir -p "$home/data" "$home/commitlog" "$home/hints" "$home/saved_caches" "$home/cdc_raw" "$home/logs" "$home/triggers"
    cassandra_config "$home" "$native" "$storage"
    spawn cassandra java -Xms256m -Xmx1g -Xss512k -XX:+UseSerialGC -XX:MaxDirectMemorySize=256m \
        -XX:+ExitOnOutOfMemoryError \
        -Djava.net.preferIPv4Stack=true "${CASSANDRA_JAVA17_FLAGS[@]}" -javaagent:"${jamm[0]}" \
        -Dcassandra-foreground=yes -Dcassandra.config="file://$home/cassandra.yaml" \
        -Dcassandra.storagedir="$home" -Dcassandra.logdir="$home/logs" -Dcassandra.triggers_dir="$home/triggers" \
        -Dlogback.configurationFile="$home/logback.xml" \
        -Dcassandra.superuser_setup_delay_ms=0 -Dcassandra.skip_wait_for_gossip_to_settle=0 \
        -cp "$CASSANDRA_HOME/libs/*" org.apache.cassandra.service.CassandraDaemon
    rc=0; wait_for cassandra "CQL login as cassandra on 127.0.0.1:$native" \
        cassandra_default_login "127.0.0.1:$native" || rc=$?
    return "$rc"
}

start_cassandra() {
    local home="$DIR/cassandra" native storage password default_password rc jamm out
    password="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(18))')"
    default_password="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(18))')"
    jamm=("$CASSANDRA_HOME"/libs/jamm-*.jar) # the agent that sizes memtable objects
    [ -f "${jamm[0]}" ] || die "cassandra: no jamm jar in $CASSANDRA_HOME/libs (run scripts/tools.sh cassandra)"
    start_on_free_ports cassandra "Apache Cassandra" try_cassandra
    if ! out="$(printf '%s\n' cassandra "$password" "$default_password" |
            cassandra_cql "127.0.0.1:$native" cassandra --setup "$CASSANDRA_ADMIN" 2>&1)"; then
        printf '%s\n' "$out" >&2
        explain_failure cassandra
        die "cassandra: could not create the admin role $CASSANDRA_ADMIN"
    fi
    export DATAMESH_CASSANDRA_CONTACT_POINTS="127.0.0.1:$native" DATAMESH_CASSANDRA_USERNAME="$CASSANDRA_ADMIN" \
        DATAMESH_CASSANDRA_PASSWORD="$password"
    wait_for cassandra "CQL login as $CASSANDRA_ADMIN on 127.0.0.1:$native" probe_cassandra ||
        die "cassandra: the admin role $CASSANDRA_ADMIN cannot log in"
    check_loopback cassandra
    stack_env DATAMESH_CASSANDRA_CONTACT_POINTS "127.0.0.1:$native" \
        DATAMESH_CASSANDRA_USERNAME "$CASSANDRA_ADMIN" DATAMESH_CASSANDRA_PASSWORD "$password"
}
