//! What every acceptance test shares: the local stack's coordinates, a Terraform working
//! directory that drives the real CLI against the freshly built provider, and checkers that
//! look at the backends directly through the provider's own backend code.

#![allow(dead_code, unreachable_pub)]

pub mod inventory;
pub mod odps;
pub mod proxy;
pub mod stores;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Once};

use serde_json::Value as Json;
use terraform_provider_datamesh::backends::{Catalog, Database, Hdfs, Iam, Storage, Streaming};
use terraform_provider_datamesh::provider::config::ProviderConfig;
use terraform_provider_datamesh::provider::ProviderData;

/// The provider binary cargo built for these tests.
pub fn provider_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-datamesh"))
}

/// The Terraform CLI under test: `TF_ACC_TERRAFORM_PATH`, then the stack's pinned launcher.
pub fn terraform_binary() -> PathBuf {
    for var in ["TF_ACC_TERRAFORM_PATH", "DATAMESH_TERRAFORM"] {
        if let Ok(p) = std::env::var(var) {
            if !p.is_empty() {
                return PathBuf::from(p);
            }
        }
    }
    panic!(
        "No Terraform CLI for the acceptance tests: run them through `make test` (which starts the local stack), \
         or `make stack-up` and source the printed stack.env, or set TF_ACC_TERRAFORM_PATH."
    );
}

/// The OpenTofu CLI every OpenTofu test runs: `DATAMESH_TOFU`, which `scripts/stack-up.sh` writes
/// into stack.env (the OpenTofu `scripts/tools.sh` builds into the tools cache). Required: a test
/// that needs it fails when it is missing, it never skips.
pub fn tofu_binary() -> PathBuf {
    let path = std::env::var_os("DATAMESH_TOFU").filter(|p| !p.is_empty()).map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "DATAMESH_TOFU is not set: the OpenTofu tests need the stack.env of a current scripts/stack-up.sh \
             (`make test`, or `make stack-up` and source the printed stack.env)"
        )
    });
    assert!(path.is_file(), "DATAMESH_TOFU={} is not a file: scripts/tools.sh builds OpenTofu there", path.display());
    path
}

/// Fails loudly when the stack is not up: acceptance tests never skip silently.
pub fn require_stack() {
    static ONCE: Once = Once::new();
    for var in ["AWS_ENDPOINT_URL", "DATAMESH_KAFKA_BOOTSTRAP_SERVERS"] {
        assert!(
            std::env::var(var).is_ok_and(|v| !v.is_empty()),
            "{var} is not set: the acceptance tests need the local stack. Run `make test`, or `make stack-up` and source its stack.env."
        );
    }
    ONCE.call_once(|| {
        if let Ok(out) = Command::new(terraform_binary()).arg("version").output() {
            let v = String::from_utf8_lossy(&out.stdout);
            eprintln!("acceptance tests use {}", v.lines().next().unwrap_or("an unknown Terraform"));
        }
    });
}

/// A random lowercase tag that keeps parallel tests' names apart.
pub fn unique(prefix: char) -> String {
    let alphabet: Vec<char> = ('a'..='z').chain('0'..='9').collect();
    let mut s = String::from(prefix);
    for _ in 0..7 {
        s.push(alphabet[fastrand::usize(..alphabet.len())]);
    }
    s
}

/// One Terraform working directory with its own state and name prefix.
pub struct Tf {
    dir: tempfile::TempDir,
    /// The provider's `name_prefix` in this directory.
    pub prefix: String,
    provider_extra: String,
    aws_extra: String,
    manage_acls: bool,
    env: Vec<(String, String)>,
    destroyed: bool,
    /// The Terraform or OpenTofu CLI this directory runs (`terraform_binary()` unless [`Tf::with_cli`]).
    cli: PathBuf,
    /// Where Terraform runs, relative to `dir` (empty: `dir` itself; see [`Tf::with_tree`]).
    root: PathBuf,
    /// More `required_providers` entries of `main.tf` (see [`Tf::with_go_provider`]).
    required: String,
}

