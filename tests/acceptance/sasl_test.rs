//! SASL/SCRAM between the provider and the broker, on Apache Kafka.
//!
//! The stack's broker listens with SASL_PLAINTEXT and knows its admin under SCRAM-SHA-256 and
//! SCRAM-SHA-512 (`scripts/stack/kafka.sh`). With the right password, domain, product and
//! stream apply, plan empty and destroy with either mechanism. Every login the broker rejects
//! (a wrong password, an unknown user, a broker without SASL) must end well within one
//! `timeout_seconds` with an authentication error that names the brokers, the mechanism and
//! librdkafka's reason, never a "broker unavailable" timeout; the broker logs the refused
//! login, and the stream is in neither state, catalog nor broker.

use std::time::{Duration, Instant};

use crate::support::{stream_config, Backends, PrivateKafka, Tf};
use terraform_provider_datamesh::backends::error::ErrorKind;
use terraform_provider_datamesh::provider::config::Secret;

/// A user the broker does not know.
const UNKNOWN_USER: &str = "datamesh-ci";
/// A password the broker does not know (every failing login uses it).
const PASSWORD: &str = "not-the-password";
/// The provider's per-call timeout in these tests: a login failure must be reported well
/// before one of them passes (a timeout would take up to three, with retries).
const TIMEOUT_SECONDS: u64 = 10;

fn var(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| panic!("{key} from stack.env"))
}

fn bootstrap() -> String {
    var("DATAMESH_KAFKA_BOOTSTRAP_SERVERS")
}

/// Domain, data product and the stream `order-events`.
fn hcl(domain: &str) -> String {
    stream_config(domain, "order-events", "")
}

/// The provider's `kafka { }` settings for a SASL/SCRAM login at `bootstrap`.
fn sasl_settings(bootstrap: &str, mechanism: &str, user: &str, password: &str) -> String {
    format!(
        "bootstrap_servers = [\"{bootstrap}\"]\nsecurity_protocol = \"SASL_PLAINTEXT\"\nsasl_mechanism = \"{mechanism}\"\n\
         sasl_username = \"{user}\"\nsasl_password = \"{password}\"\ntimeout_seconds = {TIMEOUT_SECONDS}\n"
    )
}

/// The test's own client of `bootstrap`, logging in like the provider.
fn sasl_backends(bootstrap: &str, mechanism: &str, user: &str, password: &str) -> Backends {
    let (bootstrap, mechanism, user, password) =
        (bootstrap.to_string(), mechanism.to_string(), user.to_string(), password.to_string());
    Backends::for_prefix_with_kafka("sasl", move |k| {
        k.bootstrap_servers = vec![bootstrap];
        k.security_protocol = "SASL_PLAINTEXT".into();
        k.sasl_mechanism = Some(mechanism);
        k.sasl_username = Some(user);
        k.sasl_password = Some(Secret(password));
        k.timeout = Duration::from_secs(TIMEOUT_SECONDS);
    })
}

/// The stack broker's log (scripts/stack-up.sh writes it into the stack directory).
fn broker_log() -> String {
    std::fs::read_to_string(format!("{}/kafka.log", var("DATAMESH_STACK_DIR"))).expect("the stack broker's log")
}

/// Applies domain + data product + stream logging in as `user` with a wrong password at
/// `bootstrap`, which must fail within one timeout with an authentication error; returns the
/// output with its whitespace collapsed (Terraform wraps long lines). Domain and data product
/// are created (with ACLs off: they would need the same login); the stream must be in neither
/// state, catalog nor broker.
fn apply_fails_to_log_in(tf: &mut Tf, bootstrap: &str, mechanism: &str, user: &str) -> String {
    let domain = format!("{}-sales", tf.prefix);
    tf.without_acls();
    tf.write_with_kafka(&sasl_settings(bootstrap, mechanism, user, PASSWORD), &hcl(&domain));
    let started = Instant::now();
    let out = tf.apply_fails();
    let took = started.elapsed();
    eprintln!("apply with {mechanism} as {user} at {bootstrap} failed after {took:.1?}:\n{out}");
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");

    assert!(flat.contains("Kafka CreateTopics failed for topic"), "{out}");
    assert!(flat.contains("(Authentication)"), "an authentication error:\n{out}");
    assert!(flat.contains(&format!("cannot log in to the brokers {bootstrap} with SASL {mechanism}")), "{out}");
    assert!(flat.contains("kafka sasl_username/sasl_password"), "the hint for credentials:\n{out}");
    assert!(!flat.contains("unavailable or throttled"), "not a timeout:\n{out}");
    assert!(!flat.contains(PASSWORD), "the password must never be printed:\n{out}");
    assert!(took < Duration::from_secs(TIMEOUT_SECONDS), "took {took:?}, a timeout's worth or more:\n{out}");

    assert!(tf.resource("datamesh_stream.s").is_null(), "the stream must not be in state");
    assert!(!tf.resource("datamesh_data_product.p").is_null(), "the data product (no Kafka) was created");
    let b = Backends::for_prefix(&tf.prefix);
    assert!(!b.catalog_has(&format!("streams/{domain}/orders/order-events.json")));
    let topic = format!("{domain}.orders.order-events");
    assert!(b.block_on(b.streaming().describe_topic(&topic)).expect("admin login").is_none(), "no topic");
    flat
}

