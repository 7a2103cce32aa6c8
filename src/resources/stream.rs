//! `datamesh_stream`: a data product's Kafka topic and its catalog entry; a kafka_topic of
//! mongey/kafka may be moved into it (its `moved` module).

mod moved;

use crate::backends::Diagnose;
use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::common::{self, known_str, ok_or_report};
use super::data_product::ProductEntry;
use crate::backends::catalog::{data_product_key, stream_key};
use crate::backends::streaming::{TopicInfo, TopicSpec};
use crate::backends::ErrorKind;
use crate::naming;
use crate::provider::{Context, ProviderData};
use tfplugin::framework::resource::PlanRequest;
use tfplugin::framework::typed::{model_or_report, state_or_report};
use tfplugin::framework::{AttrPath, Attribute, Block, Diagnostics, MoveSource, Resource, Schema, Type, Value};

/// The `datamesh_stream` resource.
pub struct Stream;

/// Said of a create whose outcome is unknown ([`crate::backends::BackendError::outcome_unknown`]).
const UNKNOWN_CREATE: &str =
    "\n\nThe broker may have created the topic without its answer reaching the provider: state records \
     the stream as tainted, so the next apply checks the broker and replaces it.";

/// Topic configs that have their own attribute.
const RETENTION_MS: &str = "retention.ms";
const CLEANUP_POLICY: &str = "cleanup.policy";

/// The resource's state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct StreamModel {
    data_product: String,
    name: String,
    partitions: Option<i64>,
    replication_factor: Option<i64>,
    retention_ms: Option<i64>,
    cleanup_policy: Option<String>,
    config: Option<BTreeMap<String, String>>,
    id: Option<String>,
    topic: Option<String>,
}

/// The stream's catalog entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamEntry {
    /// The topic.
    pub topic: String,
    /// `<domain>/<product>`.
    pub data_product: String,
    /// Stream name.
    pub name: String,
    /// Partition count.
    pub partitions: i64,
    /// Replication factor.
    pub replication_factor: i64,
    /// Topic configs set by Terraform.
    #[serde(default)]
    pub configs: BTreeMap<String, String>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<String>,
}

impl StreamModel {
    /// The topic configs this stream sets: its own attributes plus `config`.
    fn topic_configs(&self) -> BTreeMap<String, String> {
        let mut configs = self.config.clone().unwrap_or_default();
        if let Some(ms) = self.retention_ms {
            configs.insert(RETENTION_MS.into(), ms.to_string());
        }
        if let Some(p) = &self.cleanup_policy {
            configs.insert(CLEANUP_POLICY.into(), p.clone());
        }
        configs
    }

    /// Takes the topic's configs back into the attributes.
    fn apply_topic_configs(&mut self, mut configs: BTreeMap<String, String>) {
        self.retention_ms = configs.remove(RETENTION_MS).and_then(|v| v.parse().ok());
        self.cleanup_policy = configs.remove(CLEANUP_POLICY);
        let had_empty_map = self.config.as_ref().is_some_and(|c| c.is_empty());
        self.config = if configs.is_empty() && !had_empty_map { None } else { Some(configs) };
    }

    fn names(&self) -> Option<(String, String)> {
        naming::parse_data_product_id(&self.data_product).ok()
    }
}

impl Stream {
    fn model(&self, v: &Value, diags: &mut Diagnostics) -> Option<StreamModel> {
        model_or_report(v, diags)
    }

    fn state(&self, m: &StreamModel, diags: &mut Diagnostics) -> Value {
        // The state's type, built once: every create, read and update ends here.
        static TYPE: std::sync::OnceLock<Type> = std::sync::OnceLock::new();
        state_or_report(m, TYPE.get_or_init(|| self.schema().ty()), diags)
    }
}

fn topic_of(m: &StreamModel) -> Option<String> {
    m.names().map(|(d, p)| naming::topic_name(&d, &p, &m.name))
}

