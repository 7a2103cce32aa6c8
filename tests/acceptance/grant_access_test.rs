//! Proof that a grant works, not just that it was written: against an S3/IAM endpoint that
//! enforces IAM policies, a user assumes the consumer domain's role and is allowed exactly
//! what the grant says, and nothing once the grant is gone.

use aws_sdk_s3::primitives::ByteStream;

use crate::support::{AuthMoto, Tf};

const ACCOUNT: &str = "123456789012";

fn config(prefix: &str, access: Option<&str>) -> String {
    let grant = match access {
        Some(access) => format!(
            r#"
resource "datamesh_access_grant" "g" {{
  consumer_domain = datamesh_domain.mkt.name
  data_product    = datamesh_data_product.orders.id
  access          = "{access}"
  purpose         = "Campaign attribution"
}}
"#
        ),
        None => String::new(),
    };
    format!(
        r#"resource "datamesh_domain" "sales" {{
  name  = "{prefix}-sales"
  owner = "sales@example.com"
}}

resource "datamesh_domain" "mkt" {{
  name                   = "{prefix}-mkt"
  owner                  = "marketing@example.com"
  trusted_principal_arns = ["arn:aws:iam::{ACCOUNT}:user/alice"]
}}

resource "datamesh_data_product" "orders" {{
  domain         = datamesh_domain.sales.name
  name           = "orders"
  classification = "internal"
  force_destroy  = true
}}

resource "datamesh_data_product" "secrets" {{
  domain         = datamesh_domain.sales.name
  name           = "secrets"
  classification = "confidential"
  force_destroy  = true
}}
{grant}"#
    )
}

/// What became of one S3 call.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Allowed,
    /// S3 refused it with the error code `AccessDenied`: IAM said no.
    AccessDenied,
    /// Any other failure (`NoSuchBucket`, an expired session, a connection error, ...), with
    /// its code and message: not a verdict on the grant.
    Failed(String),
}

impl<T, E> From<Result<T, aws_sdk_s3::error::SdkError<E>>> for Outcome
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    fn from(result: Result<T, aws_sdk_s3::error::SdkError<E>>) -> Self {
        use aws_sdk_s3::error::ProvideErrorMetadata;
        match result {
            Ok(_) => Outcome::Allowed,
            Err(e) if e.code() == Some("AccessDenied") => Outcome::AccessDenied,
            Err(e) => Outcome::Failed(match e.code() {
                Some(code) => format!("{code}: {}", e.message().unwrap_or_default()),
                None => format!("(no error code) {}", aws_sdk_s3::error::DisplayErrorContext(&e)),
            }),
        }
    }
}

/// What alice, as the consumer's role, may do.
struct Probe {
    rt: tokio::runtime::Runtime,
    s3: aws_sdk_s3::Client,
}

impl Probe {
    fn get(&self, bucket: &str) -> Outcome {
        self.rt.block_on(self.s3.get_object().bucket(bucket).key("data.json").send()).into()
    }
    fn put(&self, bucket: &str) -> Outcome {
        self.rt
            .block_on(
                self.s3
                    .put_object()
                    .bucket(bucket)
                    .key("from-consumer.json")
                    .body(ByteStream::from_static(b"{}"))
                    .send(),
            )
            .into()
    }
}

#[test]
fn a_grant_gives_exactly_its_access_through_the_assumed_consumer_role() {
    let moto = AuthMoto::start();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let setup = aws_sdk_iam::Client::new(&moto.config("setup", "setup", None));

    // Users, made while the endpoint still lets anyone in: an admin for Terraform, and alice.
    let allow_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let assume =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
    let key = |user: &str, policy: &str| {
        rt.block_on(setup.create_user().user_name(user).send()).unwrap();
        rt.block_on(setup.put_user_policy().user_name(user).policy_name("p").policy_document(policy).send()).unwrap();
        let k = rt.block_on(setup.create_access_key().user_name(user).send()).unwrap();
        let k = k.access_key().unwrap();
        (k.access_key_id().to_string(), k.secret_access_key().to_string())
    };
    let (admin_key, admin_secret) = key("admin", allow_all);
    let (alice_key, alice_secret) = key("alice", assume);
    moto.enforce();
    let anonymous = aws_sdk_s3::Client::new(&moto.config("setup", "setup", None));
    assert!(rt.block_on(anonymous.list_buckets().send()).is_err(), "authentication is enforced");

    let mut tf = Tf::new();
    tf.aws_config(&format!(
        "    s3_endpoint = \"{e}\"\n    iam_endpoint = \"{e}\"\n    access_key = \"{admin_key}\"\n    secret_key = \"{admin_secret}\"",
        e = moto.endpoint
    ));
    let prefix = tf.prefix.clone();
    let write = |tf: &Tf, access: Option<&str>| tf.write(&config(&prefix, access));
    write(&tf, Some("read"));
    tf.apply();
    tf.assert_no_changes();

    let orders = format!("{prefix}-{prefix}-sales-orders");
    let secrets = format!("{prefix}-{prefix}-sales-secrets");
    let admin = aws_sdk_s3::Client::new(&moto.config(&admin_key, &admin_secret, None));
    for bucket in [&orders, &secrets] {
        rt.block_on(admin.put_object().bucket(bucket).key("data.json").body(ByteStream::from_static(b"{}")).send())
            .unwrap();
    }

    let sts = aws_sdk_sts::Client::new(&moto.config(&alice_key, &alice_secret, None));
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/datamesh/{prefix}-domain-{prefix}-mkt");
    let creds = rt.block_on(sts.assume_role().role_arn(&role_arn).role_session_name("alice-test").send()).unwrap();
    let c = creds.credentials().unwrap();
    let probe = Probe {
        s3: aws_sdk_s3::Client::new(&moto.config(c.access_key_id(), c.secret_access_key(), Some(c.session_token()))),
        rt,
    };

    assert_eq!(probe.get(&orders), Outcome::Allowed, "read grant: GetObject on the granted product succeeds");
    assert_eq!(probe.put(&orders), Outcome::AccessDenied, "read grant: PutObject is denied");
    assert_eq!(probe.get(&secrets), Outcome::AccessDenied, "no grant: the other product is denied");

    write(&tf, Some("read_write"));
    assert_eq!(tf.planned_actions("datamesh_access_grant.g"), vec!["update"]);
    tf.apply();
    assert_eq!(probe.put(&orders), Outcome::Allowed, "read_write grant: PutObject succeeds");
    assert_eq!(probe.get(&secrets), Outcome::AccessDenied, "still no grant on the other product");

    write(&tf, None);
    tf.apply();
    assert_eq!(probe.get(&orders), Outcome::AccessDenied, "after the grant is destroyed, access is denied again");
    tf.destroy();
}
