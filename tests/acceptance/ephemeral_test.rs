//! `datamesh_consumer_credentials`: the consumer's short-lived credentials read a granted
//! product for real (against IAM that enforces policies), and no secret reaches state or plan.

use aws_sdk_s3::primitives::ByteStream;

use crate::support::{AuthMoto, Tf};

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

    let mut tf = Tf::new();
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
    assert_eq!(lines[0], "allowed", "the consumer's credentials read the granted product");
    assert!(lines[1].starts_with("denied"), "and nothing else: {}", lines[1]);

    // No secret in state, in the saved plan, or in Terraform's output.
    let secrets = std::fs::read_to_string(tf.path().join("secret.out")).unwrap();
    let state = std::fs::read_to_string(tf.path().join("terraform.tfstate")).unwrap();
    let plan_json = crate::support::combined(&tf.run(&["show", "-json", "tfplan"]));
    let plan_raw = std::fs::read(tf.path().join("tfplan")).unwrap();
    for secret in secrets.lines().filter(|s| !s.is_empty()) {
        assert!(!state.contains(secret), "a secret is in the state file");
        assert!(!plan_json.contains(secret), "a secret is in the plan");
        assert!(!plan_raw.windows(secret.len()).any(|w| w == secret.as_bytes()), "a secret is in the plan file");
        assert!(!applied.contains(secret), "a secret is in Terraform's output");
    }
    tf.destroy();
}
