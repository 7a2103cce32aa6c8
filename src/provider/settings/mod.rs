//! The settings blocks each backend owns in the provider configuration: schema, parsing with
//! environment defaults, validation and timeout, one module per backend.

pub mod aws;
pub mod cassandra;
pub mod flink;
pub mod hdfs;
pub mod kafka;
pub mod spark;

use std::time::Duration;

use tfplugin::framework::{AttrPath, Diagnostics, Value};

/// The longest single call the provider waits for on HDFS or Cassandra.
pub const MAX_TIMEOUT_SECONDS: i64 = 300;

/// Reads settings, noting the unknown ones instead of failing.
pub(crate) struct Reader {
    /// Settings whose value was unknown, as `block.name`.
    pub(crate) unknown: Vec<String>,
}

impl Reader {
    pub(crate) fn known<'v>(&mut self, v: &'v Value, path: &str) -> Option<&'v Value> {
        if !v.is_wholly_known() {
            self.unknown.push(path.to_string());
            return None;
        }
        (!v.is_null()).then_some(v)
    }
    pub(crate) fn string(&mut self, obj: &Value, block: &str, name: &str) -> Option<String> {
        let path = if block.is_empty() { name.to_string() } else { format!("{block}.{name}") };
        self.known(obj.get(name), &path).and_then(|v| v.as_str()).map(str::to_string)
    }
    pub(crate) fn bool(&mut self, obj: &Value, block: &str, name: &str) -> Option<bool> {
        self.known(obj.get(name), &format!("{block}.{name}")).and_then(Value::as_bool)
    }
    pub(crate) fn int(&mut self, obj: &Value, block: &str, name: &str) -> Option<i64> {
        self.known(obj.get(name), &format!("{block}.{name}")).and_then(Value::as_i64)
    }
    pub(crate) fn strings(&mut self, obj: &Value, block: &str, name: &str) -> Option<Vec<String>> {
        self.known(obj.get(name), &format!("{block}.{name}"))
            .map(|v| v.elements().iter().filter_map(|e| e.as_str().map(str::to_string)).collect())
    }
}

/// An environment variable's value, when set and not blank.
pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A comma-separated list from the environment.
pub(crate) fn env_list(name: &str) -> Vec<String> {
    env(name)
        .map(|s| s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect())
        .unwrap_or_default()
}

/// `timeout_seconds` of a block, when set and within 1..=`max`; else `default`.
pub(crate) fn timeout(r: &mut Reader, block_value: &Value, block: &str, max: i64, default: Duration) -> Duration {
    r.int(block_value, block, "timeout_seconds")
        .filter(|s| (1..=max).contains(s))
        .map(|s| Duration::from_secs(s as u64))
        .unwrap_or(default)
}

/// Reports a `timeout_seconds` outside 1..=`max` at its path.
pub(crate) fn validate_timeout(config: &Value, block: &str, max: i64, why: &str, diags: &mut Diagnostics) {
    if let Some(t) = config.get(block).get("timeout_seconds").as_i64() {
        if !(1..=max).contains(&t) {
            diags.attr_error(
                AttrPath::attr(block).then("timeout_seconds"),
                "Invalid timeout_seconds",
                format!("The timeout of one {why} must be 1 to {max} seconds; {t} is outside that."),
            );
        }
    }
}

/// Reports `url` at `at` unless it is an http:// or https:// URL with a host; `what` says what
/// to give instead.
pub(crate) fn validate_http_url(url: &str, at: AttrPath, what: &str, diags: &mut Diagnostics) {
    let ok = reqwest::Url::parse(url)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .unwrap_or(false);
    if !ok {
        let name = at.to_string();
        let attr = name.rsplit('.').next().unwrap_or(&name).to_string();
        diags.attr_error(
            at,
            format!("Invalid {attr}"),
            format!("{url:?} is not an http:// or https:// URL. Give {what}."),
        );
    }
}
