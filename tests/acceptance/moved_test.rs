//! Adoption by `moved` (Terraform 1.8+): topics that mongey/kafka's `kafka_topic` made, named by
//! the mesh's rule, are handed to `datamesh_stream` by `moved` blocks. The plan shows the moves
//! and replaces nothing, the records in the topics survive, and a topic named otherwise is refused.
//! Run by Terraform and by OpenTofu (both move across providers with MoveResourceState).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::Value as Json;

use crate::support::{kafka_admin_client, mongey_kafka_provider, product_config, Backends, Tf};

/// mongey/kafka's provider block for the stack's broker, logged in as its admin (SCRAM over
/// SASL_PLAINTEXT, as the datamesh provider reads stack.env).
fn mongey_kafka_block() -> String {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} from stack.env"));
    assert_eq!(var("DATAMESH_KAFKA_SASL_MECHANISM"), "SCRAM-SHA-512", "the stack's broker speaks SCRAM-SHA-512");
    format!(
        r#"provider "kafka" {{
  bootstrap_servers = ["{}"]
  tls_enabled       = false
  sasl_mechanism    = "scram-sha512"
  sasl_username     = "{}"
  sasl_password     = "{}"
  timeout           = 30
}}
"#,
        var("DATAMESH_KAFKA_BOOTSTRAP_SERVERS"),
        var("DATAMESH_KAFKA_SASL_USERNAME"),
        var("DATAMESH_KAFKA_SASL_PASSWORD"),
    )
}

/// The topic configs of `events`, as HCL map entries.
const EVENTS_CONFIG: &str =
    r#""retention.ms" = "86400000", "cleanup.policy" = "delete", "max.message.bytes" = "1048576""#;

fn kafka_topic(resource: &str, topic: &str, partitions: u32, config: &str) -> String {
    format!(
        "resource \"kafka_topic\" \"{resource}\" {{\n  name               = \"{topic}\"\n  partitions         = {partitions}\n  \
         replication_factor = 1\n  config             = {{ {config} }}\n}}\n"
    )
}

/// `datamesh_stream.<name>` of the product, with `attrs`, taking over `kafka_topic.<name>`.
fn moved_stream(name: &str, attrs: &str) -> String {
    format!(
        "resource \"datamesh_stream\" \"{name}\" {{\n  data_product = datamesh_data_product.p.id\n  name         = \"{name}\"\n{attrs}}}\n\n\
         moved {{\n  from = kafka_topic.{name}\n  to   = datamesh_stream.{name}\n}}\n"
    )
}

/// Produces `values` to `topic` (as the stack's admin), waiting until the broker has them all.
fn produce(topic: &str, values: &[String]) {
    let producer: BaseProducer = kafka_admin_client().set("message.timeout.ms", "15000").create().expect("producer");
    for (i, v) in values.iter().enumerate() {
        let key = i.to_string();
        producer.send(BaseRecord::to(topic).key(&key).payload(v)).map_err(|(e, _)| e).expect("queue a record");
    }
    producer.flush(Duration::from_secs(20)).expect("the broker took every record");
}

/// Every record of `topic`'s `partitions` from the beginning, sorted: read within 30 s by a
/// consumer that assigns itself the partitions (its group is only a name; it commits nothing).
fn records(topic: &str, partitions: i32, want: usize) -> Vec<String> {
    let consumer: BaseConsumer =
        kafka_admin_client().set("group.id", "unused").set("enable.auto.commit", "false").create().expect("consumer");
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        assignment.add_partition_offset(topic, p, Offset::Beginning).expect("assign");
    }
    consumer.assign(&assignment).expect("assign");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut got = Vec::new();
    while got.len() < want && Instant::now() < deadline {
        if let Some(m) = consumer.poll(Duration::from_millis(500)) {
            let m = m.expect("a record");
            got.push(String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned());
        }
    }
    got.sort();
    got
}

/// `(address, previous_address, actions)` of every planned resource change.
fn changes(plan: &Json) -> Vec<(String, String, Vec<String>)> {
    let text = |v: &Json| v.as_str().unwrap_or_default().to_string();
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let actions = c["change"]["actions"].as_array().into_iter().flatten().map(text).collect();
            (text(&c["address"]), text(&c["previous_address"]), actions)
        })
        .collect()
}

#[test]
fn kafka_topics_move_into_streams_without_replacement_and_keep_their_records() {
    moves_topics_into_streams(Tf::new());
}

#[test]
fn kafka_topics_move_into_streams_with_opentofu_too() {
    let tofu =
        PathBuf::from(std::env::var("DATAMESH_TOOLS_DIR").expect("DATAMESH_TOOLS_DIR from stack.env")).join("bin/tofu");
    assert!(tofu.is_file(), "{} is missing: scripts/tools.sh builds OpenTofu (make stack-up)", tofu.display());
    moves_topics_into_streams(Tf::new().with_cli(&tofu));
}