impl Tf {
    /// A fresh directory whose provider uses a unique `name_prefix`.
    pub fn new() -> Self {
        require_stack();
        let dir = tempfile::Builder::new().prefix("datamesh-acc-").tempdir().expect("temp dir");
        let cli_config = dir.path().join("terraform.rc");
        let bin_dir = provider_binary().parent().expect("binary dir").to_path_buf();
        std::fs::write(
            &cli_config,
            format!(
                // Both registries: OpenTofu resolves the short source `datamesh/datamesh` to
                // registry.opentofu.org, Terraform to registry.terraform.io.
                "provider_installation {{\n  dev_overrides {{\n    \"registry.terraform.io/datamesh/datamesh\" = \"{bin}\"\n    \"registry.opentofu.org/datamesh/datamesh\" = \"{bin}\"\n  }}\n  direct {{}}\n}}\n",
                bin = bin_dir.display()
            ),
        )
        .expect("write CLI config");
        Self {
            prefix: unique('t'),
            provider_extra: String::new(),
            aws_extra: String::new(),
            manage_acls: true,
            env: vec![("TF_CLI_CONFIG_FILE".into(), cli_config.display().to_string())],
            dir,
            destroyed: false,
            cli: terraform_binary(),
            root: PathBuf::new(),
            required: String::new(),
        }
    }

    /// A fresh directory holding a copy of the configuration tree `tree`, with Terraform
    /// running in its sub-directory `root`: relative module sources (`../../modules/x`) keep
    /// working, and the root's own provider block and variables are used as they are.
    pub fn with_tree(tree: &Path, root: &str) -> Self {
        let mut tf = Self::new();
        copy_tree(tree, tf.path());
        tf.root = PathBuf::from(root);
        assert!(tf.workdir().is_dir(), "{root} is not a directory of {}", tree.display());
        tf
    }

    /// The directory Terraform runs in: [`Tf::path`], or the root given to [`Tf::with_tree`].
    pub fn workdir(&self) -> PathBuf {
        self.dir.path().join(&self.root)
    }

    /// The working directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Adds HCL inside the provider block (e.g. a `governance { ... }` block).
    pub fn provider_config(&mut self, extra: &str) {
        self.provider_extra = extra.to_string();
    }

    /// Shares another directory's `name_prefix` (and so its roles, buckets and catalog).
    pub fn set_prefix(&mut self, prefix: &str) {
        self.prefix = prefix.to_string();
    }

    /// Adds settings inside the provider's `aws { ... }` block.
    pub fn aws_config(&mut self, extra: &str) {
        self.aws_extra = extra.to_string();
    }

    /// Turns off the provider's Kafka ACLs (`kafka.manage_acls = false`).
    pub fn without_acls(&mut self) {
        self.manage_acls = false;
    }

    /// Sets an environment variable for every Terraform command.
    pub fn env(&mut self, key: &str, value: &str) {
        self.env.push((key.into(), value.into()));
    }

