# Apache Kafka in KRaft combined mode (one process is broker and controller), SASL/SCRAM-SHA-512
# on its client listener, StandardAuthorizer with allow.everyone.if.no.acl.found=false: what a
# principal may do is exactly what ACLs say. Super users: the provider's admin and the controller
# listener's own principal (ANONYMOUS, as that listener is PLAINTEXT on loopback).
# See scripts/lib/stack.sh for what a service file defines.
#
# Optional env, for a broker of a test's own (tests/acceptance/fault_test.rs):
#   DATAMESH_KAFKA_PORT        the client listener's port (default: a free one)
#   DATAMESH_KAFKA_ADVERTISED  host:port the broker tells clients to use (default: its listener)
#   DATAMESH_KAFKA_ADMIN_PASSWORD  the admin's SCRAM password (default: a random one)
#   DATAMESH_KAFKA_PLAINTEXT=1 a PLAINTEXT client listener instead (no SASL; every client is
#                              ANONYMOUS, a super user): a broker that does not speak SASL
# shellcheck shell=bash

KAFKA_HOME="$TOOLS/kafka-$KAFKA_VERSION"
KAFKA_ADMIN=admin

install_kafka() {
    maven_fetch "$KAFKA_HOME" "org.apache.kafka:kafka_$KAFKA_SCALA_VERSION:$KAFKA_VERSION" \
        "org.apache.logging.log4j:log4j-slf4j-impl:$LOG4J_VERSION"
}

probe_kafka() {
    local mechanism="${DATAMESH_KAFKA_SASL_MECHANISM:-}"
    [ "$DATAMESH_KAFKA_SECURITY_PROTOCOL" != PLAINTEXT ] || mechanism=NONE
    printf '%s\n' "${DATAMESH_KAFKA_SASL_PASSWORD:-}" | "$PY" "$SCRIPTS/stack/kafka_probe.py" \
        "${KAFKA_LISTENER:-${DATAMESH_KAFKA_LISTENER:-$DATAMESH_KAFKA_BOOTSTRAP_SERVERS}}" "$DATAMESH_KAFKA_BOOTSTRAP_SERVERS" \
        "$mechanism" "${DATAMESH_KAFKA_SASL_USERNAME:-}" -
}

KAFKA_JVM_FLAGS="-Xms128m -Xmx512m -XX:+UseSerialGC"

# The broker's tools (StorageTool), on the broker's classpath.
kafka_java() {
    # shellcheck disable=SC2086 # a list of flags
    java $KAFKA_JVM_FLAGS -Dlog4j2.configurationFile="$DIR/kafka/log4j2.yaml" -cp "$KAFKA_HOME/libs/*" "$@"
}

# One try of start_kafka on fresh ports (start_on_free_ports); its variables are start_kafka's locals.
try_kafka() {
    port="${DATAMESH_KAFKA_PORT:-$(free_port)}"
    controller="$(free_port)"
    advertised="${DATAMESH_KAFKA_ADVERTISED:-127.0.0.1:$port}"
    proto=SASL_PLAINTEXT
    [ "${DATAMESH_KAFKA_PLAINTEXT:-}" != 1 ] || proto=PLAINTEXT
    rm -rf "$home"
    mkdir -p "$home/data"
    cat >"$home/log4j2.yaml" <<'YAML'
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        Pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: org.apache.kafka.clients
        level: WARN
YAML
    cat >"$home/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=CLIENT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=CLIENT://$advertised
listener.security.protocol.map=CLIENT:$proto,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=CLIENT
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$KAFKA_ADMIN" password="$password";
listener.name.client.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$KAFKA_ADMIN" password="$password";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:$KAFKA_ADMIN;User:ANONYMOUS
log.dirs=$home/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
    chmod 600 "$home/server.properties"
    cluster="$(kafka_java kafka.tools.StorageTool random-uuid 2>"$home/format.log")" ||
        { cat "$home/format.log" >&2; die "kafka: StorageTool random-uuid failed"; }
    if ! out="$(kafka_java kafka.tools.StorageTool format -t "$cluster" -c "$home/server.properties" \
            --add-scram "SCRAM-SHA-512=[name=$KAFKA_ADMIN,password=$password]" \
            --add-scram "SCRAM-SHA-256=[name=$KAFKA_ADMIN,password=$password]" 2>&1)"; then
        printf '%s\n' "$out" >&2
        die "kafka: StorageTool format failed (config: $home/server.properties)"
    fi
    # shellcheck disable=SC2086 # a list of flags
    spawn kafka java $KAFKA_JVM_FLAGS -Dlog4j2.configurationFile="$home/log4j2.yaml" \
        -cp "$KAFKA_HOME/libs/*" kafka.Kafka "$home/server.properties"
    export DATAMESH_KAFKA_BOOTSTRAP_SERVERS="$advertised" DATAMESH_KAFKA_SECURITY_PROTOCOL="$proto" \
        DATAMESH_KAFKA_SASL_MECHANISM=SCRAM-SHA-512 DATAMESH_KAFKA_SASL_USERNAME="$KAFKA_ADMIN" \
        DATAMESH_KAFKA_SASL_PASSWORD="$password"
    rc=0; KAFKA_LISTENER="127.0.0.1:$port" wait_for kafka "a login on 127.0.0.1:$port ($proto)" probe_kafka || rc=$?
    # A port fixed by DATAMESH_KAFKA_PORT cannot be chosen again.
    if [ "$rc" -eq 2 ] && [ -n "${DATAMESH_KAFKA_PORT:-}" ]; then return 1; fi
    return "$rc"
}

start_kafka() {
    local home="$DIR/kafka" port controller advertised password rc out cluster proto
    password="${DATAMESH_KAFKA_ADMIN_PASSWORD:-$("$PY" -c 'import secrets; print(secrets.token_urlsafe(18))')}"
    start_on_free_ports kafka "Apache Kafka" try_kafka
    check_loopback kafka
    stack_env DATAMESH_KAFKA_BOOTSTRAP_SERVERS "$advertised" DATAMESH_KAFKA_SECURITY_PROTOCOL "$proto" \
        DATAMESH_KAFKA_LISTENER "127.0.0.1:$port"
    [ "$proto" = PLAINTEXT ] || stack_env DATAMESH_KAFKA_SASL_MECHANISM SCRAM-SHA-512 \
        DATAMESH_KAFKA_SASL_USERNAME "$KAFKA_ADMIN" DATAMESH_KAFKA_SASL_PASSWORD "$password"
}
