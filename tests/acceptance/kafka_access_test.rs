//! A grant's Kafka half, proven by Apache Kafka itself: domains log in with the SCRAM credential
//! their `password_wo` set, and real clients (librdkafka, through `rdkafka`) produce and
//! consume. The owner produces to its own topics; a consumer granted `read` consumes with a
//! group `<consumer>.*` and cannot produce; `read_write` can; a product it was not granted
//! stays closed; a destroyed grant closes the topic again. The password is in neither state,
//! plan nor the TF_LOG=trace output; a new `password_wo_version` rolls it; destroying the
//! domain deletes the credential.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message;

use crate::support::{combined, kafka_client_as, unique, zip_members, Backends, Tf};

/// Logs in as `user` with the stack's SCRAM mechanism (the stack's own probe: ApiVersions,
/// SaslHandshake, SaslAuthenticate, Metadata); the broker's refusal on failure.
pub(crate) fn login(user: &str, password: &str) -> Result<(), String> {
    let probe = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/stack/kafka_probe.py");
    let bootstrap = std::env::var("DATAMESH_KAFKA_BOOTSTRAP_SERVERS").expect("stack.env");
    let mechanism = std::env::var("DATAMESH_KAFKA_SASL_MECHANISM").expect("stack.env");
    let out = Command::new("python3")
        .arg(probe)
        .args([&bootstrap, &bootstrap, &mechanism, user, password])
        .output()
        .expect("run kafka_probe.py");
    if out.status.success() {
        Ok(())
    } else {
        Err(combined(&out))
    }
}

/// Produces one record to `topic` as `user`; the delivery error, if any.
fn produce(b: &Backends, user: &str, password: &str, topic: &str, value: &str) -> Result<(), KafkaError> {
    let producer: FutureProducer =
        kafka_client_as(user, password).set("message.timeout.ms", "15000").create().expect("producer");
    let record = FutureRecord::to(topic).key("k").payload(value);
    b.block_on(producer.send(record, Duration::from_secs(15))).map(|_| ()).map_err(|(e, _)| e)
}

/// What a consumer in group `group` gets from `topic` as `user` within 30 s: the values read,
/// or the first error the broker answered with.
fn consume(user: &str, password: &str, group: &str, topic: &str, want: usize) -> Result<Vec<String>, KafkaError> {
    let consumer: BaseConsumer = kafka_client_as(user, password)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut values = Vec::new();
    while values.len() < want && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(m)) => values.push(String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned()),
            Some(Err(e)) => return Err(e),
            None => {}
        }
    }
    Ok(values)
}