    /// Writes `main.tf`: the provider block, then `body`.
    pub fn write(&self, body: &str) {
        let hcl = format!(
            r#"terraform {{
  required_providers {{
    datamesh = {{ source = "datamesh/datamesh" }}
{required}  }}
}}

provider "datamesh" {{
  name_prefix = "{prefix}"
  aws {{
    s3_force_path_style = true
{aws}
  }}
  kafka {{
    default_replication_factor = 1
    timeout_seconds            = 15
    manage_acls                = {acls}
  }}
  cassandra {{
    replication = {{ datacenter1 = 1 }}
  }}
{extra}
}}

{body}
"#,
            prefix = self.prefix,
            extra = self.provider_extra,
            aws = self.aws_extra,
            acls = self.manage_acls,
            required = self.required
        );
        std::fs::write(self.dir.path().join("main.tf"), hcl).expect("write main.tf");
    }

    /// Writes another file next to `main.tf`.
    pub fn write_file(&self, name: &str, content: &str) {
        std::fs::write(self.dir.path().join(name), content).expect("write file");
    }

    /// Runs Terraform with arguments; returns the raw output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_env(args, &[])
    }

    /// [`Tf::run`] with extra environment variables for this one command (like `TF_LOG`).
    pub fn run_with_env(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(&self.cli);
        cmd.args(args)
            .current_dir(self.workdir())
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_INPUT", "0")
            .env_remove("TF_LOG");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.output().expect("run terraform")
    }

    /// Runs Terraform with arguments, which must succeed; returns stdout and stderr.
    pub fn run_ok(&self, args: &[&str]) -> String {
        self.ok(args)
    }

    /// `terraform init` (installs local modules; `dev_overrides` providers are not installed).
    pub fn init(&self) -> String {
        self.ok(&["init", "-input=false", "-no-color"])
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let text = combined(&out);
        assert!(out.status.success(), "terraform {} failed:\n{text}", args.join(" "));
        text
    }

    /// `terraform apply`, which must succeed.
    pub fn apply(&self) -> String {
        self.ok(&["apply", "-auto-approve", "-no-color"])
    }

    /// `terraform apply`, which must fail; returns its output.
    pub fn apply_fails(&self) -> String {
        let out = self.run(&["apply", "-auto-approve", "-no-color"]);
        let text = combined(&out);
        assert!(!out.status.success(), "terraform apply should have failed:\n{text}");
        text
    }

    /// `terraform plan`, which must fail; returns its output.
    pub fn plan_fails(&self) -> String {
        let out = self.run(&["plan", "-no-color"]);
        let text = combined(&out);
        assert!(!out.status.success(), "terraform plan should have failed:\n{text}");
        text
    }

    /// `terraform validate`, which must fail; returns its output.
    pub fn validate_fails(&self) -> String {
        let out = self.run(&["validate", "-no-color"]);
        let text = combined(&out);
        assert!(!out.status.success(), "terraform validate should have failed:\n{text}");
        text
    }

    /// Asserts that a plan (with refresh) shows no changes.
    pub fn assert_no_changes(&self) {
        let out = self.run(&["plan", "-detailed-exitcode", "-no-color"]);
        let text = combined(&out);
        assert_eq!(out.status.code(), Some(0), "expected no changes, got:\n{text}");
        assert!(text.contains("No changes."), "expected 'No changes.':\n{text}");
    }

    /// The plan as JSON (`plan -out` then `show -json`).
    pub fn plan_json(&self) -> Json {
        self.ok(&["plan", "-out=tfplan", "-no-color"]);
        let out = self.ok(&["show", "-json", "tfplan"]);
        let json = out.lines().find(|l| l.starts_with('{')).unwrap_or("{}");
        serde_json::from_str(json).expect("plan JSON")
    }

    /// The actions planned for a resource address, like `["update"]` or `["delete","create"]`.
    pub fn planned_actions(&self, address: &str) -> Vec<String> {
        let plan = self.plan_json();
        plan["resource_changes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["address"] == address)
            .map(|c| {
                c["change"]["actions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The attributes of a resource in state.
    pub fn resource(&self, address: &str) -> Json {
        let out = self.ok(&["show", "-json", "-no-color"]);
        let json: Json =
            serde_json::from_str(out.lines().find(|l| l.starts_with('{')).unwrap_or("{}")).expect("state JSON");
        json["values"]["root_module"]["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["address"] == address)
            .map(|r| r["values"].clone())
            .unwrap_or(Json::Null)
    }

    /// Removes an address from state (for import tests).
    pub fn state_rm(&self, address: &str) {
        self.ok(&["state", "rm", "-no-color", address]);
    }

    /// Records that the caller destroyed everything itself (no clean-up on drop).
    pub fn destroyed(&mut self) {
        self.destroyed = true;
    }

    /// `terraform destroy`, which must succeed.
    pub fn destroy(&mut self) {
        self.ok(&["destroy", "-auto-approve", "-no-color"]);
        self.destroyed = true;
    }
}

impl Drop for Tf {
    /// Cleans up even when a test failed half-way.
    fn drop(&mut self) {
        if !self.destroyed && self.workdir().join("terraform.tfstate").exists() {
            let _ = self.run(&["destroy", "-auto-approve", "-no-color"]);
        }
    }
}

/// Copies the directory `from` into `to`, leaving out Terraform's working files and state.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        if name_str == ".terraform" || name_str == ".terraform.lock.hcl" || name_str.contains(".tfstate") {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copy file");
        }
    }
}

/// stdout and stderr together.
pub fn combined(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Looks at the backends directly, through the provider's own backend implementations.
pub struct Backends {
    rt: tokio::runtime::Runtime,
    data: ProviderData,
}

impl Backends {
    /// Backends configured like a test directory's provider.
    pub fn for_prefix(prefix: &str) -> Self {
        require_stack();
        let mut config = ProviderConfig {
            name_prefix: prefix.to_string(),
            catalog_bucket: format!("{prefix}-catalog"),
            ..Default::default()
        };
        config.aws.s3_force_path_style = true;
        // The stack's broker and its admin login, as the provider reads them (stack.env).
        let from_env = ProviderConfig::from_value(&tfplugin::framework::Value::Null);
        config.kafka = from_env.kafka;
        // HDFS and Cassandra as stack.env gives them (the provider's superuser and admin role).
        config.hdfs = from_env.hdfs;
        config.cassandra = from_env.cassandra;
        config.kafka.timeout = std::time::Duration::from_secs(15);
        // A checker must see every change at once, never a snapshot taken before it.
        config.kafka.shared_reads = false;
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        Self { rt, data: ProviderData::new(config) }
    }

    /// Runs a future to completion.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Object storage.
    pub fn storage(&self) -> Arc<dyn Storage> {
        self.block_on(self.data.storage()).expect("storage")
    }

    /// IAM.
    pub fn iam(&self) -> Arc<dyn Iam> {
        self.block_on(self.data.iam()).expect("iam")
    }

    /// Kafka.
    pub fn streaming(&self) -> Arc<dyn Streaming> {
        self.block_on(self.data.streaming()).expect("streaming")
    }

    /// HDFS, as the provider's superuser.
    pub fn hdfs(&self) -> Arc<dyn Hdfs> {
        self.block_on(self.data.hdfs()).expect("hdfs (is DATAMESH_HDFS_WEBHDFS_URL set?)")
    }

    /// Cassandra, as the provider's admin role.
    pub fn database(&self) -> Arc<dyn Database> {
        self.block_on(self.data.database()).expect("cassandra (is DATAMESH_CASSANDRA_CONTACT_POINTS set?)")
    }

    /// The provider configuration the checkers use (HDFS root, directories, keyspaces).
    pub fn config(&self) -> &ProviderConfig {
        &self.data.config
    }

    /// The catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.block_on(self.data.catalog()).expect("catalog")
    }

    /// Whether a catalog key exists.
    pub fn catalog_has(&self, key: &str) -> bool {
        let catalog = self.catalog();
        self.block_on(catalog.get::<Json>(key)).expect("catalog get").is_some()
    }
}

/// A moto server of the test's own, with IAM authentication enforced once `enforce` is called.
pub struct AuthMoto {
    child: std::process::Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    port: u16,
}

impl AuthMoto {
    /// Starts it with authentication not yet enforced (so the test can create its users).
    pub fn start() -> Self {
        require_stack();
        let tools = std::env::var("DATAMESH_TOOLS_DIR").expect("DATAMESH_TOOLS_DIR from stack.env");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(format!("{tools}/venv/bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "1000000")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start moto_server");
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "moto_server did not start on {endpoint}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Self { child, endpoint, port }
    }

    /// From now on every request needs valid credentials and is checked against IAM policies.
    pub fn enforce(&self) {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let req = format!(
            "POST /moto-api/reset-auth HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: text/plain\r\nContent-Length: 1\r\nConnection: close\r\n\r\n0",
            self.port
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"), "reset-auth: {answer}");
    }

    /// An SDK configuration for this endpoint with the given credentials.
    pub fn config(&self, key: &str, secret: &str, token: Option<&str>) -> aws_config::SdkConfig {
        let creds = aws_sdk_s3::config::Credentials::new(key, secret, token.map(String::from), None, "test");
        aws_config::SdkConfig::builder()
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(creds))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build()
    }
}

impl Drop for AuthMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Tf {
    /// Runs this directory with `cli` (another Terraform, or OpenTofu) instead of the harness's.
    /// Its `dev_overrides` ([`Tf::new`]) name the provider under both registry hostnames, as
    /// OpenTofu reads `source = "datamesh/datamesh"` as `registry.opentofu.org/datamesh/datamesh`.
    pub fn with_cli(mut self, cli: &Path) -> Self {
        self.cli = cli.to_path_buf();
        self
    }

    /// A fresh directory like [`Tf::new`] that runs the OpenTofu of [`tofu_binary`].
    pub fn tofu() -> Self {
        Self::new().with_cli(&tofu_binary())
    }

    /// The CLI this directory runs.
    pub fn cli(&self) -> &Path {
        &self.cli
    }

    /// Serves another provider, `source` like `mongey/kafka` (`main.tf` requires it under its
    /// type's name, `kafka`), from `binary`, a Go provider `scripts/tools.sh` built into the tools
    /// cache: through this directory's `dev_overrides` as the datamesh provider is, so it needs
    /// no `init`. After [`Tf::with_cli`], which writes the CLI config afresh.
    pub fn with_go_provider(mut self, source: &str, binary: &Path) -> Self {
        assert!(binary.is_file(), "{} is missing: scripts/tools.sh builds it (make stack-up)", binary.display());
        let (_, name) = source.rsplit_once('/').expect("a source is <namespace>/<type>");
        let dir = self.dir.path().join("go-providers").join(name);
        std::fs::create_dir_all(&dir).expect("provider dir");
        // Terraform runs `terraform-provider-<type>` from an overridden directory.
        std::os::unix::fs::symlink(binary, dir.join(format!("terraform-provider-{name}"))).expect("provider link");
        let rc = self.dir.path().join("terraform.rc");
        let config = std::fs::read_to_string(&rc).expect("read CLI config");
        let lines: String = ["registry.terraform.io", "registry.opentofu.org"]
            .iter()
            .map(|host| format!("    \"{host}/{source}\" = \"{}\"\n", dir.display()))
            .collect();
        let opening = "  dev_overrides {\n";
        assert!(config.contains(opening), "no dev_overrides block in {config}");
        std::fs::write(&rc, config.replacen(opening, &format!("{opening}{lines}"), 1)).expect("write CLI config");
        self.required.push_str(&format!("    {name} = {{ source = \"{source}\" }}\n"));
        self
    }
}

/// The `mongey/kafka` provider `scripts/tools.sh` built into the tools cache, at the version
/// `scripts/versions.sh` pins (`KAFKA_PROVIDER_VERSION=`).
pub fn mongey_kafka_provider() -> PathBuf {
    let tools = std::env::var("DATAMESH_TOOLS_DIR").expect("DATAMESH_TOOLS_DIR from stack.env");
    let versions = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/versions.sh");
    let script = std::fs::read_to_string(&versions).expect("scripts/versions.sh");
    let version = script.lines().find_map(|l| l.strip_prefix("KAFKA_PROVIDER_VERSION="));
    let version = version.expect("scripts/versions.sh pins KAFKA_PROVIDER_VERSION").trim();
    PathBuf::from(tools).join(format!("go-providers/terraform-provider-kafka_v{version}"))
}

impl Tf {
    /// Writes `main.tf` like [`Tf::write`], with `settings` (HCL lines such as
    /// `security_protocol = "SASL_PLAINTEXT"`) inside the provider's `kafka { ... }` block: a
    /// setting the harness also writes (`timeout_seconds`, `manage_acls`, ...) takes the given
    /// value instead, every other one is added.
    pub fn write_with_kafka(&self, settings: &str, body: &str) {
        self.write(body);
        let path = self.dir.path().join("main.tf");
        let hcl = std::fs::read_to_string(&path).expect("read main.tf");
        std::fs::write(&path, merge_kafka_block(&hcl, settings)).expect("write main.tf");
    }
}

/// `hcl` with `settings` merged into its first `  kafka {` block (see [`Tf::write_with_kafka`]).
fn merge_kafka_block(hcl: &str, settings: &str) -> String {
    fn key(line: &str) -> Option<&str> {
        line.split_once('=').map(|(k, _)| k.trim()).filter(|k| !k.is_empty() && !k.starts_with('#'))
    }
    let given: Vec<&str> = settings.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let given_keys: Vec<&str> = given.iter().filter_map(|l| key(l)).collect();
    let (mut out, mut in_block, mut merged) = (String::new(), false, false);
    for line in hcl.lines() {
        if !merged && line == "  kafka {" {
            in_block = true;
        } else if in_block && line == "  }" {
            for setting in &given {
                out.push_str(&format!("    {setting}\n"));
            }
            (in_block, merged) = (false, true);
        } else if in_block && key(line).is_some_and(|k| given_keys.contains(&k)) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    assert!(merged, "no `kafka {{` block to merge settings into:\n{hcl}");
    out
}

impl Backends {
    /// Backends configured like [`Backends::for_prefix`], with the Kafka settings changed by
    /// `kafka` (another broker, SASL credentials, a shorter timeout, ...).
    pub fn for_prefix_with_kafka(
        prefix: &str,
        kafka: impl FnOnce(&mut terraform_provider_datamesh::provider::config::KafkaSettings),
    ) -> Self {
        let Self { rt, data } = Self::for_prefix(prefix);
        let mut config = data.config;
        kafka(&mut config.kafka);
        Self { rt, data: ProviderData::new(config) }
    }

    /// Kafka, or the provider's diagnostic when the client cannot even be created.
    pub fn try_streaming(&self) -> Result<Arc<dyn Streaming>, String> {
        self.block_on(self.data.streaming()).map_err(|d| format!("{d:?}"))
    }
}

/// A domain and its data product `orders`, as `datamesh_domain.d` and `datamesh_data_product.p`.
pub fn product_config(domain: &str) -> String {
    format!(
        r#"resource "datamesh_domain" "d" {{
  name  = "{domain}"
  owner = "sales@example.com"
}}

resource "datamesh_data_product" "p" {{
  domain         = datamesh_domain.d.name
  name           = "orders"
  classification = "internal"
}}
"#
    )
}

/// [`product_config`] and the stream `stream` of the product (`extra`: more of the stream's
/// attributes), as `datamesh_stream.s`.
pub fn stream_config(domain: &str, stream: &str, extra: &str) -> String {
    format!(
        r#"{product}
resource "datamesh_stream" "s" {{
  data_product = datamesh_data_product.p.id
  name         = "{stream}"
{extra}
}}
"#,
        product = product_config(domain)
    )
}

/// A real Kafka client's configuration for the stack's broker, logged in as `user` with SCRAM
/// (the stack's mechanism): what a domain team's consumer or producer would use.
pub fn kafka_client_as(user: &str, password: &str) -> rdkafka::config::ClientConfig {
    let mut c = rdkafka::config::ClientConfig::new();
    c.set("bootstrap.servers", std::env::var("DATAMESH_KAFKA_BOOTSTRAP_SERVERS").expect("stack.env"))
        .set("security.protocol", std::env::var("DATAMESH_KAFKA_SECURITY_PROTOCOL").expect("stack.env"))
        .set("sasl.mechanism", std::env::var("DATAMESH_KAFKA_SASL_MECHANISM").expect("stack.env"))
        .set("sasl.username", user)
        .set("sasl.password", password);
    c
}

/// [`kafka_client_as`] the stack's admin (a super user), for checks that look past ACLs.
pub fn kafka_admin_client() -> rdkafka::config::ClientConfig {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} from stack.env"));
    kafka_client_as(&var("DATAMESH_KAFKA_SASL_USERNAME"), &var("DATAMESH_KAFKA_SASL_PASSWORD"))
}

/// Services of a test's own, started by the stack's own script (`STACK_SERVICES=<services>
/// scripts/stack-up.sh`) in a temporary directory and stopped on drop; a fault test can stop
/// one of its processes (`scripts/stack-down.sh DIR NAME`) and start it again
/// (`scripts/stack-respawn.sh DIR NAME`) under the provider.
pub struct PrivateStack {
    dir: tempfile::TempDir,
    env: String,
}

fn stack_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join(name)
}