#[test]
fn scram_logins_the_broker_rejects_fail_fast_with_an_authentication_error_and_create_nothing() {
    let admin = var("DATAMESH_KAFKA_SASL_USERNAME");
    for (mechanism, user) in
        [("SCRAM-SHA-256", admin.as_str()), ("SCRAM-SHA-512", admin.as_str()), ("SCRAM-SHA-512", UNKNOWN_USER)]
    {
        let mut tf = Tf::new();
        let out = apply_fails_to_log_in(&mut tf, &bootstrap(), mechanism, user);
        // The broker's own reason, passed on by librdkafka.
        assert!(out.contains(&format!("invalid credentials with SASL mechanism {mechanism}")), "{out}");
        tf.destroy();
    }

    // The provider's own client, configured the same way, reports the same, as fast.
    let b = sasl_backends(&bootstrap(), "SCRAM-SHA-512", UNKNOWN_USER, PASSWORD);
    let kafka = b.try_streaming().expect("a client (it connects on first use)");
    let started = Instant::now();
    let err = b.block_on(kafka.describe_topic("sasl.orders.order-events")).expect_err("no login, no answer");
    let took = started.elapsed();
    eprintln!("direct describe_topic failed after {took:.1?}: {err}");
    assert_eq!(err.kind, ErrorKind::Auth, "{err}");
    assert!(err.message.contains("invalid credentials with SASL mechanism SCRAM-SHA-512"), "{err}");
    assert!(took < Duration::from_secs(TIMEOUT_SECONDS), "took {took:?}: {err}");

    // The broker itself refused the logins, and says why.
    let log = broker_log();
    assert!(
        log.contains("Failed authentication") && log.contains("invalid credentials with SASL mechanism SCRAM-SHA-512"),
        "the broker's log shows the refused SCRAM logins:\n{}",
        log.lines().filter(|l| l.contains("authentication")).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn sasl_against_a_broker_without_sasl_fails_fast_with_an_authentication_error() {
    // A broker of the test's own whose listener is PLAINTEXT: it refuses the SASL handshake.
    let broker = PrivateKafka::start(None, None, true);
    let mut tf = Tf::new();
    let out = apply_fails_to_log_in(&mut tf, &broker.bootstrap, "SCRAM-SHA-512", UNKNOWN_USER);
    assert!(out.contains("SASL SCRAM-SHA-512 mechanism handshake failed"), "{out}");
    tf.destroy();
}

#[test]
fn scram_with_the_right_password_applies_plans_empty_and_destroys() {
    let (admin, password) = (var("DATAMESH_KAFKA_SASL_USERNAME"), var("DATAMESH_KAFKA_SASL_PASSWORD"));
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-512"] {
        let mut tf = Tf::new();
        let domain = format!("{}-sales", tf.prefix);
        tf.write_with_kafka(&sasl_settings(&bootstrap(), mechanism, &admin, &password), &hcl(&domain));
        let out = tf.apply();
        assert!(!out.contains(&password), "the password must never be printed:\n{out}");
        tf.assert_no_changes();
        let topic = format!("{domain}.orders.order-events");
        assert_eq!(tf.resource("datamesh_stream.s")["topic"], topic.as_str());
        let b = sasl_backends(&bootstrap(), mechanism, &admin, &password);
        let info = b.block_on(b.streaming().describe_topic(&topic)).expect("logged in").expect("the topic exists");
        assert_eq!(info.partitions, 3);
        assert!(Backends::for_prefix(&tf.prefix).catalog_has(&format!("streams/{domain}/orders/order-events.json")));
        tf.destroy();
        assert!(b.block_on(b.streaming().describe_topic(&topic)).expect("logged in").is_none(), "destroyed");
        eprintln!("{mechanism}: apply, empty plan and destroy over SCRAM");
    }
}