/// Retries `f` for up to 15 s until `done` holds for its result: the broker's authorizer applies
/// ACL changes from its metadata log a moment after the admin call that made them returned.
fn eventually<T>(mut f: impl FnMut() -> T, done: impl Fn(&T) -> bool) -> T {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = f();
        if done(&out) || Instant::now() >= deadline {
            return out;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn code(e: &KafkaError) -> Option<RDKafkaErrorCode> {
    e.rdkafka_error_code()
}

/// The domains (each with its password from an ephemeral variable, as a team would pass a
/// secret: `TF_VAR_pw_<name>`), two products with a stream each, and mkt's grant.
pub(crate) fn hcl(p: &str, versions: &[(&str, u32)], grant_access: Option<&str>) -> String {
    let mut out = String::new();
    for (name, version) in versions {
        out.push_str(&format!(
            r#"
variable "pw_{name}" {{
  type      = string
  sensitive = true
  ephemeral = true
}}

resource "datamesh_domain" "{name}" {{
  name                = "{p}-{name}"
  owner               = "{name}@example.com"
  password_wo         = var.pw_{name}
  password_wo_version = {version}
}}
"#
        ));
    }
    for (domain, product, stream) in [("sales", "orders", "events"), ("ops", "ledger", "entries")] {
        out.push_str(&format!(
            r#"
resource "datamesh_data_product" "{product}" {{
  domain         = datamesh_domain.{domain}.name
  name           = "{product}"
  classification = "internal"
}}

resource "datamesh_stream" "{stream}" {{
  data_product = datamesh_data_product.{product}.id
  name         = "{stream}"
  partitions   = 1
}}
"#
        ));
    }
    if let Some(access) = grant_access {
        out.push_str(&format!(
            r#"
resource "datamesh_access_grant" "mkt_orders" {{
  consumer_domain = datamesh_domain.mkt.name
  data_product    = datamesh_data_product.orders.id
  access          = "{access}"
  purpose         = "Campaign attribution"
}}
"#
        ));
    }
    out
}

/// Plans to a file, then applies it with TF_LOG=trace: each of `secrets` appears in neither
/// the log, state, `show -json` of the plan nor the plan file, and write-only attributes are
/// null in state.
pub(crate) fn apply_keeping_secrets(tf: &Tf, secrets: &[&str]) {
    let plan = tf.run(&["plan", "-out=tfplan", "-no-color"]);
    assert!(plan.status.success(), "{}", combined(&plan));
    let shown = tf.run(&["show", "-json", "tfplan"]);
    assert!(shown.status.success(), "{}", combined(&shown));
    let out = tf.run_with_env(&["apply", "-auto-approve", "-no-color", "tfplan"], &[("TF_LOG", "trace")]);
    let log = combined(&out);
    assert!(out.status.success(), "{}", &log[log.len().saturating_sub(4000)..]);
    let state = std::fs::read_to_string(tf.path().join("terraform.tfstate")).expect("state");
    let plan_json = String::from_utf8_lossy(&shown.stdout).into_owned();
    let plan_file = zip_members(&tf.path().join("tfplan"));
    for secret in secrets {
        assert!(!log.contains(secret), "a password is in the TF_LOG=trace output");
        assert!(!state.contains(secret), "a password is in state");
        assert!(!plan_json.contains(secret), "a password is in `show -json` of the plan");
        for (member, bytes) in &plan_file {
            let text = String::from_utf8_lossy(bytes);
            assert!(!text.contains(secret), "a password is in the plan file's {member}");
        }
    }
    assert!(state.contains("\"password_wo\": null"), "write-only attributes are null in state");
}

#[test]
fn a_grant_opens_exactly_its_topics_to_the_consumer_logged_in_with_its_domain_password() {
    let mut tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let (sales, mkt, ops) = (format!("{p}-sales"), format!("{p}-mkt"), format!("{p}-ops"));
    let (sales_pw, mkt_pw, ops_pw) = (unique('s'), unique('m'), unique('o'));
    let orders = format!("{sales}.orders.events");
    let ledger = format!("{ops}.ledger.entries");
    let domains = [("sales", 1), ("mkt", 1), ("ops", 1)];
    for (name, pw) in [("sales", &sales_pw), ("mkt", &mkt_pw), ("ops", &ops_pw)] {
        tf.env(&format!("TF_VAR_pw_{name}"), pw);
    }

    // Apply with TF_LOG=trace: the passwords appear in neither the log, the plan nor state.
    tf.write(&hcl(&p, &domains, Some("read")));
    tf.init();
    apply_keeping_secrets(&tf, &[&sales_pw, &mkt_pw, &ops_pw]);
    tf.assert_no_changes();

    // Every domain logs in with its own password, as User:<domain>; a wrong one is refused.
    for (user, pw) in [(&sales, &sales_pw), (&mkt, &mkt_pw), (&ops, &ops_pw)] {
        login(user, pw).unwrap_or_else(|e| panic!("{user} logs in: {e}"));
    }
    let refused = login(&mkt, "not-the-password").expect_err("a wrong password is refused");
    assert!(refused.contains("SaslAuthenticate error"), "{refused}");

    // The owner produces to its own topic; the read grant lets mkt consume with a group
    // mkt.*, and not produce.
    produce(&b, &sales, &sales_pw, &orders, "order-1").expect("the owner produces to its own topic");
    let got = eventually(|| consume(&mkt, &mkt_pw, &format!("{mkt}.attribution"), &orders, 1), Result::is_ok)
        .expect("mkt consumes");
    assert_eq!(got, vec!["order-1"], "the consumer reads what the owner wrote");
    let denied = produce(&b, &mkt, &mkt_pw, &orders, "forged").expect_err("read cannot produce");
    assert_eq!(code(&denied), Some(RDKafkaErrorCode::TopicAuthorizationFailed), "{denied}");

    // A group outside mkt.* is refused, and so is a product mkt was not granted.
    let err = consume(&mkt, &mkt_pw, &format!("{sales}.stolen-group"), &orders, 1).expect_err("foreign group");
    assert_eq!(code(&err), Some(RDKafkaErrorCode::GroupAuthorizationFailed), "{err}");
    produce(&b, &ops, &ops_pw, &ledger, "entry-1").expect("ops produces to its own topic");
    let err = consume(&mkt, &mkt_pw, &format!("{mkt}.snoop"), &ledger, 1).expect_err("not granted");
    assert_eq!(code(&err), Some(RDKafkaErrorCode::TopicAuthorizationFailed), "{err}");

    // read_write: mkt may produce too.
    tf.write(&hcl(&p, &domains, Some("read_write")));
    tf.apply();
    eventually(|| produce(&b, &mkt, &mkt_pw, &orders, "from-mkt"), Result::is_ok).expect("read_write produces");

    // A new password_wo_version rolls the password: the old one stops working.
    let new_pw = unique('n');
    let rolled = [("sales", 1), ("mkt", 2), ("ops", 1)];
    tf.env("TF_VAR_pw_mkt", &new_pw);
    tf.write(&hcl(&p, &rolled, Some("read_write")));
    assert_eq!(tf.planned_actions("datamesh_domain.mkt"), vec!["update"], "the version change is a plan");
    tf.apply();
    login(&mkt, &new_pw).expect("the new password works");
    assert!(login(&mkt, &mkt_pw).is_err(), "the old password is refused");

    // The grant destroyed: the topic is closed to mkt again.
    tf.write(&hcl(&p, &rolled, None));
    tf.apply();
    let err = eventually(|| consume(&mkt, &new_pw, &format!("{mkt}.attribution-2"), &orders, 1), Result::is_err)
        .expect_err("grant gone");
    assert_eq!(code(&err), Some(RDKafkaErrorCode::TopicAuthorizationFailed), "{err}");

    // Destroying the domains deletes their credentials.
    tf.destroy();
    for (user, pw) in [(&sales, &sales_pw), (&mkt, &new_pw)] {
        assert!(login(user, pw).is_err(), "{user}'s credential was deleted with the domain");
    }
}

/// What a domain team feels: from `terraform apply` of a new product with a stream and a grant
/// to the consumer's first consumed record, five times (a new product each time; the domains
/// exist). Each round the owner produces once the apply returns and the consumer, logged in
/// with its own password, must read exactly that record. The times are printed (the README's
/// figure is their median), never asserted.
#[test]
fn a_new_products_first_record_reaches_its_consumer_soon_after_apply() {
    let mut tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let (sales, mkt) = (format!("{p}-sales"), format!("{p}-mkt"));
    let (sales_pw, mkt_pw) = (unique('s'), unique('m'));
    tf.env("TF_VAR_pw_sales", &sales_pw);
    tf.env("TF_VAR_pw_mkt", &mkt_pw);
    let domains = crate::support::stores::domains_with_passwords(&p, &["sales", "mkt"]);
    tf.write(&domains);
    tf.apply();

    let mut rounds = Vec::new();
    let mut body = domains.clone();
    for round in 0..5 {
        body.push_str(&format!(
            r#"
resource "datamesh_data_product" "p{round}" {{
  domain         = datamesh_domain.sales.name
  name           = "orders-{round}"
  classification = "internal"
}}

resource "datamesh_stream" "s{round}" {{
  data_product = datamesh_data_product.p{round}.id
  name         = "events"
  partitions   = 1
}}

resource "datamesh_access_grant" "g{round}" {{
  consumer_domain = datamesh_domain.mkt.name
  data_product    = datamesh_data_product.p{round}.id
  purpose         = "Campaign attribution"
}}
"#
        ));
        tf.write(&body);
        let topic = format!("{sales}.orders-{round}.events");
        let value = format!("order-{round}-{}", unique('v'));
        let started = Instant::now();
        tf.apply();
        let applied = started.elapsed();
        produce(&b, &sales, &sales_pw, &topic, &value).expect("the owner produces to its new topic");
        let got = eventually(
            || consume(&mkt, &mkt_pw, &format!("{mkt}.first-{round}"), &topic, 1),
            |r| r.as_ref().is_ok_and(|v| !v.is_empty()),
        )
        .expect("the consumer reads its new grant's topic");
        let total = started.elapsed();
        assert_eq!(got, vec![value], "the consumer reads exactly what the owner wrote");
        eprintln!("first record, round {round}: apply {applied:?}, apply to first consumed record {total:?}");
        rounds.push((total, applied));
    }
    rounds.sort();
    let (median, applied) = rounds[rounds.len() / 2];
    eprintln!("first record: median of 5 from apply to the consumer's first record {median:?} (its apply {applied:?})");
    tf.destroy();
}
