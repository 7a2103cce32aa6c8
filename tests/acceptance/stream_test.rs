//! `datamesh_stream` through its whole lifecycle on the local broker, including what the
//! broker cannot do (it has no CreatePartitions): the provider's error is asserted instead.

use std::collections::BTreeMap;

use crate::support::{stream_config as hcl, Backends, Tf};

#[test]
fn stream_lifecycle_create_update_drift_import_replace_destroy() {
    let mut tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let domain = format!("{}-sales", tf.prefix);
    let topic = format!("{domain}.orders.order-events");
    let kafka = b.streaming();

    let v1 =
        "  partitions   = 2\n  retention_ms = 86400000\n  config       = { \"max.message.bytes\" = \"1048576\" }\n";
    tf.write(&hcl(&domain, "order-events", v1));
    tf.apply();
    tf.assert_no_changes();
    let state = tf.resource("datamesh_stream.s");
    assert_eq!(state["topic"], topic.as_str());
    assert_eq!(state["id"], topic.as_str());
    assert_eq!(state["replication_factor"], 1);
    let info = b.block_on(kafka.describe_topic(&topic)).unwrap().expect("topic exists");
    assert_eq!(info.partitions, 2);
    assert_eq!(info.configs["retention.ms"], "86400000");
    assert_eq!(info.configs["max.message.bytes"], "1048576");
    assert!(b.catalog_has(&format!("streams/{domain}/orders/order-events.json")));

    // Configs change in place (IncrementalAlterConfigs); a removed config is deleted.
    let v2 = "  partitions     = 2\n  retention_ms   = 3600000\n  cleanup_policy = \"compact\"\n";
    tf.write(&hcl(&domain, "order-events", v2));
    assert_eq!(tf.planned_actions("datamesh_stream.s"), vec!["update"]);
    tf.apply();
    tf.assert_no_changes();
    let info = b.block_on(kafka.describe_topic(&topic)).unwrap().unwrap();
    assert_eq!(info.configs["retention.ms"], "3600000");
    assert_eq!(info.configs["cleanup.policy"], "compact");
    assert!(!info.configs.contains_key("max.message.bytes"), "removed config deleted: {:?}", info.configs);

    // Drift: a config changed outside Terraform is planned back.
    b.block_on(kafka.alter_topic_configs(
        &topic,
        &BTreeMap::from([("retention.ms".to_string(), "1".to_string())]),
        &[],
    ))
    .unwrap();
    assert_eq!(tf.planned_actions("datamesh_stream.s"), vec!["update"]);
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(b.block_on(kafka.describe_topic(&topic)).unwrap().unwrap().configs["retention.ms"], "3600000");

    // A decrease of partitions is a plan-time error at `partitions`, never a silent replace.
    tf.write(&hcl(&domain, "order-events", &v2.replace("partitions     = 2", "partitions     = 1")));
    let out = tf.plan_fails();
    assert!(out.contains("Partitions can only grow"), "{out}");
    assert!(out.contains("datamesh_stream.s"), "{out}");

    // Growing partitions needs CreatePartitions, which the local broker lacks: a clear error,
    // and state keeps the truth (still 2 partitions).
    tf.write(&hcl(&domain, "order-events", &v2.replace("partitions     = 2", "partitions     = 4")));
    let out = tf.apply_fails();
    assert!(out.contains("Cannot grow topic"), "{out}");
    assert!(out.contains("CreatePartitions"), "{out}");
    assert_eq!(tf.resource("datamesh_stream.s")["partitions"], 2);
    assert_eq!(b.block_on(kafka.describe_topic(&topic)).unwrap().unwrap().partitions, 2);
    tf.write(&hcl(&domain, "order-events", v2));
    tf.assert_no_changes();

    // Import with an import block: no diff afterwards.
    tf.state_rm("datamesh_stream.s");
    tf.write(&format!(
        "{}\nimport {{\n  to = datamesh_stream.s\n  id = \"{topic}\"\n}}\n",
        hcl(&domain, "order-events", v2)
    ));
    let out = tf.apply();
    assert!(out.contains("1 imported, 0 added, 0 changed, 0 destroyed"), "{out}");
    tf.assert_no_changes();
    tf.write(&hcl(&domain, "order-events", v2));

    // Drift: the topic deleted outside Terraform is planned for creation.
    b.block_on(kafka.delete_topic(&topic)).unwrap();
    assert_eq!(tf.planned_actions("datamesh_stream.s"), vec!["create"]);
    tf.apply();
    tf.assert_no_changes();

    // A new name replaces the stream.
    tf.write(&hcl(&domain, "order-facts", v2));
    assert_eq!(tf.planned_actions("datamesh_stream.s"), vec!["delete", "create"]);
    tf.apply();
    assert!(b.block_on(kafka.describe_topic(&topic)).unwrap().is_none());
    assert!(!b.catalog_has(&format!("streams/{domain}/orders/order-events.json")));

    // Destroy leaves nothing behind.
    tf.destroy();
    let new_topic = format!("{domain}.orders.order-facts");
    assert!(b.block_on(kafka.describe_topic(&new_topic)).unwrap().is_none());
    assert!(!b.catalog_has(&format!("streams/{domain}/orders/order-facts.json")));
}

#[test]
fn a_stream_of_a_missing_product_fails_with_nothing_created() {
    let tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let domain = format!("{}-ghost", tf.prefix);
    tf.write(&format!(
        "resource \"datamesh_stream\" \"s\" {{\n  data_product = \"{domain}/orders\"\n  name = \"events\"\n}}\n"
    ));
    let out = tf.apply_fails();
    assert!(out.contains("Data product not found"), "{out}");
    assert!(b.block_on(b.streaming().describe_topic(&format!("{domain}.orders.events"))).unwrap().is_none());
}

#[test]
fn creating_a_stream_whose_topic_exists_is_an_error_suggesting_import() {
    let tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let domain = format!("{}-sales", tf.prefix);
    tf.write(
        hcl(&domain, "events", "")
            .replace("resource \"datamesh_stream\"", "# resource \"datamesh_stream\"")
            .split("# resource")
            .next()
            .unwrap_or_default(),
    );
    tf.apply();
    let topic = format!("{domain}.orders.events");
    let spec = terraform_provider_datamesh::backends::streaming::TopicSpec {
        name: topic.clone(),
        partitions: 1,
        replication_factor: 1,
        configs: BTreeMap::new(),
    };
    b.block_on(b.streaming().create_topic(&spec)).unwrap();
    tf.write(&hcl(&domain, "events", ""));
    let out = tf.apply_fails();
    assert!(out.contains("already exists"), "{out}");
    assert!(out.contains("terraform import"), "{out}");
    b.block_on(b.streaming().delete_topic(&topic)).unwrap();
}
