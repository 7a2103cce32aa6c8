//! `datamesh_stream` through its whole lifecycle on Apache Kafka: configs, drift, partition
//! growth (CreatePartitions), invalid configs refused by the broker, import, replace, destroy.

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

    // Partitions grow in place (CreatePartitions), counted on the broker.
    let v2 = &v2.replace("partitions     = 2", "partitions     = 4");
    tf.write(&hcl(&domain, "order-events", v2));
    assert_eq!(tf.planned_actions("datamesh_stream.s"), vec!["update"]);
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(tf.resource("datamesh_stream.s")["partitions"], 4);
    assert_eq!(b.block_on(kafka.describe_topic(&topic)).unwrap().unwrap().partitions, 4, "the broker has 4");

    // Broker defaults (DescribeConfigs reports each config's source) never show as a diff: the
    // topic reports dozens of configs, state tracks the three set here.
    let all = b.block_on(kafka.describe_topic(&topic)).unwrap().unwrap().configs;
    assert!(all.len() <= 3, "only configs set on the topic are read back: {all:?}");
    tf.assert_no_changes();

    // Invalid configs are refused, at the config, with the reason, and change nothing: by the
    // broker at apply (segment.bytes), or by the provider at plan (cleanup_policy).
    for (bad, name) in [
        ("  retention_ms = 100\n  config = { \"segment.bytes\" = \"abc\" }\n", "segment.bytes"),
        ("  cleanup_policy = \"bogus\"\n", "cleanup_policy"),
    ] {
        tf.write(&hcl(&domain, "order-events", &format!("  partitions = 4\n{bad}")));
        let out = tf.apply_fails();
        let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(name), "the error names {name}:\n{out}");
        assert!(flat.contains("datamesh_stream.s"), "{out}");
        let now = b.block_on(kafka.describe_topic(&topic)).unwrap().unwrap().configs;
        assert_eq!(now["retention.ms"], "3600000", "nothing changed on the broker: {now:?}");
    }
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

#[test]
fn an_invalid_topic_config_is_refused_by_the_broker_at_the_config_and_creates_nothing() {
    let tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let domain = format!("{}-sales", tf.prefix);
    tf.write(&hcl(&domain, "events", "  config = { \"segment.bytes\" = \"abc\" }\n"));
    let out = tf.apply_fails();
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    eprintln!("{out}");
    // The broker refuses it (InvalidConfig), and its own message says which config and why:
    // CreateTopics goes through rdkafka-sys, which keeps the per-topic error string.
    assert!(flat.contains("Kafka CreateTopics (InvalidConfig)"), "the broker's refusal:\n{out}");
    assert!(flat.contains("segment.bytes"), "the broker's reason names the config:\n{out}");
    assert!(flat.contains("datamesh_stream.s"), "at the stream:\n{out}");
    let topic = format!("{domain}.orders.events");
    assert!(b.block_on(b.streaming().describe_topic(&topic)).unwrap().is_none(), "no topic was created");
    assert!(!b.catalog_has(&format!("streams/{domain}/orders/events.json")));
    assert!(tf.resource("datamesh_stream.s").is_null(), "not in state");
}