#[async_trait]
impl Resource<ProviderData> for Stream {
    fn type_name(&self) -> &'static str {
        "datamesh_stream"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new(
            "A stream of a data product: a Kafka topic `<domain>.<product>.<name>` and its catalog entry. Only topic configs set here are tracked; broker defaults never show as a change.",
            vec![
                Attribute::required("data_product", Type::String, "The data product's ID, `<domain>/<product>`. Changing it replaces the stream.").replace(),
                Attribute::required("name", Type::String, "Stream name, `^[a-z][a-z0-9_-]{0,48}$`. Changing it replaces the stream.").replace(),
                Attribute::optional("partitions", Type::Number, "Partition count. May only grow: Kafka cannot remove partitions. Default `3`.").default(Value::Number(3.0)),
                Attribute::optional_computed("replication_factor", Type::Number, "Replicas of each partition. Default: the provider's `kafka.default_replication_factor`. Changing it replaces the stream.").replace(),
                Attribute::optional("retention_ms", Type::Number, "The topic's `retention.ms`; `-1` keeps messages forever."),
                Attribute::optional("cleanup_policy", Type::String, "The topic's `cleanup.policy`: `delete`, `compact` or `compact,delete`."),
                Attribute::optional("config", Type::map(Type::String), "Other topic configs, like `max.message.bytes`. Configs with their own attribute (`retention.ms`, `cleanup.policy`) are rejected here."),
                Attribute::computed("id", Type::String, "The topic name."),
                Attribute::computed("topic", Type::String, "The topic name, `<domain>.<product>.<name>`."),
            ],
        ))
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        common::validate_name(config, "name", naming::check_stream, diags);
        if let Some(Some(id)) = known_str(config, "data_product") {
            if let Err(msg) = naming::parse_data_product_id(id) {
                diags.attr_error(AttrPath::attr("data_product"), "Invalid data_product", msg);
            }
        }
        if let Some(n) = config.get("partitions").as_f64() {
            if n < 1.0 || n.fract() != 0.0 || n > 100_000.0 {
                diags.attr_error(
                    AttrPath::attr("partitions"),
                    "Invalid partitions",
                    "partitions must be a whole number from 1 to 100000.",
                );
            }
        }
        if let Some(n) = config.get("replication_factor").as_f64() {
            if n < 1.0 || n.fract() != 0.0 || n > 32.0 {
                diags.attr_error(
                    AttrPath::attr("replication_factor"),
                    "Invalid replication_factor",
                    "replication_factor must be a whole number from 1 to 32.",
                );
            }
        }
        if let Some(n) = config.get("retention_ms").as_f64() {
            if n < -1.0 || n.fract() != 0.0 {
                diags.attr_error(
                    AttrPath::attr("retention_ms"),
                    "Invalid retention_ms",
                    "retention_ms must be a whole number of milliseconds, or -1 to keep messages forever.",
                );
            }
        }
        if let Some(Some(p)) = known_str(config, "cleanup_policy") {
            if !["delete", "compact", "compact,delete", "delete,compact"].contains(&p) {
                diags.attr_error(
                    AttrPath::attr("cleanup_policy"),
                    "Invalid cleanup_policy",
                    format!("{p:?} is not a cleanup policy. Use \"delete\", \"compact\" or \"compact,delete\"."),
                );
            }
        }
        if let Value::Map(m) = config.get("config") {
            for (k, v) in m {
                let path = AttrPath::attr("config").key(k);
                if k == RETENTION_MS || k == CLEANUP_POLICY {
                    let attr = k.replace('.', "_");
                    diags.attr_error(
                        path,
                        "Use the dedicated attribute",
                        format!("{k:?} has its own attribute: set {attr} instead of config[{k:?}]."),
                    );
                } else if k.is_empty()
                    || !k.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_')
                {
                    diags.attr_error(
                        path,
                        "Invalid topic config name",
                        format!("{k:?} is not a Kafka topic config name. Names look like \"max.message.bytes\"."),
                    );
                } else if v.as_str().is_some_and(|s| s.chars().any(char::is_control)) {
                    diags.attr_error(
                        path,
                        "Invalid topic config value",
                        "Topic config values may not contain control characters.",
                    );
                }
            }
        }
    }

    async fn modify_plan(&self, ctx: &Context, req: PlanRequest<'_>, planned: &mut Value, diags: &mut Diagnostics) {
        match (known_str(planned, "data_product"), known_str(planned, "name")) {
            (Some(Some(product)), Some(Some(name))) => match naming::parse_data_product_id(product) {
                Ok((domain, product)) => {
                    let topic = naming::topic_name(&domain, &product, name);
                    planned.set("id", Value::string(&topic));
                    planned.set("topic", Value::string(topic));
                }
                Err(_) => {
                    planned.set("id", Value::Unknown);
                    planned.set("topic", Value::Unknown);
                }
            },
            _ => {
                planned.set("id", Value::Unknown);
                planned.set("topic", Value::Unknown);
            }
        }
        if req.config.get("replication_factor").is_null() && req.prior.is_null() {
            planned
                .set("replication_factor", Value::Number(ctx.provider.config.kafka.default_replication_factor as f64));
        }
        if let (Some(old), Some(new)) = (req.prior.get("partitions").as_i64(), planned.get("partitions").as_i64()) {
            if new < old {
                diags.attr_error(
                    AttrPath::attr("partitions"),
                    "Partitions can only grow",
                    format!(
                        "The topic has {old} partitions; Kafka cannot remove partitions, so {new} is not possible. Keep partitions at \
                         {old} or more. To really shrink it, create a new stream with another name and move consumers over."
                    ),
                );
            }
        }
    }

    async fn create(&self, ctx: &Context, planned: &Value, diags: &mut Diagnostics) -> Value {
        let Some(mut m) = self.model(planned, diags) else { return Value::Null };
        let (Some(streaming), Some(aws)) =
            (diags.ok(ctx.provider.streaming().await), diags.ok(ctx.provider.aws().await))
        else {
            return Value::Null;
        };
        let catalog = &aws.catalog;
        let Some((domain, product)) = m.names() else {
            diags.attr_error(AttrPath::attr("data_product"), "Invalid data_product", "Use \"<domain>/<product>\".");
            return Value::Null;
        };
        let found = catalog.get::<ProductEntry>(&data_product_key(&domain, &product)).await;
        match found {
            Ok(Some(_)) => {}
            Ok(None) => {
                diags.attr_error(
                    AttrPath::attr("data_product"),
                    "Data product not found",
                    format!(
                        "Data product {:?} is not in the catalog. Create its datamesh_data_product first, or reference it \
                         (data_product = datamesh_data_product.<name>.id) so Terraform creates it first. Nothing was created.",
                        m.data_product
                    ),
                );
                return Value::Null;
            }
            Err(e) => {
                diags.0.push(e.diagnostic("the catalog"));
                return Value::Null;
            }
        }
        let topic = naming::topic_name(&domain, &product, &m.name);
        let spec = TopicSpec {
            name: topic.clone(),
            partitions: m.partitions.unwrap_or(3) as i32,
            replication_factor: m.replication_factor.unwrap_or(ctx.provider.config.kafka.default_replication_factor)
                as i32,
            configs: m.topic_configs(),
        };
        let what = format!("topic {topic:?}");
        let created = streaming.create_topic(&spec).await;
        m.id = Some(topic.clone());
        m.topic = Some(topic.clone());
        m.replication_factor = Some(spec.replication_factor as i64);
        match created {
            Ok(()) => {}
            Err(e) if e.outcome_unknown() => {
                // The broker may have made the topic and lost its answer (it went away with the
                // request in flight): state records the stream, tainted, so the next apply looks
                // and replaces it. Recording nothing would leave such a topic an orphan, which the
                // next apply would meet as "already exists".
                let mut d = e.diagnostic(&what);
                d.detail.push_str(UNKNOWN_CREATE);
                diags.0.push(d);
                return self.state(&m, diags);
            }
            Err(e) => {
                diags.0.push(e.diagnostic(&what));
                return Value::Null;
            }
        }
        let entry = StreamEntry {
            topic: topic.clone(),
            data_product: m.data_product.clone(),
            name: m.name.clone(),
            partitions: spec.partitions as i64,
            replication_factor: spec.replication_factor as i64,
            configs: spec.configs.clone(),
            created_at: Some(common::now_rfc3339()),
        };
        ok_or_report(
            catalog.put(&stream_key(&domain, &product, &m.name), &entry).await,
            &format!("catalog entry of {what}"),
            diags,
        );
        self.state(&m, diags)
    }

    async fn read(&self, ctx: &Context, state: &Value, diags: &mut Diagnostics) -> Value {
        let Some(mut m) = self.model(state, diags) else { return state.clone() };
        let Some(streaming) = diags.ok(ctx.provider.streaming().await) else { return state.clone() };
        let Some(topic) = topic_of(&m) else { return state.clone() };
        let what = format!("topic {topic:?}");
        let Some(info) = ok_or_report(streaming.describe_topic(&topic).await, &what, diags) else {
            return state.clone();
        };
        let Some(TopicInfo { partitions, replication_factor, mut configs }) = info else { return Value::Null };
        // Only configs Terraform set are tracked: those in state, or on import those the
        // catalog entry records.
        let mut tracked: Vec<String> = m.topic_configs().into_keys().collect();
        if m.partitions.is_none() {
            if let (Ok(catalog), Some((domain, product))) = (ctx.provider.catalog().await, m.names()) {
                if let Ok(Some(entry)) = catalog.get::<StreamEntry>(&stream_key(&domain, &product, &m.name)).await {
                    tracked = entry.configs.into_keys().collect();
                } else {
                    tracked = configs.keys().cloned().collect();
                }
            }
        }
        configs.retain(|k, _| tracked.contains(k));
        m.partitions = Some(partitions as i64);
        m.replication_factor = Some(replication_factor as i64);
        m.apply_topic_configs(configs);
        m.id = Some(topic.clone());
        m.topic = Some(topic);
        self.state(&m, diags)
    }

    async fn update(&self, ctx: &Context, prior: &Value, planned: &Value, diags: &mut Diagnostics) -> Value {
        let (Some(old), Some(m)) = (self.model(prior, diags), self.model(planned, diags)) else { return prior.clone() };
        let (Some(streaming), Some(aws)) =
            (diags.ok(ctx.provider.streaming().await), diags.ok(ctx.provider.aws().await))
        else {
            return prior.clone();
        };
        let catalog = &aws.catalog;
        let Some(topic) = topic_of(&m) else { return prior.clone() };
        let what = format!("topic {topic:?}");
        let (new_configs, old_configs) = (m.topic_configs(), old.topic_configs());
        let set: BTreeMap<String, String> = new_configs
            .iter()
            .filter(|(k, v)| old_configs.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let delete: Vec<String> = old_configs.keys().filter(|k| !new_configs.contains_key(*k)).cloned().collect();
        if ok_or_report(streaming.alter_topic_configs(&topic, &set, &delete).await, &what, diags).is_none() {
            return prior.clone();
        }
        let mut current = old.clone();
        current.apply_topic_configs(new_configs.clone());
        current.config = m.config.clone();
        if let (Some(new), Some(now)) = (m.partitions, old.partitions) {
            if new > now {
                match streaming.add_partitions(&topic, new as i32).await {
                    Ok(()) => current.partitions = Some(new),
                    Err(e) => {
                        let hint = if e.is(ErrorKind::Unsupported) {
                            "The broker does not implement CreatePartitions, so the stream keeps its partitions. Use a broker that supports it, or keep partitions unchanged."
                        } else {
                            "The stream keeps its partitions; run the apply again once the broker allows it."
                        };
                        diags.attr_error(
                            AttrPath::attr("partitions"),
                            format!("Cannot grow {what} to {new} partitions"),
                            format!("Kafka CreatePartitions failed: {e}.\n\n{hint}"),
                        );
                        return self.state(&current, diags);
                    }
                }
            }
        }
        if let Some((domain, product)) = m.names() {
            let key = stream_key(&domain, &product, &m.name);
            let created = match catalog.get::<StreamEntry>(&key).await {
                Ok(Some(e)) => e.created_at,
                _ => None,
            };
            let entry = StreamEntry {
                topic: topic.clone(),
                data_product: m.data_product.clone(),
                name: m.name.clone(),
                partitions: current.partitions.unwrap_or(3),
                replication_factor: current.replication_factor.unwrap_or(1),
                configs: new_configs,
                created_at: created.or_else(|| Some(common::now_rfc3339())),
            };
            ok_or_report(catalog.put(&key, &entry).await, &format!("catalog entry of {what}"), diags);
        }
        self.state(&current, diags)
    }

    async fn delete(&self, ctx: &Context, state: &Value, diags: &mut Diagnostics) {
        let Some(m) = self.model(state, diags) else { return };
        let (Some(streaming), Some(aws)) =
            (diags.ok(ctx.provider.streaming().await), diags.ok(ctx.provider.aws().await))
        else {
            return;
        };
        let catalog = &aws.catalog;
        let (Some(topic), Some((domain, product))) = (topic_of(&m), m.names()) else { return };
        if ok_or_report(streaming.delete_topic(&topic).await, &format!("topic {topic:?}"), diags).is_none() {
            return;
        }
        ok_or_report(
            catalog.delete(&stream_key(&domain, &product, &m.name)).await,
            &format!("catalog entry of topic {topic:?}"),
            diags,
        );
    }

    fn identity(&self) -> &'static [(&'static str, &'static str)] {
        &[("topic", "The topic, `<domain>.<product>.<stream>`.")]
    }

    fn import_id(&self, identity: &Value) -> Option<String> {
        identity.get("topic").as_str().map(str::to_string)
    }

    fn move_state(&self, source: &MoveSource, diags: &mut Diagnostics) -> Value {
        match moved::stream_from(source) {
            Ok(m) => self.state(&m, diags),
            Err(refused) => {
                diags.0.push(refused);
                Value::Null
            }
        }
    }

    fn import(&self, id: &str, diags: &mut Diagnostics) -> Value {
        match naming::parse_topic(id) {
            Ok((domain, product, name)) => {
                let m = StreamModel {
                    data_product: naming::data_product_id(&domain, &product),
                    name,
                    id: Some(id.to_string()),
                    topic: Some(id.to_string()),
                    ..Default::default()
                };
                self.state(&m, diags)
            }
            Err(msg) => {
                diags.error("Invalid import ID", format!("A stream is imported by its topic name. {msg}"));
                Value::Null
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedicated_attributes_become_topic_configs_and_back() {
        let m = StreamModel {
            retention_ms: Some(86_400_000),
            cleanup_policy: Some("compact".into()),
            config: Some(BTreeMap::from([("max.message.bytes".to_string(), "1048576".to_string())])),
            ..Default::default()
        };
        let configs = m.topic_configs();
        assert_eq!(configs[RETENTION_MS], "86400000");
        assert_eq!(configs[CLEANUP_POLICY], "compact");
        let mut back = StreamModel::default();
        back.apply_topic_configs(configs);
        assert_eq!(back.retention_ms, Some(86_400_000));
        assert_eq!(back.cleanup_policy.as_deref(), Some("compact"));
        assert_eq!(back.config, m.config);
    }

    #[test]
    fn a_moved_kafka_topic_is_a_whole_stream_state_and_a_refused_one_none() {
        let state = serde_json::json!({
            "config": {"retention.ms": "3600000"}, "id": "sales.orders.clicks", "name": "sales.orders.clicks",
            "partitions": 3, "replication_factor": 1,
        });
        let mut source = MoveSource {
            provider_address: "registry.terraform.io/mongey/kafka".into(),
            type_name: "kafka_topic".into(),
            schema_version: 0,
            state,
            private: Vec::new(),
            identity: None,
            identity_schema_version: 0,
        };
        let mut d = Diagnostics::new();
        let moved = Stream.move_state(&source, &mut d);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(moved.get("data_product").as_str(), Some("sales/orders"));
        assert_eq!(moved.get("retention_ms").as_i64(), Some(3_600_000));
        assert!(moved.get("config").is_null() && moved.get("cleanup_policy").is_null());
        assert!(moved.is_wholly_known());
        let Value::Object(attrs) = &moved else { panic!("a state is an object: {moved:?}") };
        let names: Vec<String> = Stream.schema().block.attributes.into_iter().map(|a| a.name).collect();
        assert_eq!(attrs.len(), names.len());
        assert!(names.iter().all(|n| attrs.contains_key(n)), "every attribute is in {attrs:?}");
        source.state["name"] = serde_json::json!("clicks");
        assert!(Stream.move_state(&source, &mut d).is_null());
        assert!(d.has_errors());
    }

    #[test]
    fn configs_with_their_own_attribute_are_rejected_in_config() {
        let mut config = Value::Object(BTreeMap::new());
        config.set("config", Value::Map(BTreeMap::from([("retention.ms".to_string(), Value::string("1"))])));
        let mut d = Diagnostics::new();
        Stream.validate(&config, &mut d);
        assert_eq!(d.0[0].path.as_ref().unwrap().to_string(), "config[\"retention.ms\"]");
        assert!(d.0[0].detail.contains("retention_ms"));
    }
}
