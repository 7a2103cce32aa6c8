//! Acceptance tests: the real Terraform CLI drives the freshly built provider against the
//! local stack (`scripts/stack-up.sh`: moto for S3/IAM/STS, Apache Kafka, and the other servers
//! the platform stands on). Start it with `make test`.

// Test setup may unwrap: a failure there is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod cassandra_backend_test;
mod cassandra_hdfs_smoke_test;
mod cassandra_port_test;
mod cli_versions_test;
mod data_product_test;
mod data_source_test;
mod domain_test;
mod engines_smoke_test;
mod ephemeral_test;
mod examples_test;
mod fault_test;
mod function_test;
mod grant_access_test;
mod grant_test;
mod hdfs_port_test;
mod kafka_access_test;
mod kafka_quota_test;
mod mesh_test;
mod module_test;
mod moved_test;
mod mtls_test;
mod odps_test;
mod opentofu_test;
mod outage_test;
mod pipeline_test;
mod plugin_test;
mod ports_grant_test;
mod processing_backend_test;
mod query_test;
mod refresh_cost_test;
mod release_test;
mod sasl_test;
mod secrets_test;
mod stream_test;
mod validation_test;
mod webhdfs_backend_test;
