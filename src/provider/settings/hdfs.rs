//! `hdfs { ... }`: where the WebHDFS endpoint is, whom the provider acts as, and where the
//! mesh's directories live.

use std::time::Duration;

use super::{env, timeout, validate_timeout, Reader, MAX_TIMEOUT_SECONDS};
use tfplugin::framework::{AttrPath, Attribute, Block, Diagnostics, Type, Value};

/// The HDFS settings.
#[derive(Debug, Clone)]
pub struct HdfsSettings {
    /// The NameNode's WebHDFS base URL (`http://host:9870`); None: HDFS is not configured.
    pub webhdfs_url: Option<String>,
    /// The `hdfs://` URI products publish in `hdfs_uri`.
    pub namenode_uri: Option<String>,
    /// The HDFS superuser the provider acts as (simple authentication).
    pub user: String,
    /// The parent of every domain and product directory.
    pub root: String,
    /// Per-call timeout.
    pub timeout: Duration,
}

impl Default for HdfsSettings {
    fn default() -> Self {
        Self {
            webhdfs_url: None,
            namenode_uri: None,
            user: "hdfs".into(),
            root: "/datamesh".into(),
            timeout: Duration::from_secs(30),
        }
    }
}

impl HdfsSettings {
    /// The block's schema.
    pub fn block() -> Block {
        Block::new(
            "Where and how to reach HDFS (through WebHDFS). Products' `hdfs {}` ports need it.",
            vec![
                Attribute::optional("webhdfs_url", Type::String, "The NameNode's WebHDFS URL, like `http://127.0.0.1:9870`. Default: `DATAMESH_HDFS_WEBHDFS_URL`."),
                Attribute::optional("namenode_uri", Type::String, "The NameNode's `hdfs://host:port` URI, only used in the `hdfs_uri` a product publishes. Default: `DATAMESH_HDFS_NAMENODE_URI`."),
                Attribute::optional("user", Type::String, "The HDFS superuser the provider acts as (simple authentication). Default `hdfs`."),
                Attribute::optional("root", Type::String, "The parent directory of every domain and product directory. Default `/datamesh`."),
                Attribute::optional("timeout_seconds", Type::Number, "Timeout of one WebHDFS call, 1 to 300 seconds. Default `30`."),
            ],
        )
    }

    /// The settings from the block (null when absent), with environment defaults.
    pub(crate) fn parse(r: &mut Reader, v: &Value) -> Self {
        let d = Self::default();
        Self {
            webhdfs_url: r.string(v, "hdfs", "webhdfs_url").or_else(|| env("DATAMESH_HDFS_WEBHDFS_URL")),
            namenode_uri: r.string(v, "hdfs", "namenode_uri").or_else(|| env("DATAMESH_HDFS_NAMENODE_URI")),
            user: r.string(v, "hdfs", "user").unwrap_or(d.user),
            root: r.string(v, "hdfs", "root").map(|s| normalize_root(&s)).unwrap_or(d.root),
            timeout: timeout(r, v, "hdfs", MAX_TIMEOUT_SECONDS, d.timeout),
        }
    }

    /// Whether HDFS ports can be made: its endpoint is known.
    pub fn configured(&self) -> bool {
        self.webhdfs_url.is_some()
    }

    /// A domain's home directory, `<root>/<domain>`.
    pub fn domain_dir(&self, domain: &str) -> String {
        format!("{}/{domain}", self.root.trim_end_matches('/'))
    }

    /// A product's directory, `<root>/<domain>/<product>`.
    pub fn product_dir(&self, domain: &str, product: &str) -> String {
        format!("{}/{product}", self.domain_dir(domain))
    }

    /// The product directory's URI as clients address it (`hdfs://host:port/path`), or its path
    /// alone when no NameNode URI is known.
    pub fn uri(&self, path: &str) -> String {
        match &self.namenode_uri {
            Some(base) => format!("{}{path}", base.trim_end_matches('/')),
            None => path.to_string(),
        }
    }

    /// Checks the block's own values (unknown ones are skipped).
    pub(crate) fn validate(config: &Value, diags: &mut Diagnostics) {
        let block = config.get("hdfs");
        let at = |name: &str| AttrPath::attr("hdfs").then(name);
        if let Some(url) = block.get("webhdfs_url").as_str() {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                diags.attr_error(at("webhdfs_url"), "Invalid webhdfs_url", format!("{url:?} is not an http:// or https:// URL. Give the NameNode's HTTP address, like \"http://127.0.0.1:9870\"."));
            }
        }
        if let Some(uri) = block.get("namenode_uri").as_str() {
            if !uri.starts_with("hdfs://") {
                diags.attr_error(at("namenode_uri"), "Invalid namenode_uri", format!("{uri:?} is not an hdfs:// URI. Give the NameNode's RPC address, like \"hdfs://127.0.0.1:8020\"."));
            }
        }
        if let Some(root) = block.get("root").as_str() {
            if let Err(msg) = check_root(root) {
                diags.attr_error(at("root"), "Invalid root", msg);
            }
        }
        if let Some(user) = block.get("user").as_str() {
            if user.is_empty() || user.chars().any(|c| c.is_whitespace() || c.is_control() || ":,/".contains(c)) {
                diags.attr_error(
                    at("user"),
                    "Invalid user",
                    format!("{user:?} is not an HDFS user name. Use the NameNode's superuser, like \"hdfs\"."),
                );
            }
        }
        validate_timeout(config, "hdfs", MAX_TIMEOUT_SECONDS, "WebHDFS call", diags);
    }
}

/// `/datamesh/` and `/datamesh` are the same root.
fn normalize_root(root: &str) -> String {
    let trimmed = root.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".into()
    } else {
        trimmed.into()
    }
}

/// An absolute path of plain segments: no `.`/`..`, no empty segment, nothing WebHDFS would
/// need to escape beyond what paths hold.
fn check_root(root: &str) -> Result<(), String> {
    let fix = "Use an absolute path of letters, digits, `-`, `_` and `.`, like \"/datamesh\".";
    if !root.starts_with('/') || root == "/" {
        return Err(format!("{root:?} must be an absolute directory below /. {fix}"));
    }
    for seg in root.trim_end_matches('/')[1..].split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return Err(format!("{root:?} has an empty, `.` or `..` segment. {fix}"));
        }
        if !seg.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err(format!("{root:?} has characters other than letters, digits, `-`, `_` and `.`. {fix}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_follow_the_root() {
        let s = HdfsSettings {
            root: normalize_root("/mesh/"),
            namenode_uri: Some("hdfs://nn:8020/".into()),
            ..Default::default()
        };
        assert_eq!(s.domain_dir("sales"), "/mesh/sales");
        assert_eq!(s.product_dir("sales", "orders"), "/mesh/sales/orders");
        assert_eq!(s.uri("/mesh/sales/orders"), "hdfs://nn:8020/mesh/sales/orders");
        assert_eq!(HdfsSettings::default().product_dir("a", "b"), "/datamesh/a/b");
    }

    #[test]
    fn roots_are_plain_absolute_paths() {
        for ok in ["/datamesh", "/data/mesh", "/a_b-c.d/"] {
            assert!(check_root(ok).is_ok(), "{ok}");
        }
        for bad in ["datamesh", "/", "/a//b", "/a/../b", "/a b", "/a?op=DELETE", "/ü"] {
            assert!(check_root(bad).is_err(), "{bad}");
        }
    }
}
