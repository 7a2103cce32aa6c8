//! Secrets never reach logs, plans or state: with `TF_LOG=trace`, a plan saved to a file and
//! an apply that use `aws.secret_key`, `kafka.sasl_password`, `cassandra.password` (each set
//! from an ephemeral variable, as a team would pass them), a domain's `password_wo` (its SCRAM
//! credential and Cassandra role, whose CQL holds it as a literal) and ephemeral consumer
//! credentials print none of them; neither the plan file's members nor the state hold any.

use crate::support::{combined, unique, zip_members, Tf};

#[test]
fn no_secret_reaches_the_trace_log_or_the_state() {
    let mut tf = Tf::new();
    let p = tf.prefix.clone();
    // moto (without its auth mode) accepts any key pair; these values exist only here.
    let secret_key = format!("sk-{}-{}", unique('s'), unique('k'));
    // The broker's real SCRAM login, set in the provider block rather than taken from the env.
    let sasl_user = std::env::var("DATAMESH_KAFKA_SASL_USERNAME").expect("stack.env");
    let sasl_password = std::env::var("DATAMESH_KAFKA_SASL_PASSWORD").expect("stack.env");
    tf.aws_config("    access_key = \"AKIATESTDATAMESH\"\n    secret_key = var.aws_sk");
    tf.env("TF_VAR_aws_sk", &secret_key);
    tf.env("TF_VAR_sasl_pw", &sasl_password);
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
    let provider_secrets = r#"
variable "aws_sk" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "sasl_pw" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "cql_pw" {
  type      = string
  sensitive = true
  ephemeral = true
}
"#;
    let cql_password = std::env::var("DATAMESH_CASSANDRA_PASSWORD").expect("stack.env");
    tf.env("TF_VAR_cql_pw", &cql_password);
    tf.write(&format!("{infra}{provider_secrets}"));
    tf.apply();
    let main = std::fs::read_to_string(tf.path().join("main.tf")).unwrap().replace(
        "    manage_acls                = true",
        &format!("    manage_acls                = true\n    sasl_username              = \"{sasl_user}\"\n    sasl_password              = var.sasl_pw"),
    );
    let cql_user = std::env::var("DATAMESH_CASSANDRA_USERNAME").expect("stack.env");
    let main = main.replace(
        "    replication = { datacenter1 = 1 }",
        &format!(
            "    replication = {{ datacenter1 = 1 }}\n    username    = \"{cql_user}\"\n    password    = var.cql_pw"
        ),
    );
    assert!(
        main.contains("var.sasl_pw") && main.contains("var.cql_pw") && main.contains("var.aws_sk"),
        "the provider block takes the passwords from the variables"
    );
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
    // A saved plan of everything still to make (the ports, the Cassandra domain, the credentials).
    let planned = tf.run(&["plan", "-out=tfplan", "-no-color"]);
    let mut log = combined(&planned);
    assert!(planned.status.success(), "{}", &log[log.len().saturating_sub(4000)..]);
    let plan_file = zip_members(&tf.path().join("tfplan"));
    let out = tf.run(&["apply", "-auto-approve", "-no-color"]);
    log.push_str(&combined(&out));
    assert!(out.status.success(), "{}", &log[log.len().saturating_sub(4000)..]);
    assert!(log.contains("datamesh."), "the provider's own log lines are in the trace log");

    let ephemeral =
        std::fs::read_to_string(tf.path().join("ephemeral.out")).expect("the ephemeral credentials were used");
    let mut secrets = vec![secret_key.clone(), sasl_password.clone(), cql_password.clone(), domain_password.clone()];
    secrets.extend(ephemeral.lines().filter(|l| l.len() > 8).map(String::from));
    assert_eq!(secrets.len(), 6, "three configured secrets, a domain's password_wo and two ephemeral ones");
    assert!(log.contains("CREATE ROLE") || log.contains("cassandra"), "the trace log covers the Cassandra calls");
    let state = std::fs::read_to_string(tf.path().join("terraform.tfstate")).unwrap();
    assert!(plan_file.iter().any(|(name, _)| name == "tfplan"), "the plan file holds the plan itself");
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "a secret appears in the TF_LOG=trace output");
        assert!(!state.contains(secret.as_str()), "a secret appears in the state file");
    }
    // The ephemeral credentials exist only during the apply; the plan came before them.
    for secret in &secrets[..4] {
        for (name, bytes) in &plan_file {
            assert!(
                !String::from_utf8_lossy(bytes).contains(secret.as_str()),
                "a secret appears in the plan file's {name}"
            );
        }
    }
}
