//! Secrets never reach logs or state: with `TF_LOG=trace`, an apply that uses
//! `aws.secret_key`, `kafka.sasl_password`, `cassandra.password`, a domain's `password_wo`
//! (its SCRAM credential and Cassandra role, whose CQL holds it as a literal) and ephemeral
//! consumer credentials prints none of them, and the state holds none of them.

use crate::support::{combined, unique, Tf};

#[test]
fn no_secret_reaches_the_trace_log_or_the_state() {
    let mut tf = Tf::new();
    let p = tf.prefix.clone();
    // moto (without its auth mode) accepts any key pair; these values exist only here.
    let secret_key = format!("sk-{}-{}", unique('s'), unique('k'));
    // The broker's real SCRAM login, set in the provider block rather than taken from the env.
    let sasl_user = std::env::var("DATAMESH_KAFKA_SASL_USERNAME").expect("stack.env");
    let sasl_password = std::env::var("DATAMESH_KAFKA_SASL_PASSWORD").expect("stack.env");
    tf.aws_config(&format!("    access_key = \"AKIATESTDATAMESH\"\n    secret_key = \"{secret_key}\""));
    let infra = format!(
        r#"resource "datamesh_domain" "sales" {{
  name  = "{p}-sales"
  owner = "sales@example.com"
}}

resource "datamesh_domain" "mkt" {{
  name  = "{p}-mkt"
  owner = "mkt@example.com"
}}
"#
    );
    tf.write(&infra);
    tf.apply();
    let main = std::fs::read_to_string(tf.path().join("main.tf")).unwrap().replace(
        "    manage_acls                = true",
        &format!("    manage_acls                = true\n    sasl_username              = \"{sasl_user}\"\n    sasl_password              = \"{sasl_password}\""),
    );
    let cql_user = std::env::var("DATAMESH_CASSANDRA_USERNAME").expect("stack.env");
    let cql_password = std::env::var("DATAMESH_CASSANDRA_PASSWORD").expect("stack.env");
    let main = main.replace(
        "    replication = { datacenter1 = 1 }",
        &format!("    replication = {{ datacenter1 = 1 }}\n    username    = \"{cql_user}\"\n    password    = \"{cql_password}\""),
    );
    assert!(main.contains(&sasl_password) && main.contains(&cql_password), "the provider block sets the passwords");
    let domain_password = format!("pw'{};--", unique('w'));
    tf.env("TF_VAR_pw_cas", &domain_password);
    let dir = tf.path().display().to_string();
    let with_ephemeral = format!(
        r#"{main}
ephemeral "datamesh_consumer_credentials" "mkt" {{
  consumer_domain = datamesh_domain.mkt.name
}}

resource "terraform_data" "use" {{
  provisioner "local-exec" {{
    command = "printf '%s\n%s' \"$SECRET\" \"$TOKEN\" > {dir}/ephemeral.out"
    environment = {{
      SECRET = ephemeral.datamesh_consumer_credentials.mkt.secret_access_key
      TOKEN  = ephemeral.datamesh_consumer_credentials.mkt.session_token
    }}
  }}
}}

resource "datamesh_data_product" "orders" {{
  domain         = datamesh_domain.sales.name
  name           = "orders"
  classification = "internal"
}}

resource "datamesh_stream" "events" {{
  data_product = datamesh_data_product.orders.id
  name         = "events"
}}

variable "pw_cas" {{
  type      = string
  sensitive = true
  ephemeral = true
}}

resource "datamesh_domain" "cas" {{
  name                = "{p}-cas"
  owner               = "cas@example.com"
  password_wo         = var.pw_cas
  password_wo_version = 1
}}

resource "datamesh_data_product" "rows" {{
  domain         = datamesh_domain.cas.name
  name           = "rows"
  classification = "internal"
  hdfs {{}}
  cassandra {{}}
}}
"#
    );
    std::fs::write(tf.path().join("main.tf"), with_ephemeral).unwrap();
    tf.env("TF_LOG", "trace");
    let out = tf.run(&["apply", "-auto-approve", "-no-color"]);
    let log = combined(&out);
    assert!(out.status.success(), "{}", &log[log.len().saturating_sub(4000)..]);
    assert!(log.contains("datamesh."), "the provider's own log lines are in the trace log");

    let ephemeral =
        std::fs::read_to_string(tf.path().join("ephemeral.out")).expect("the ephemeral credentials were used");
    let mut secrets = vec![secret_key.clone(), sasl_password.clone(), cql_password.clone(), domain_password.clone()];
    secrets.extend(ephemeral.lines().filter(|l| l.len() > 8).map(String::from));
    assert_eq!(secrets.len(), 6, "three configured secrets, a domain's password_wo and two ephemeral ones");
    assert!(log.contains("CREATE ROLE") || log.contains("cassandra"), "the trace log covers the Cassandra calls");
    let state = std::fs::read_to_string(tf.path().join("terraform.tfstate")).unwrap();
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "a secret appears in the TF_LOG=trace output");
        assert!(!state.contains(secret.as_str()), "a secret appears in the state file");
    }
}
