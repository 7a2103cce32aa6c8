//! Backends behind small traits: object storage, IAM, streaming, and the catalog built on
//! storage. Resources talk to these traits only; the SDKs live in the real implementations.

pub mod aws_iam;
pub mod cassandra;
pub mod catalog;
pub mod database;
pub mod error;
pub mod flink;
pub mod hdfs;
pub mod iam;
pub mod kafka;
mod listing;
pub mod processing;
mod rest;
pub mod retry;
pub mod s3;
pub mod spark;
pub mod storage;
pub mod streaming;
pub mod tls;
pub mod webhdfs;

pub use catalog::Catalog;
pub use database::Database;
pub use error::{BackendError, Diagnose, ErrorKind};
pub use hdfs::Hdfs;
pub use iam::Iam;
pub use processing::Processing;
pub use storage::Storage;
pub use streaming::Streaming;
