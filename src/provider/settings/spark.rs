//! `spark { ... }`: where the Spark standalone master and its REST submission server are.

use std::time::Duration;

use super::{env, timeout, validate_timeout, Reader, MAX_TIMEOUT_SECONDS};
use tfplugin::framework::{AttrPath, Attribute, Block, Diagnostics, Type, Value};

/// The Spark settings.
#[derive(Debug, Clone)]
pub struct SparkSettings {
    /// The master's REST submission server (`http://host:6066`); None: Spark is not configured.
    pub rest_url: Option<String>,
    /// The master's URL drivers are submitted to (`spark://host:7077`, the submission's
    /// `spark.master`); None: the REST URL's host on port 7077.
    pub master_url: Option<String>,
    /// Per-call timeout of one REST call.
    pub timeout: Duration,
}

impl Default for SparkSettings {
    fn default() -> Self {
        Self { rest_url: None, master_url: None, timeout: Duration::from_secs(30) }
    }
}

impl SparkSettings {
    /// The block's schema.
    pub fn block() -> Block {
        Block::new(
            "Where and how to reach an Apache Spark standalone master (its REST submission server). Pipelines with `engine = \"spark\"` need it.",
            vec![
                Attribute::optional("rest_url", Type::String, "The master's REST submission server, like `http://127.0.0.1:6066`. Default: `DATAMESH_SPARK_REST_URL`."),
                Attribute::optional("master_url", Type::String, "The master's URL, like `spark://127.0.0.1:7077`. Default: `DATAMESH_SPARK_MASTER_URL`, else the REST URL's host on port 7077."),
                Attribute::optional("timeout_seconds", Type::Number, "Timeout of one REST call, 1 to 300 seconds. Default `30`."),
            ],
        )
    }

    /// The settings from the block (null when absent), with environment defaults.
    pub(crate) fn parse(r: &mut Reader, v: &Value) -> Self {
        let d = Self::default();
        Self {
            rest_url: r.string(v, "spark", "rest_url").or_else(|| env("DATAMESH_SPARK_REST_URL")),
            master_url: r.string(v, "spark", "master_url").or_else(|| env("DATAMESH_SPARK_MASTER_URL")),
            timeout: timeout(r, v, "spark", MAX_TIMEOUT_SECONDS, d.timeout),
        }
    }

    /// Whether batch pipelines can run: the REST endpoint is known.
    pub fn configured(&self) -> bool {
        self.rest_url.is_some()
    }

    /// The master URL submissions name: the configured one, else `spark://<rest host>:7077`.
    pub fn master(&self) -> Option<String> {
        self.master_url.clone().or_else(|| {
            let url = reqwest::Url::parse(self.rest_url.as_deref()?).ok()?;
            Some(format!("spark://{}:7077", url.host_str()?))
        })
    }

    /// Checks the block's own values (unknown ones are skipped).
    pub(crate) fn validate(config: &Value, diags: &mut Diagnostics) {
        let block = config.get("spark");
        if let Some(url) = block.get("rest_url").as_str() {
            super::validate_http_url(
                url,
                AttrPath::attr("spark").then("rest_url"),
                "the master's REST submission address, like \"http://127.0.0.1:6066\"",
                diags,
            );
        }
        if let Some(url) = block.get("master_url").as_str() {
            if !url.starts_with("spark://") {
                diags.attr_error(
                    AttrPath::attr("spark").then("master_url"),
                    "Invalid master_url",
                    format!("{url:?} is not a spark:// URL. Give the standalone master's address, like \"spark://127.0.0.1:7077\"."),
                );
            }
        }
        validate_timeout(config, "spark", MAX_TIMEOUT_SECONDS, "Spark REST call", diags);
    }
}
