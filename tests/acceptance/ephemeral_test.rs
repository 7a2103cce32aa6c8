//! `datamesh_consumer_credentials`: the consumer's short-lived credentials read a granted
//! product for real (against IAM that enforces policies), and no secret reaches state or plan;
//! with Terraform and with OpenTofu.

use aws_sdk_s3::primitives::ByteStream;

use crate::support::{zip_members, AuthMoto, Tf};

const PROBE: &str = r#"
import os, boto3, botocore
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"], region_name="us-east-1")
def get(bucket):
    try:
        s3.get_object(Bucket=bucket, Key="data.json")["Body"].read()
        return "allowed"
    except botocore.exceptions.ClientError as e:
        return "denied:" + e.response["Error"]["Code"]
with open(os.environ["OUT"], "w") as f:
    f.write(get(os.environ["GRANTED"]) + "\n" + get(os.environ["OTHER"]) + "\n")
with open(os.environ["SECRET_OUT"], "w") as f:
    f.write(os.environ["AWS_SECRET_ACCESS_KEY"] + "\n" + os.environ["AWS_SESSION_TOKEN"])
"#;

#[test]
fn consumer_credentials_read_the_granted_product_and_never_reach_state_or_plan() {
    credentials_read_only_what_was_granted(Tf::new);
}

#[test]
fn consumer_credentials_read_the_granted_product_and_never_reach_state_or_plan_with_opentofu() {
    credentials_read_only_what_was_granted(Tf::tofu);
}

/// The scenario, in directories made by `new` (one CLI).
fn credentials_read_only_what_was_granted(new: fn() -> Tf) {
    let moto = AuthMoto::start();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let setup = aws_sdk_iam::Client::new(&moto.config("setup", "setup", None));
    rt.block_on(setup.create_user().user_name("admin").send()).unwrap();
    let all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    rt.block_on(setup.put_user_policy().user_name("admin").policy_name("all").policy_document(all).send()).unwrap();
    let key = rt.block_on(setup.create_access_key().user_name("admin").send()).unwrap();
    let key = key.access_key().unwrap();
    let (admin_key, admin_secret) = (key.access_key_id().to_string(), key.secret_access_key().to_string());
    moto.enforce();

    let mut tf = new();
    let p = tf.prefix.clone();
    tf.aws_config(&format!(
        "    s3_endpoint = \"{e}\"\n    iam_endpoint = \"{e}\"\n    access_key = \"{admin_key}\"\n    secret_key = \"{admin_secret}\"",
        e = moto.endpoint
    ));
    let infra = format!(
        r#"resource "datamesh_domain" "sales" {{
  name  = "{p}-sales"
  owner = "sales@example.com"
}}

resource "datamesh_domain" "mkt" {{
  name                   = "{p}-mkt"
  owner                  = "mkt@example.com"
  trusted_principal_arns = ["arn:aws:iam::123456789012:user/admin"]
}}

resource "datamesh_data_product" "orders" {{
  domain         = datamesh_domain.sales.name
  name           = "orders"
  classification = "internal"
  force_destroy  = true
}}

resource "datamesh_data_product" "hr" {{
  domain         = datamesh_domain.sales.name
  name           = "hr"
  classification = "confidential"
  force_destroy  = true
}}

