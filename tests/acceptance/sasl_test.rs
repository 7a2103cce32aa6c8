//! SASL/SCRAM between the provider and the broker (issue 5).
//!
//! The local broker, tansu 0.6.0, runs the SCRAM-SHA-256/512 exchange when started with
//! `--authentication`; its SQLite engine keeps SCRAM users, its in-memory engine keeps none (see
//! [`SaslTansu`]). With a user and the right password, domain, product and stream apply, plan
//! empty and destroy over SCRAM with either mechanism. Every login the broker rejects (a wrong
//! password, an unknown user, a broker without SASL) must end well within one
//! `timeout_seconds` with an authentication error that names the brokers, the mechanism and
//! librdkafka's reason, never a "broker unavailable" timeout; nothing reaches the broker past
//! the login, and the stream is neither in state nor in the catalog.

use std::time::{Duration, Instant};

use crate::support::{combined, stream_config, Backends, SaslTansu, Tf};
use terraform_provider_datamesh::backends::error::ErrorKind;
use terraform_provider_datamesh::provider::config::Secret;

const USER: &str = "datamesh-ci";
/// The password the broker does not know (every failing login uses it).
const PASSWORD: &str = "not-the-password";
/// The user's real password, where the broker has the user.
const GOOD_PASSWORD: &str = "the-right-password-42";
/// The provider's per-call timeout in these tests: a login failure must be reported well
/// before one of them passes (a timeout would take up to three, with retries).
const TIMEOUT_SECONDS: u64 = 10;

/// Domain, data product and the stream `order-events`.
fn hcl(domain: &str) -> String {
    stream_config(domain, "order-events", "")
}

/// The provider's `kafka { }` settings for a SASL/SCRAM login at `bootstrap`.
fn sasl_settings(bootstrap: &str, mechanism: &str, password: &str) -> String {
    format!(
        "bootstrap_servers = [\"{bootstrap}\"]\nsecurity_protocol = \"SASL_PLAINTEXT\"\nsasl_mechanism = \"{mechanism}\"\n\
         sasl_username = \"{USER}\"\nsasl_password = \"{password}\"\ntimeout_seconds = {TIMEOUT_SECONDS}\n"
    )
}

/// The test's own client of `bootstrap`, logging in like the provider.
fn sasl_backends(bootstrap: &str, mechanism: &str, password: &str) -> Backends {
    let (bootstrap, mechanism, password) = (bootstrap.to_string(), mechanism.to_string(), password.to_string());
    Backends::for_prefix_with_kafka("sasl", move |k| {
        k.bootstrap_servers = vec![bootstrap];
        k.security_protocol = "SASL_PLAINTEXT".into();
        k.sasl_mechanism = Some(mechanism);
        k.sasl_username = Some(USER.into());
        k.sasl_password = Some(Secret(password));
        k.timeout = Duration::from_secs(TIMEOUT_SECONDS);
    })
}

/// Applies domain + data product + stream with SASL settings for `bootstrap`, which must fail
/// within one timeout with an authentication error; returns the output with its whitespace
/// collapsed (Terraform wraps long lines). Domain and data product (S3 and IAM only) are
/// created; the stream must be in neither state nor catalog.
fn apply_fails_to_log_in(tf: &mut Tf, bootstrap: &str, mechanism: &str) -> String {
    let domain = format!("{}-sales", tf.prefix);
    tf.write_with_kafka(&sasl_settings(bootstrap, mechanism, PASSWORD), &hcl(&domain));
    let started = Instant::now();
    let out = tf.apply_fails();
    let took = started.elapsed();
    eprintln!("apply with {mechanism} at {bootstrap} failed after {took:.1?}:\n{out}");
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
    flat
}

