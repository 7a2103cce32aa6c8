//! `moved { from = kafka_topic.x  to = datamesh_stream.y }`: a topic the `mongey/kafka` provider
//! manages joins the mesh as a stream, without being recreated. A pure mapping from the
//! kafka_topic's stored state to the stream's; every other source is refused, saying why.

use std::collections::BTreeMap;

use serde::Deserialize;
use tfplugin::framework::{Diagnostic, MoveSource};

use super::{StreamModel, RETENTION_MS};
use crate::naming;

/// The only resource type a stream takes over.
const KAFKA_TOPIC: &str = "kafka_topic";

/// `mongey/kafka` as Terraform and as OpenTofu name it.
const MONGEY_KAFKA: [&str; 2] = ["registry.terraform.io/mongey/kafka", "registry.opentofu.org/mongey/kafka"];

/// The kafka_topic schema version this mapping reads (mongey/kafka has never raised it).
const KAFKA_TOPIC_SCHEMA_VERSION: i64 = 0;

/// The attributes of a kafka_topic's state that a stream takes over.
#[derive(Debug, Deserialize)]
struct KafkaTopic {
    name: String,
    partitions: i64,
    replication_factor: i64,
    #[serde(default)]
    config: Option<BTreeMap<String, String>>,
}

/// The stream a moved kafka_topic becomes: the topic's name read as `<domain>.<product>.<stream>`,
/// partitions and replication factor, `retention.ms` and `cleanup.policy` into their attributes
/// and every other config into `config` (the state a read of the topic makes, so the next plan
/// shows no change when the stream's block says what the kafka_topic's said).
pub(super) fn stream_from(source: &MoveSource) -> Result<StreamModel, Diagnostic> {
    let from_mongey = MONGEY_KAFKA.iter().any(|a| a.eq_ignore_ascii_case(&source.provider_address));
    if source.type_name != KAFKA_TOPIC || !from_mongey {
        return Err(source.refused(
            "datamesh_stream",
            "It takes over only a kafka_topic of the mongey/kafka provider (registry.terraform.io/mongey/kafka) whose \
             topic is named <domain>.<product>.<stream>.",
        ));
    }
    let refused = |detail: String| Diagnostic::error("Cannot move kafka_topic into datamesh_stream", detail);
    if source.schema_version != KAFKA_TOPIC_SCHEMA_VERSION {
        return Err(refused(format!(
            "This kafka_topic's state has schema version {}, written by a mongey/kafka release newer than this provider \
             knows (it reads version {KAFKA_TOPIC_SCHEMA_VERSION}). Upgrade terraform-provider-datamesh, or adopt the topic \
             with an import block instead of the moved block (after `terraform state rm` of the kafka_topic).",
            source.schema_version
        )));
    }
    let topic: KafkaTopic = serde_json::from_value(source.state.clone()).map_err(|e| {
        refused(format!(
            "This kafka_topic's state does not hold name, partitions and replication_factor as mongey/kafka writes them \
             ({e}). Refresh it with mongey/kafka first (`terraform apply -refresh-only` with the kafka_topic block), then \
             move it."
        ))
    })?;
    let (domain, product, stream) = naming::parse_topic(&topic.name).map_err(|why| {
        Diagnostic::error(
            "Topic not named by the mesh's rule",
            format!(
                "The kafka_topic's topic {:?} cannot become a stream: {why} A stream's topic is always \
                 <domain>.<product>.<stream>, and Kafka cannot rename a topic. Keep it a kafka_topic (remove the moved \
                 block and restore the kafka_topic block), or create a datamesh_stream under a new name and move \
                 producers and consumers over.",
                topic.name
            ),
        )
    })?;
    if topic.partitions < 1 || topic.replication_factor < 1 {
        return Err(refused(format!(
            "The kafka_topic {:?} records {} partitions and replication factor {}; a topic has at least one of each. \
             Refresh it with mongey/kafka first (`terraform apply -refresh-only`), then move it.",
            topic.name, topic.partitions, topic.replication_factor
        )));
    }
    let configs = topic.config.unwrap_or_default();
    if let Some(ms) = configs.get(RETENTION_MS).filter(|ms| ms.parse::<i64>().is_err()) {
        return Err(refused(format!(
            "The kafka_topic {:?} sets retention.ms to {ms:?}, which is not a whole number of milliseconds, so it cannot \
             become the stream's retention_ms. Set a number on the kafka_topic and apply that first, then move it.",
            topic.name
        )));
    }
    let mut m = StreamModel {
        data_product: naming::data_product_id(&domain, &product),
        name: stream,
        partitions: Some(topic.partitions),
        replication_factor: Some(topic.replication_factor),
        id: Some(topic.name.clone()),
        topic: Some(topic.name),
        ..Default::default()
    };
    m.apply_topic_configs(configs);
    Ok(m)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A kafka_topic's state as mongey/kafka 0.13 stores it (`terraform show -json` prints the same).
    fn kafka_topic(name: &str, config: serde_json::Value) -> MoveSource {
        MoveSource {
            provider_address: "registry.terraform.io/mongey/kafka".into(),
            type_name: "kafka_topic".into(),
            schema_version: 0,
            state: json!({
                "config": config,
                "id": name,
                "name": name,
                "partitions": 2,
                "replication_factor": 1,
            }),
            private: br#"{"schema_version":"0"}"#.to_vec(),
            identity: None,
            identity_schema_version: 0,
        }
    }

    #[test]
    fn a_mesh_named_topic_becomes_its_stream_with_its_configs_split() {
        let source = kafka_topic(
            "sales.orders.order-events",
            json!({"cleanup.policy": "compact", "max.message.bytes": "1048576", "retention.ms": "86400000"}),
        );
        let m = stream_from(&source).unwrap();
        assert_eq!(m.data_product, "sales/orders");
        assert_eq!(m.name, "order-events");
        assert_eq!((m.partitions, m.replication_factor), (Some(2), Some(1)));
        assert_eq!(m.retention_ms, Some(86_400_000));
        assert_eq!(m.cleanup_policy.as_deref(), Some("compact"));
        assert_eq!(m.config, Some(BTreeMap::from([("max.message.bytes".into(), "1048576".into())])));
        assert_eq!(m.id.as_deref(), Some("sales.orders.order-events"));
        assert_eq!(m.topic.as_deref(), Some("sales.orders.order-events"));
    }

    #[test]
    fn a_topic_without_configs_leaves_every_config_attribute_null() {
        for config in [json!(null), json!({})] {
            let m = stream_from(&kafka_topic("sales.orders.clicks", config)).unwrap();
            assert_eq!((m.retention_ms, m.cleanup_policy, m.config), (None, None, None));
        }
        let mut without = kafka_topic("sales.orders.clicks", json!(null));
        without.state.as_object_mut().unwrap().remove("config");
        assert!(stream_from(&without).unwrap().config.is_none());
    }

    #[test]
    fn opentofu_names_the_same_provider_on_its_own_registry() {
        let mut source = kafka_topic("sales.orders.clicks", json!({"retention.ms": "-1"}));
        source.provider_address = "registry.opentofu.org/mongey/kafka".into();
        assert_eq!(stream_from(&source).unwrap().retention_ms, Some(-1));
    }

    #[test]
    fn another_type_or_provider_is_refused_naming_what_is_accepted() {
        let mut acl = kafka_topic("sales.orders.clicks", json!({}));
        acl.type_name = "kafka_acl".into();
        let mut other = kafka_topic("sales.orders.clicks", json!({}));
        other.provider_address = "registry.terraform.io/acme/kafka".into();
        for (source, what) in [
            (acl, "kafka_acl of registry.terraform.io/mongey/kafka"),
            (other, "kafka_topic of registry.terraform.io/acme/kafka"),
        ] {
            let d = stream_from(&source).unwrap_err();
            assert_eq!(d.summary, format!("Cannot move {} into datamesh_stream", source.type_name));
            assert!(d.detail.contains(what), "{}", d.detail);
            assert!(d.detail.contains("only a kafka_topic of the mongey/kafka provider"), "{}", d.detail);
            assert!(d.detail.contains("Remove the moved block"), "{}", d.detail);
        }
    }

    #[test]
    fn a_topic_not_named_by_the_mesh_rule_is_refused_with_the_way_out() {
        for name in ["legacy_orders", "sales.orders", "Sales.orders.clicks", "sales.orders.bad.name"] {
            let d = stream_from(&kafka_topic(name, json!({}))).unwrap_err();
            assert_eq!(d.summary, "Topic not named by the mesh's rule", "{name}");
            assert!(d.detail.contains(&format!("{name:?} cannot become a stream")), "{}", d.detail);
            assert!(d.detail.contains("<domain>.<product>.<stream>"), "{}", d.detail);
            assert!(d.detail.contains("Keep it a kafka_topic"), "{}", d.detail);
        }
    }

    #[test]
    fn a_state_this_mapping_cannot_read_is_refused_saying_what_to_do() {
        let mut newer = kafka_topic("sales.orders.clicks", json!({}));
        newer.schema_version = 1;
        assert!(stream_from(&newer).unwrap_err().detail.contains("schema version 1"));

        let mut partial = kafka_topic("sales.orders.clicks", json!({}));
        partial.state.as_object_mut().unwrap().remove("partitions");
        let d = stream_from(&partial).unwrap_err();
        assert!(d.detail.contains("missing field `partitions`"), "{}", d.detail);
        assert!(d.detail.contains("-refresh-only"), "{}", d.detail);

        let mut none = kafka_topic("sales.orders.clicks", json!({}));
        none.state["partitions"] = json!(0);
        assert!(stream_from(&none).unwrap_err().detail.contains("0 partitions"));

        let bad = stream_from(&kafka_topic("sales.orders.clicks", json!({"retention.ms": "1d"}))).unwrap_err();
        assert!(bad.detail.contains("retention.ms to \"1d\""), "{}", bad.detail);
    }
}