resource "datamesh_access_grant" "g" {{
  consumer_domain = datamesh_domain.mkt.name
  data_product    = datamesh_data_product.orders.id
  purpose         = "Attribution"
}}
"#
    );
    tf.write(&infra);
    tf.apply();
    let admin = aws_sdk_s3::Client::new(&moto.config(&admin_key, &admin_secret, None));
    let (orders, hr) = (format!("{p}-{p}-sales-orders"), format!("{p}-{p}-sales-hr"));
    for bucket in [&orders, &hr] {
        rt.block_on(admin.put_object().bucket(bucket).key("data.json").body(ByteStream::from_static(b"{}")).send())
            .unwrap();
    }

    tf.write_file("probe.py", PROBE);
    let python = format!("{}/venv/bin/python", std::env::var("DATAMESH_TOOLS_DIR").unwrap());
    let dir = tf.path().display().to_string();
    tf.write(&format!(
        r#"{infra}
ephemeral "datamesh_consumer_credentials" "mkt" {{
  consumer_domain  = datamesh_domain.mkt.name
  duration_seconds = 900
}}

resource "terraform_data" "probe" {{
  provisioner "local-exec" {{
    command = "{python} probe.py"
    environment = {{
      AWS_ACCESS_KEY_ID     = ephemeral.datamesh_consumer_credentials.mkt.access_key_id
      AWS_SECRET_ACCESS_KEY = ephemeral.datamesh_consumer_credentials.mkt.secret_access_key
      AWS_SESSION_TOKEN     = ephemeral.datamesh_consumer_credentials.mkt.session_token
      ENDPOINT              = "{endpoint}"
      GRANTED               = "{orders}"
      OTHER                 = "{hr}"
      OUT                   = "{dir}/probe.out"
      SECRET_OUT            = "{dir}/secret.out"
    }}
  }}
}}
"#,
        endpoint = moto.endpoint
    ));
    let out = tf.run(&["plan", "-out=tfplan", "-no-color"]);
    assert!(out.status.success(), "{}", crate::support::combined(&out));
    let out = tf.run(&["apply", "-no-color", "tfplan"]);
    let applied = crate::support::combined(&out);
    assert!(out.status.success(), "{applied}");

    let probe = std::fs::read_to_string(tf.path().join("probe.out")).expect("the probe ran");
    let lines: Vec<&str> = probe.lines().collect();
    assert_eq!(lines.first(), Some(&"allowed"), "the consumer's credentials read the granted product:\n{probe}");
    // Refused by IAM, not failing for some other reason (NoSuchBucket, an expired session, ...).
    assert_eq!(lines.get(1), Some(&"denied:AccessDenied"), "and nothing else:\n{probe}");

    // No secret in state, in the saved plan, or in Terraform's output.
    let secrets = std::fs::read_to_string(tf.path().join("secret.out")).unwrap();
    let secrets: Vec<&str> = secrets.lines().filter(|s| !s.is_empty()).collect();
    assert_eq!(secrets.len(), 2, "the probe saw a secret key and a session token");
    let state = std::fs::read_to_string(tf.path().join("terraform.tfstate")).unwrap();
    let shown = tf.run(&["show", "-json", "-no-color", "tfplan"]);
    let plan_json = crate::support::combined(&shown);
    assert!(shown.status.success(), "terraform show -json tfplan failed:\n{plan_json}");
    assert!(plan_json.contains("terraform_data.probe"), "the plan JSON shows the probe:\n{plan_json}");
    // The saved plan is a zip whose members are deflated: search what each member holds.
    let members = zip_members(&tf.path().join("tfplan"));
    let in_plan_file = |needle: &str| -> Vec<&str> {
        members
            .iter()
            .filter(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .map(|(name, _)| name.as_str())
            .collect()
    };
    // The search sees what the plan holds: the probe's settings are in it.
    assert!(!in_plan_file(&hr).is_empty(), "the plan file's members hold {hr:?}: {:?}", names(&members));
    for secret in secrets {
        assert!(!state.contains(secret), "a secret is in the state file");
        assert!(!plan_json.contains(secret), "a secret is in the plan");
        assert!(in_plan_file(secret).is_empty(), "a secret is in the plan file, in {:?}", in_plan_file(secret));
        assert!(!applied.contains(secret), "a secret is in Terraform's output");
    }
    tf.destroy();
}

fn names(members: &[(String, Vec<u8>)]) -> Vec<&str> {
    members.iter().map(|(name, _)| name.as_str()).collect()
}