#[test]
fn scram_logins_the_broker_rejects_fail_fast_with_an_authentication_error_and_create_nothing() {
    let broker = SaslTansu::start();

    // tansu cannot create the user: its CLI does not authenticate, and the broker requires it.
    let created = broker.create_user("scram256", USER, PASSWORD);
    let text = combined(&created);
    assert!(
        !created.status.success(),
        "tansu user create worked: tansu can keep SCRAM users now, so test a successful login:\n{text}"
    );
    assert!(text.contains("early eof"), "{text}");
    assert!(broker.log().contains("NotAuthenticated"), "{}", broker.log());

    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-512"] {
        let mut tf = Tf::new();
        let out = apply_fails_to_log_in(&mut tf, &broker.bootstrap, mechanism);
        // librdkafka's own reason: the broker rejected the SCRAM login.
        assert!(out.contains("SASL SCRAM authentication failed"), "{out}");
        tf.destroy();
    }

    // The provider's own client, configured the same way, reports the same, as fast.
    let b = sasl_backends(&broker.bootstrap, "SCRAM-SHA-512", PASSWORD);
    let kafka = b.try_streaming().expect("a client (it connects on first use)");
    let started = Instant::now();
    let err = b.block_on(kafka.describe_topic("sasl.orders.order-events")).expect_err("no login, no answer");
    let took = started.elapsed();
    eprintln!("direct describe_topic failed after {took:.1?}: {err}");
    assert_eq!(err.kind, ErrorKind::Auth, "{err}");
    assert!(err.message.contains("SASL SCRAM authentication failed"), "{err}");
    assert!(took < Duration::from_secs(TIMEOUT_SECONDS), "took {took:?}: {err}");

    // No request past the login reached the broker: it only ever saw SASL and ApiVersions
    // (and the refused AlterUserScramCredentials of `tansu user create`).
    let log = broker.log();
    assert!(log.contains("SaslAuthenticateRequest"), "the logins reached the broker:\n{log}");
    for request in ["CreateTopicsRequest", "MetadataRequest", "DescribeConfigsRequest"] {
        assert!(!log.contains(request), "{request} reached the broker:\n{log}");
    }
}

#[test]
fn sasl_against_a_broker_without_sasl_fails_fast_with_an_authentication_error() {
    // The stack's broker runs without --authentication: it answers the SASL handshake with
    // UNSUPPORTED_SASL_MECHANISM.
    let bootstrap = std::env::var("DATAMESH_KAFKA_BOOTSTRAP_SERVERS").expect("stack.env");
    let mut tf = Tf::new();
    let out = apply_fails_to_log_in(&mut tf, &bootstrap, "SCRAM-SHA-512");
    assert!(out.contains("SASL SCRAM-SHA-512 mechanism handshake failed"), "{out}");
    assert!(out.contains("Unsupported SASL mechanism"), "{out}");
    // Nothing on the broker, seen without SASL.
    let b = Backends::for_prefix(&tf.prefix);
    let topic = format!("{}-sales.orders.order-events", tf.prefix);
    assert!(b.block_on(b.streaming().describe_topic(&topic)).unwrap().is_none());
    tf.destroy();
}

#[test]
fn scram_with_the_right_password_applies_plans_empty_and_destroys_and_a_wrong_one_fails_fast() {
    let broker = SaslTansu::with_users(&[("scram256", USER, GOOD_PASSWORD), ("scram512", USER, GOOD_PASSWORD)]);
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-512"] {
        let mut tf = Tf::new();
        let domain = format!("{}-sales", tf.prefix);
        tf.write_with_kafka(&sasl_settings(&broker.bootstrap, mechanism, GOOD_PASSWORD), &hcl(&domain));
        tf.apply();
        tf.assert_no_changes();
        let topic = format!("{domain}.orders.order-events");
        assert_eq!(tf.resource("datamesh_stream.s")["topic"], topic.as_str());
        let b = sasl_backends(&broker.bootstrap, mechanism, GOOD_PASSWORD);
        let info = b.block_on(b.streaming().describe_topic(&topic)).expect("logged in").expect("the topic exists");
        assert_eq!(info.partitions, 3);
        assert!(Backends::for_prefix(&tf.prefix).catalog_has(&format!("streams/{domain}/orders/order-events.json")));
        tf.destroy();
        assert!(b.block_on(b.streaming().describe_topic(&topic)).expect("logged in").is_none(), "destroyed");
        eprintln!("{mechanism}: apply, empty plan and destroy over SCRAM");
    }

    // The user exists: a wrong password fails the same way as an unknown user, as fast.
    let mut tf = Tf::new();
    let out = apply_fails_to_log_in(&mut tf, &broker.bootstrap, "SCRAM-SHA-512");
    assert!(out.contains("SASL SCRAM authentication failed"), "{out}");
    tf.destroy();
}
