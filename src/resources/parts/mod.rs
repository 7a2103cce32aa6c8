//! What a domain, a data product port and a grant mean on each backend beyond S3, IAM and
//! Kafka: one module per backend, each with the same three parts, which the resources call
//! for every backend the provider has configured (a product's ports are recorded in its state
//! and catalog entry).

pub(crate) mod cassandra;
pub(crate) mod hdfs;