impl PrivateStack {
    /// Starts `services` (comma-separated) with `env` set (and the `unset` variables removed)
    /// for stack-up.sh.
    pub fn start(services: &str, env: &[(&str, String)], unset: &[&str]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("datamesh-{}-", services.replace(',', "-")))
            .tempdir()
            .expect("temp dir");
        let mut cmd = Command::new("bash");
        cmd.arg(stack_script("stack-up.sh")).arg(dir.path()).env("STACK_SERVICES", services);
        for var in unset {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run scripts/stack-up.sh");
        assert!(out.status.success(), "a private {services} stack did not start:\n{}", combined(&out));
        let env = std::fs::read_to_string(dir.path().join("stack.env")).expect("its stack.env");
        Self { dir, env }
    }

    /// A value of its stack.env.
    pub fn var(&self, key: &str) -> String {
        self.env
            .lines()
            .find_map(|l| l.strip_prefix(&format!("export {key}=")))
            .unwrap_or_else(|| panic!("{key} in the private stack's stack.env:\n{}", self.env))
            .to_string()
    }

    /// The log of its process `name` so far.
    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{name}.log"))).unwrap_or_default()
    }

    /// Stops its process `name` (e.g. `flink-jobmanager`), as stack-down stops everything.
    pub fn stop(&self, name: &str) {
        let out = Command::new("bash").arg(stack_script("stack-down.sh")).arg(self.dir.path()).arg(name).output();
        let out = out.expect("run scripts/stack-down.sh");
        assert!(out.status.success(), "stopping {name}:\n{}", combined(&out));
    }

    /// Kills its process `name` with SIGKILL, as a crash would: no shutdown hook runs, nothing
    /// is flushed or closed in order (`DATAMESH_STACK_STOP_SIGNAL=KILL scripts/stack-down.sh`).
    pub fn kill(&self, name: &str) {
        let out = Command::new("bash")
            .arg(stack_script("stack-down.sh"))
            .arg(self.dir.path())
            .arg(name)
            .env("DATAMESH_STACK_STOP_SIGNAL", "KILL")
            .output();
        let out = out.expect("run scripts/stack-down.sh");
        assert!(out.status.success(), "killing {name}:\n{}", combined(&out));
    }

    /// Starts its process `name` again, as stack-up started it; the caller waits for it to answer.
    pub fn respawn(&self, name: &str) {
        let out = Command::new("bash").arg(stack_script("stack-respawn.sh")).arg(self.dir.path()).arg(name).output();
        let out = out.expect("run scripts/stack-respawn.sh");
        assert!(out.status.success(), "starting {name} again:\n{}", combined(&out));
    }
}

