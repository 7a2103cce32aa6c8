//! What the datamesh provider's backends read and write as text, apart from the clients that
//! send it: the answers of WebHDFS ([`webhdfs`]), Flink's JobManager ([`flink`]) and Spark's
//! REST submission server ([`spark`]) parsed into typed answers or a [`BackendError`], and the
//! CQL statements the Cassandra backend sends ([`cql`]), built with one quoting rule each for
//! identifiers and literals.
//!
//! Everything here is a pure function of its input: no I/O, no async, no HTTP client, driver or
//! plugin framework (the provider turns a [`BackendError`] into a Terraform diagnostic).
//! That keeps the crate cheap to build, so the fuzz targets in `fuzz/` (one per parser family,
//! and the CQL quoting round trip) build it in about a minute instead of compiling the whole
//! provider, and it lets a reviewer check every parser against a server's answer without a
//! server. The provider's backends (`terraform-provider-datamesh`, `src/backends/`) own the
//! clients, the retries and the backend traits, and re-export what they use from here under
//! their old paths (`backends::error::BackendError`, `backends::hdfs::FileStatus`,
//! `backends::processing::JobStatus`, `crate::cql`).
//!
//! What no parser may do, whatever a server sends: panic, or lose the operation (and, for
//! WebHDFS, the path) its error is about. A body quoted in a message is cut to a bounded
//! excerpt ([`body::excerpt`]).
//!
//! ```
//! use backend_wire::{flink, ErrorKind};
//!
//! let e = flink::error("GetJob", 404, r#"{"errors":["Job abc not found"]}"#);
//! assert_eq!((e.kind, e.operation), (ErrorKind::NotFound, "GetJob"));
//! assert_eq!(e.to_string(), "Flink GetJob (HTTP 404): HTTP 404: Job abc not found");
//! ```

pub mod body;
pub mod cql;
pub mod error;
pub mod flink;
pub mod hdfs;
pub mod processing;
pub mod spark;
pub mod webhdfs;

pub use error::{BackendError, ErrorKind};