/// The whole adoption, run by `tf`'s CLI.
fn moves_topics_into_streams(tf: Tf) {
    let started = Instant::now();
    let mut tf = tf.with_go_provider("mongey/kafka", &mongey_kafka_provider());
    let b = Backends::for_prefix(&tf.prefix);
    let domain = format!("{}-sales", tf.prefix);
    let (events, clicks) = (format!("{domain}.orders.events"), format!("{domain}.orders.clicks"));
    let legacy = format!("{}_legacy_orders", tf.prefix);

    // mongey/kafka makes three topics: two named by the mesh's rule, one not.
    let topics = format!(
        "{}\n{}\n{}",
        kafka_topic("events", &events, 2, EVENTS_CONFIG),
        kafka_topic("clicks", &clicks, 1, ""),
        kafka_topic("legacy", &legacy, 1, ""),
    );
    tf.write(&format!("{}\n{}\n{topics}", mongey_kafka_block(), product_config(&domain)));
    tf.apply();
    let written: Vec<String> = (0..6).map(|i| format!("order-{i}")).collect();
    produce(&events, &written);
    produce(&clicks, &written[..3]);

    // moved blocks hand the two mesh-named topics to streams that say what the topics are.
    let streams = format!(
        "{}\n{}",
        moved_stream(
            "events",
            "  partitions         = 2\n  replication_factor = 1\n  retention_ms       = 86400000\n  cleanup_policy     = \"delete\"\n  \
             config             = { \"max.message.bytes\" = \"1048576\" }\n"
        ),
        moved_stream("clicks", "  partitions = 1\n"),
    );
    let legacy_topic = kafka_topic("legacy", &legacy, 1, "");
    tf.write(&format!("{}\n{}\n{streams}\n{legacy_topic}", mongey_kafka_block(), product_config(&domain)));
    let plan = tf.plan_json();
    let planned = changes(&plan);
    for (to, from) in
        [("datamesh_stream.events", "kafka_topic.events"), ("datamesh_stream.clicks", "kafka_topic.clicks")]
    {
        let change = planned.iter().find(|(address, _, _)| address == to);
        let change = change.unwrap_or_else(|| panic!("{to} is in the plan: {planned:?}"));
        assert_eq!((change.1.as_str(), change.2.clone()), (from, vec!["no-op".to_string()]), "{planned:?}");
    }
    let changing: Vec<_> = planned.iter().filter(|(_, _, actions)| actions.iter().any(|a| a != "no-op")).collect();
    assert!(changing.is_empty(), "the moves create, update, replace or delete nothing: {changing:?}");
    let shown = tf.run_ok(&["show", "-no-color", "tfplan"]);
    let line = shown.lines().find(|l| l.contains("kafka_topic.events has moved to datamesh_stream.events"));
    let line = line.unwrap_or_else(|| panic!("the plan shows the move:\n{shown}"));
    eprintln!("{} shows the move as: {}", tf.cli().display(), line.trim());

    let out = tf.apply();
    assert!(out.contains("0 added, 0 changed, 0 destroyed"), "{out}");
    tf.assert_no_changes();
    let state = tf.resource("datamesh_stream.events");
    assert_eq!(state["data_product"], format!("{domain}/orders").as_str());
    assert_eq!((state["topic"].as_str(), state["id"].as_str()), (Some(events.as_str()), Some(events.as_str())));
    assert_eq!((state["partitions"].as_i64(), state["retention_ms"].as_i64()), (Some(2), Some(86_400_000)));
    assert_eq!(state["cleanup_policy"], "delete");
    assert_eq!(state["config"], serde_json::json!({ "max.message.bytes": "1048576" }));
    assert!(tf.resource("kafka_topic.events").is_null(), "the kafka_topic left the state");

    // The very topics, with their records.
    assert_eq!(records(&events, 2, written.len()), written, "the records of {events} survived");
    assert_eq!(records(&clicks, 1, 3), written[..3], "the records of {clicks} survived");
    let info = b.block_on(b.streaming().describe_topic(&events)).unwrap().expect("the topic is there");
    assert_eq!((info.partitions, info.configs["retention.ms"].as_str()), (2, "86400000"));

    // A topic not named by the mesh's rule cannot become a stream; the error says what to do.
    let refused = moved_stream("legacy", "  partitions = 1\n");
    tf.write(&format!("{}\n{}\n{streams}\n{refused}", mongey_kafka_block(), product_config(&domain)));
    let out = tf.plan_fails();
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("Topic not named by the mesh's rule"), "{out}");
    assert!(flat.contains(&format!("{legacy:?} cannot become a stream")), "{out}");
    assert!(flat.contains("Keep it a kafka_topic"), "{out}");

    // Back to the kafka_topic, everything goes: the streams' topics by the datamesh provider.
    tf.write(&format!("{}\n{}\n{streams}\n{legacy_topic}", mongey_kafka_block(), product_config(&domain)));
    tf.assert_no_changes();
    tf.destroy();
    for topic in [&events, &clicks, &legacy] {
        assert!(b.block_on(b.streaming().describe_topic(topic)).unwrap().is_none(), "{topic} is deleted");
    }
    eprintln!("moved_test with {} took {:.0?}", tf.cli().display(), started.elapsed());
}