impl Drop for PrivateStack {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(stack_script("stack-down.sh")).arg(self.dir.path()).output();
    }
}

/// An Apache Kafka broker of a test's own ([`PrivateStack`] with the one service `kafka`).
/// Its admin has the stack broker's password, so the provider's environment logs in to it.
pub struct PrivateKafka {
    stack: PrivateStack,
    /// The address clients bootstrap from (the advertised one).
    pub bootstrap: String,
    /// The broker's own listener (differs from `bootstrap` when it advertises a proxy).
    pub listener: String,
}

impl PrivateKafka {
    /// A broker on `port` (a free one when `None`) that advertises `advertised` (its own
    /// listener when `None`); `plaintext` gives it a PLAINTEXT listener that knows no SASL.
    pub fn start(port: Option<u16>, advertised: Option<&str>, plaintext: bool) -> Self {
        let mut env =
            vec![("DATAMESH_KAFKA_ADMIN_PASSWORD", std::env::var("DATAMESH_KAFKA_SASL_PASSWORD").unwrap_or_default())];
        if let Some(port) = port {
            env.push(("DATAMESH_KAFKA_PORT", port.to_string()));
        }
        if let Some(advertised) = advertised {
            env.push(("DATAMESH_KAFKA_ADVERTISED", advertised.to_string()));
        }
        if plaintext {
            env.push(("DATAMESH_KAFKA_PLAINTEXT", "1".to_string()));
        }
        let stack = PrivateStack::start(
            "kafka",
            &env,
            &["DATAMESH_KAFKA_PORT", "DATAMESH_KAFKA_ADVERTISED", "DATAMESH_KAFKA_PLAINTEXT"],
        );
        Self {
            bootstrap: stack.var("DATAMESH_KAFKA_BOOTSTRAP_SERVERS"),
            listener: stack.var("DATAMESH_KAFKA_LISTENER"),
            stack,
        }
    }

