//! Logs as hclog JSON lines on stderr, the format go-plugin parses, so that
//! `TF_LOG=debug terraform apply` shows the provider's lines at the right level.

use std::io::Write;

use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the hclog layer at the level Terraform asked for (`TF_LOG_PROVIDER`, then `TF_LOG`);
/// each line's `@module` is `<module>.<tracing target>`.
pub(super) fn init(module: &'static str) {
    let level = ["TF_LOG_PROVIDER", "TF_LOG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .map(|v| parse_level(&v))
        .unwrap_or(Some(Level::WARN));
    let Some(level) = level else { return };
    let _ = tracing_subscriber::registry().with(HclogLayer { max: level, module }).try_init();
}

/// Terraform's level names; `off` disables logging.
fn parse_level(v: &str) -> Option<Level> {
    match v.trim().to_ascii_lowercase().as_str() {
        "trace" | "json" => Some(Level::TRACE),
        "debug" => Some(Level::DEBUG),
        "info" => Some(Level::INFO),
        "warn" => Some(Level::WARN),
        "error" => Some(Level::ERROR),
        "off" => None,
        _ => Some(Level::TRACE),
    }
}

struct HclogLayer {
    max: Level,
    module: &'static str,
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        *metadata.level() <= self.max && !is_noisy(metadata.target())
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields(Map::new());
        event.record(&mut fields);
        let mut line = fields.0;
        let message = line.remove("message").unwrap_or(Json::String(String::new()));
        line.insert("@level".into(), Json::String(hclog_level(meta.level()).into()));
        line.insert("@message".into(), message);
        line.insert("@module".into(), Json::String(format!("{}.{}", self.module, meta.target())));
        line.insert("@timestamp".into(), Json::String(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()));
        let mut out = serde_json::to_vec(&line).unwrap_or_default();
        out.push(b'\n');
        // A log line that cannot be written has nowhere else to go.
        let _ = std::io::stderr().lock().write_all(&out);
    }
}

/// SDK internals that would drown the provider's own lines even at debug (and the CQL driver,
/// whose trace spans carry statement text: a role's password is a literal in its statement).
fn is_noisy(target: &str) -> bool {
    ["h2", "hyper", "rustls", "tower", "aws_smithy", "aws_config", "tonic", "scylla", "reqwest"]
        .iter()
        .any(|p| target.starts_with(p))
}

fn hclog_level(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

struct Fields(Map<String, Json>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().into(), Json::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Json::String(value.into()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Json::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Json::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Json::from(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_level_names_map_to_tracing_levels() {
        assert_eq!(parse_level("DEBUG"), Some(Level::DEBUG));
        assert_eq!(parse_level("off"), None);
        assert_eq!(parse_level("trace"), Some(Level::TRACE));
        assert_eq!(parse_level("1"), Some(Level::TRACE));
    }
}
