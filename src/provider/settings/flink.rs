//! `flink { ... }`: where the Flink JobManager's REST API is, and where savepoints go.

use std::time::Duration;

use super::{env, timeout, validate_timeout, Reader, MAX_TIMEOUT_SECONDS};
use tfplugin::framework::{AttrPath, Attribute, Block, Diagnostics, Type, Value};

/// The Flink settings.
#[derive(Debug, Clone)]
pub struct FlinkSettings {
    /// The JobManager's REST base URL (`http://host:8081`); None: Flink is not configured.
    pub rest_url: Option<String>,
    /// Where savepoints go; None: the cluster's `execution.checkpointing.savepoint-dir`.
    pub savepoint_dir: Option<String>,
    /// Per-call timeout of one REST call (waiting for a state or a savepoint is bounded by the
    /// operation's own timeouts).
    pub timeout: Duration,
}

impl Default for FlinkSettings {
    fn default() -> Self {
        Self { rest_url: None, savepoint_dir: None, timeout: Duration::from_secs(30) }
    }
}

impl FlinkSettings {
    /// The block's schema.
    pub fn block() -> Block {
        Block::new(
            "Where and how to reach Apache Flink (the JobManager's REST API). Pipelines with `engine = \"flink\"` need it.",
            vec![
                Attribute::optional("rest_url", Type::String, "The JobManager's REST URL, like `http://127.0.0.1:8081`. Default: `DATAMESH_FLINK_REST_URL`."),
                Attribute::optional("savepoint_dir", Type::String, "Where savepoints go, like `s3://bucket/savepoints` or `file:///srv/flink/sp`. Default: the cluster's own `execution.checkpointing.savepoint-dir`."),
                Attribute::optional("timeout_seconds", Type::Number, "Timeout of one REST call, 1 to 300 seconds. Default `30`."),
            ],
        )
    }

    /// The settings from the block (null when absent), with environment defaults.
    pub(crate) fn parse(r: &mut Reader, v: &Value) -> Self {
        let d = Self::default();
        Self {
            rest_url: r.string(v, "flink", "rest_url").or_else(|| env("DATAMESH_FLINK_REST_URL")),
            savepoint_dir: r.string(v, "flink", "savepoint_dir"),
            timeout: timeout(r, v, "flink", MAX_TIMEOUT_SECONDS, d.timeout),
        }
    }

    /// Whether streaming pipelines can run: the REST endpoint is known.
    pub fn configured(&self) -> bool {
        self.rest_url.is_some()
    }

    /// Checks the block's own values (unknown ones are skipped).
    pub(crate) fn validate(config: &Value, diags: &mut Diagnostics) {
        let block = config.get("flink");
        if let Some(url) = block.get("rest_url").as_str() {
            super::validate_http_url(
                url,
                AttrPath::attr("flink").then("rest_url"),
                "the JobManager's REST address, like \"http://127.0.0.1:8081\"",
                diags,
            );
        }
        if let Some(dir) = block.get("savepoint_dir").as_str() {
            if !dir.contains("://") {
                diags.attr_error(
                    AttrPath::attr("flink").then("savepoint_dir"),
                    "Invalid savepoint_dir",
                    format!("{dir:?} has no scheme. Give a URI the cluster can write, like \"s3://bucket/savepoints\" or \"file:///srv/flink/savepoints\"."),
                );
            }
        }
        validate_timeout(config, "flink", MAX_TIMEOUT_SECONDS, "Flink REST call", diags);
    }
}