    /// The broker's log so far.
    pub fn log(&self) -> String {
        self.stack.log("kafka")
    }

    /// Kills the broker process (SIGKILL: a crash, no controlled shutdown).
    pub fn kill(&self) {
        self.stack.kill("kafka");
    }

    /// Stops the broker process the way an operator would (SIGTERM: a controlled shutdown).
    pub fn stop(&self) {
        self.stack.stop("kafka");
    }

    /// Starts the broker again after [`PrivateKafka::kill`] or [`PrivateKafka::stop`]: the same
    /// command on the same ports, so it comes back from the KRaft storage in the stack
    /// directory with the topics, SCRAM users and ACLs it had. Returns once it answers a
    /// Metadata call on its own listener, and how long that took; panics (with the broker's
    /// last log lines) when it does not within `within`.
    pub fn restart(&self, within: std::time::Duration) -> std::time::Duration {
        let started = std::time::Instant::now();
        self.stack.respawn("kafka");
        while !self.answers(std::time::Duration::from_secs(2)) {
            if started.elapsed() > within {
                let log = self.log();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                panic!(
                    "the broker on {} did not answer within {within:?} of its restart; its log ends:\n{}",
                    self.listener,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        started.elapsed()
    }

    /// Whether the broker answers one Metadata call on its own listener (as the admin, around
    /// any proxy it advertises) within `timeout`.
    pub fn answers(&self, timeout: std::time::Duration) -> bool {
        use rdkafka::admin::AdminClient;
        use rdkafka::client::DefaultClientContext;
        let Ok(admin) = kafka_admin_client()
            .set("bootstrap.servers", &self.listener)
            .set("socket.timeout.ms", timeout.as_millis().max(10).to_string())
            .create::<AdminClient<DefaultClientContext>>()
        else {
            return false;
        };
        admin.inner().fetch_metadata(None, timeout).is_ok_and(|m| !m.brokers().is_empty())
    }
}

/// Each member of the zip file at `path`, by name, decompressed.
pub fn zip_members(path: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut zip = zip::ZipArchive::new(file).unwrap_or_else(|e| panic!("{} is not a zip: {e}", path.display()));
    let members: Vec<(String, Vec<u8>)> = (0..zip.len())
        .map(|i| {
            let mut member = zip.by_index(i).unwrap_or_else(|e| panic!("member {i} of {}: {e}", path.display()));
            let mut bytes = Vec::new();
            member.read_to_end(&mut bytes).unwrap_or_else(|e| panic!("read {}: {e}", member.name()));
            (member.name().to_string(), bytes)
        })
        .collect();
    assert!(!members.is_empty(), "{} has no members", path.display());
    members
}
