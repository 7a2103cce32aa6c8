//! `cassandra { ... }`: where the cluster is, the role the provider logs in as, and the
//! replication keyspaces get by default.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{env, env_list, timeout, validate_timeout, Reader, MAX_TIMEOUT_SECONDS};
use crate::provider::config::Secret;
use tfplugin::framework::{AttrPath, Attribute, Block, Diagnostics, Type, Value};

/// The Cassandra settings.
#[derive(Debug, Clone)]
pub struct CassandraSettings {
    /// `host:port` of the nodes to contact first; empty: Cassandra is not configured.
    pub contact_points: Vec<String>,
    /// The datacenter the provider talks to.
    pub local_datacenter: String,
    /// The provider's role.
    pub username: Option<String>,
    /// Its password.
    pub password: Option<Secret>,
    /// CA certificate for TLS; None: plain connections.
    pub ca_cert_pem: Option<String>,
    /// Replication of keyspaces whose port sets none: datacenter → factor.
    pub replication: BTreeMap<String, i64>,
    /// Per-call timeout.
    pub timeout: Duration,
}

impl Default for CassandraSettings {
    fn default() -> Self {
        Self {
            contact_points: Vec::new(),
            local_datacenter: "datacenter1".into(),
            username: None,
            password: None,
            ca_cert_pem: None,
            replication: BTreeMap::from([("datacenter1".to_string(), 3)]),
            timeout: Duration::from_secs(30),
        }
    }
}

impl CassandraSettings {
    /// The block's schema.
    pub fn block() -> Block {
        Block::new(
            "Where and how to reach Cassandra. Products' `cassandra {}` ports need it.",
            vec![
                Attribute::optional("contact_points", Type::list(Type::String), "Nodes to contact first, as `host:port`. Default: `DATAMESH_CASSANDRA_CONTACT_POINTS` (comma separated)."),
                Attribute::optional("local_datacenter", Type::String, "The datacenter the provider talks to. Default `datacenter1`."),
                Attribute::optional("username", Type::String, "A role that may create roles and keyspaces and grant on them. Default: `DATAMESH_CASSANDRA_USERNAME`."),
                Attribute::optional("password", Type::String, "Its password. Default: `DATAMESH_CASSANDRA_PASSWORD`.").sensitive(),
                Attribute::optional("ca_cert_pem", Type::String, "PEM CA certificate that signs the nodes' TLS certificates; set it to connect with TLS."),
                Attribute::optional("replication", Type::map(Type::Number), "Replication of keyspaces whose port sets none (NetworkTopologyStrategy): datacenter → factor. Default `{ <local_datacenter> = 3 }`."),
                Attribute::optional("timeout_seconds", Type::Number, "Timeout of one CQL request, 1 to 300 seconds. Default `30`."),
            ],
        )
    }

    /// The settings from the block (null when absent), with environment defaults.
    pub(crate) fn parse(r: &mut Reader, v: &Value) -> Self {
        let d = Self::default();
        let local_datacenter = r.string(v, "cassandra", "local_datacenter").unwrap_or(d.local_datacenter);
        let replication = match r.known(v.get("replication"), "cassandra.replication") {
            Some(Value::Map(m)) => m.iter().filter_map(|(k, f)| f.as_i64().map(|f| (k.clone(), f))).collect(),
            _ => BTreeMap::from([(local_datacenter.clone(), 3)]),
        };
        Self {
            contact_points: r
                .strings(v, "cassandra", "contact_points")
                .unwrap_or_else(|| env_list("DATAMESH_CASSANDRA_CONTACT_POINTS")),
            local_datacenter,
            username: r.string(v, "cassandra", "username").or_else(|| env("DATAMESH_CASSANDRA_USERNAME")),
            password: r.string(v, "cassandra", "password").or_else(|| env("DATAMESH_CASSANDRA_PASSWORD")).map(Secret),
            ca_cert_pem: r.string(v, "cassandra", "ca_cert_pem"),
            replication,
            timeout: timeout(r, v, "cassandra", MAX_TIMEOUT_SECONDS, d.timeout),
        }
    }

    /// Whether Cassandra ports can be made: its contact points are known.
    pub fn configured(&self) -> bool {
        !self.contact_points.is_empty()
    }

    /// Checks the block's own values (unknown ones are skipped).
    pub(crate) fn validate(config: &Value, diags: &mut Diagnostics) {
        let block = config.get("cassandra");
        let at = |name: &str| AttrPath::attr("cassandra").then(name);
        for (i, point) in block.get("contact_points").elements().iter().enumerate() {
            if let Some(p) = point.as_str() {
                let port_ok = p.rsplit_once(':').is_some_and(|(h, port)| !h.is_empty() && port.parse::<u16>().is_ok());
                if !port_ok {
                    diags.attr_error(
                        at("contact_points").index(i),
                        "Invalid contact point",
                        format!("{p:?} is not host:port. Write each node as \"127.0.0.1:9042\"."),
                    );
                }
            }
        }
        if block.get("replication").is_wholly_known() {
            validate_replication(block.get("replication"), at("replication"), diags);
        }
        validate_timeout(config, "cassandra", MAX_TIMEOUT_SECONDS, "CQL request", diags);
    }
}

/// Checks a replication map (the provider's default or a port's): at least one datacenter,
/// each factor 1 to 100, datacenter names without quotes or control characters.
pub fn validate_replication(v: &Value, path: AttrPath, diags: &mut Diagnostics) {
    let Value::Map(m) = v else { return };
    if m.is_empty() {
        diags.attr_error(
            path.clone(),
            "Empty replication",
            "Name at least one datacenter with its replication factor, like { datacenter1 = 3 }.",
        );
    }
    for (dc, factor) in m {
        if dc.is_empty() || dc.len() > 100 || dc.chars().any(|c| c.is_control() || c == '\'' || c == '"') {
            diags.attr_error(path.clone().key(dc), "Invalid datacenter", format!("{dc:?} is not a datacenter name. Use the names Cassandra reports (nodetool status), like \"datacenter1\"."));
        }
        match factor.as_f64() {
            Some(f) if f.fract() == 0.0 && (1.0..=100.0).contains(&f) => {}
            Some(f) => diags.attr_error(
                path.clone().key(dc),
                "Invalid replication factor",
                format!("The replication factor of {dc:?} must be a whole number from 1 to 100; {f} is not."),
            ),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_replication_follows_the_local_datacenter() {
        let mut r = Reader { unknown: Vec::new() };
        let v = Value::object([("local_datacenter", Value::string("dc-east"))]);
        let s = CassandraSettings::parse(&mut r, &v);
        assert_eq!(s.replication, BTreeMap::from([("dc-east".to_string(), 3)]));
    }

    #[test]
    fn bad_replication_is_reported_at_its_datacenter() {
        let v = Value::Map(BTreeMap::from([
            ("dc1".to_string(), Value::Number(0.0)),
            ("dc'2".to_string(), Value::Number(1.0)),
            ("dc3".to_string(), Value::Number(2.5)),
            ("ok".to_string(), Value::Number(3.0)),
        ]));
        let mut d = Diagnostics::new();
        validate_replication(&v, AttrPath::attr("replication"), &mut d);
        let paths: Vec<String> = d.0.iter().filter_map(|x| x.path.as_ref().map(|p| p.to_string())).collect();
        assert_eq!(paths, vec!["replication[\"dc'2\"]", "replication[\"dc1\"]", "replication[\"dc3\"]"]);
    }
}
