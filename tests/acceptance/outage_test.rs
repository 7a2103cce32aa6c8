//! Outages of the stores under real Terraform, on servers of the test's own
//! ([`PrivateStack`]): Cassandra stopped in the middle of a grant, and the NameNode in safe
//! mode under a product's HDFS port. Each fault is real (the Cassandra process is stopped; the
//! NameNode is put in safe mode by Hadoop's own `dfsadmin`) and starts at a signal, never after
//! a fixed sleep: a fault proxy in front of the server sees the statement or call the fault is
//! aimed at. Each test asserts what a user sees: an error that names the server and the object
//! within a bound derived from the block's `timeout_seconds`, state that says what exists (the
//! backends, scanned directly, agree), an apply that converges once the server is back, a plan
//! with no changes after it, and nothing of the test left after destroy.
//!
//! `OUTAGE_VERBOSE=1` prints each apply's output.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::support::inventory::{stack_broker, state_resources, Inventory};
use crate::support::proxy::Proxy;
use crate::support::stores::{cql, cql_login_to, domains_with_passwords, product_with_port, HdfsUser};
use crate::support::{combined, Backends, PrivateStack, Tf};
use terraform_provider_datamesh::provider::config::Secret;

/// `terraform apply`, timed: whether it succeeded, its output, when it ended.
fn timed_apply(tf: &Tf, label: &str) -> (bool, String, Instant) {
    let out = tf.run(&["apply", "-auto-approve", "-no-color"]);
    let ended = Instant::now();
    let text = combined(&out);
    if std::env::var_os("OUTAGE_VERBOSE").is_some() {
        eprintln!("----- {label}: terraform apply -----\n{text}\n-----");
    }
    (out.status.success(), text, ended)
}

/// The state instance at `address` (with its `tainted` flag), Null when absent.
fn instance(tf: &Tf, address: &str) -> Json {
    state_resources(tf).into_iter().find(|r| r["address"] == address).unwrap_or(Json::Null)
}

/// The error blocks of an apply's output, for the report.
fn errors(out: &str) -> String {
    let mut shown = String::new();
    for block in out.split("Error: ").skip(1) {
        let text: Vec<&str> = block.lines().take_while(|l| !l.starts_with("Releasing state lock")).collect();
        shown.push_str(&format!("  Error: {}\n", text.join("\n  ").trim_end()));
    }
    shown
}

/// Asserts that the backends hold exactly what state says: no orphan, nothing lost.
fn assert_backends_match_state(tf: &Tf, b: &Backends, when: &str) {
    let have = Inventory::scan(b, &tf.prefix, &stack_broker());
    let want = Inventory::from_state(&tf.prefix, &state_resources(tf));
    assert_eq!(have, want, "{when}: backends (left) differ from state (right):\n{}", have.diff(&want));
}

// ------------------------------------------------------------------------------ Cassandra ----

/// The provider's `cassandra { timeout_seconds }` in the Cassandra test.
const CQL_TIMEOUT: u64 = 5;

fn password(domain: &str) -> String {
    format!("outage-{domain}-pw")
}

/// The owner's and the consumer's domains, the owner's product `orders` with a Cassandra port
/// (destroyed with the owner's table in it), and, with `grant`, the consumer's read grant on
/// it (`datamesh_access_grant.g`).
fn cassandra_hcl(p: &str, grant: bool) -> String {
    let mut out = domains_with_passwords(p, &["own", "con"]);
    out.push_str(&product_with_port("orders", "cassandra", "", "force_destroy = true", grant.then_some("read")));
    out
}

/// Writes `main.tf` with `body` and `cassandra { timeout_seconds = CQL_TIMEOUT }`.
fn write_cassandra(tf: &Tf, body: &str) {
    tf.write(body);
    let path = tf.path().join("main.tf");
    let main = std::fs::read_to_string(&path).unwrap();
    let block = "    replication = { datacenter1 = 1 }\n";
    assert!(main.contains(block), "the harness's cassandra block:\n{main}");
    std::fs::write(&path, main.replace(block, &format!("{block}    timeout_seconds = {CQL_TIMEOUT}\n"))).unwrap();
}

/// When a stop began, and how long it took once it is done.
#[derive(Clone, Default)]
struct Fault(Arc<Mutex<(Option<Instant>, Option<Duration>)>>);

impl Fault {
    fn began(&self) -> Option<Instant> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    /// Waits (bounded) for the stop to be done; how long it took.
    fn done(&self) -> Duration {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(took) = self.0.lock().unwrap_or_else(|e| e.into_inner()).1 {
                return took;
            }
            assert!(Instant::now() < deadline, "the Cassandra process was not stopped within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A private Cassandra, a fault proxy in front of its CQL port that the provider talks
/// through, and the admin's login.
struct Cassandra {
    stack: Arc<PrivateStack>,
    /// The node's own CQL address (the checkers' way in, around the proxy).
    direct: String,
    admin: (String, String),
    proxy: Proxy,
}

impl Cassandra {
    fn start() -> Self {
        let started = Instant::now();
        let stack = Arc::new(PrivateStack::start("cassandra", &[], &[]));
        eprintln!("outage cassandra: private Cassandra up in {:.1?}", started.elapsed());
        let direct = stack.var("DATAMESH_CASSANDRA_CONTACT_POINTS");
        let admin = (stack.var("DATAMESH_CASSANDRA_USERNAME"), stack.var("DATAMESH_CASSANDRA_PASSWORD"));
        let proxy = Proxy::to(&direct);
        Self { stack, direct, admin, proxy }
    }

    /// Stops the Cassandra process the moment the provider sends a statement holding
    /// `statement`, holding that statement back meanwhile (it then reaches a dead server).
    fn stop_at(&self, statement: &'static str) -> Fault {
        let fault = Fault::default();
        let (seen, stack) = (fault.clone(), self.stack.clone());
        self.proxy.on_request(statement.as_bytes(), move || {
            seen.0.lock().unwrap_or_else(|e| e.into_inner()).0 = Some(Instant::now());
            let started = Instant::now();
            stack.stop("cassandra");
            seen.0.lock().unwrap_or_else(|e| e.into_inner()).1 = Some(started.elapsed());
        });
        fault
    }

    /// Starts the process again and waits (bounded) until the admin logs in; how long it took.
    fn respawn(&self, b: &Backends) -> Duration {
        let started = Instant::now();
        self.stack.respawn("cassandra");
        let deadline = started + Duration::from_secs(240);
        loop {
            match b.block_on(cql_login_to(&self.direct, &self.admin.0, &self.admin.1)) {
                Ok(_) => return started.elapsed(),
                Err(e) => {
                    let log = self.stack.log("cassandra");
                    let tail: Vec<&str> = log.lines().rev().take(30).collect();
                    assert!(Instant::now() < deadline, "Cassandra did not take a login again in 240 s: {e}\n{tail:?}");
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        }
    }

    /// Rows of `system_auth.role_permissions` that name `role_prefix` (a role or a role
    /// resource) or a keyspace starting with `keyspace_prefix`: anyone's permission on the
    /// test's objects, the admin's included.
    fn permissions_on(&self, b: &Backends, role_prefix: &str, keyspace_prefix: &str) -> Vec<String> {
        let session = b.block_on(cql_login_to(&self.direct, &self.admin.0, &self.admin.1)).expect("admin login");
        let rows = b
            .block_on(session.query_unpaged("SELECT role, resource FROM system_auth.role_permissions", &[]))
            .expect("role_permissions")
            .into_rows_result()
            .expect("rows");
        rows.rows::<(String, String)>()
            .expect("text columns")
            .filter_map(Result::ok)
            .filter(|(role, resource)| {
                role.starts_with(role_prefix)
                    || resource.starts_with(&format!("roles/{role_prefix}"))
                    || resource.starts_with(&format!("data/{keyspace_prefix}"))
            })
            .map(|(role, resource)| format!("{role} {resource}"))
            .collect()
    }
}

/// The grant's apply with Cassandra stopped at `statement`: fails within the bound, naming
/// Cassandra, the keyspace and the contact point. Returns the state's grant instance and
/// the seconds from the fault to the end of the apply.
fn grant_through_an_outage(tf: &Tf, c: &Cassandra, statement: &'static str, label: &str) -> (Json, f64) {
    let fault = c.stop_at(statement);
    write_cassandra(tf, &cassandra_hcl(&tf.prefix, true));
    let started = Instant::now();
    let (ok, out, ended) = timed_apply(tf, label);
    assert_eq!(c.proxy.triggers_pending(), 0, "{label}: the provider never sent {statement:?}:\n{out}");
    let at = fault.began().expect("the trigger fired");
    let fault_to_end = ended.duration_since(at);
    // The stop may outlast the apply: the provider gives up within its timeout.
    let stop_took = fault.done();
    eprintln!(
        "outage cassandra {label}: stopped at {statement:?} {:.1?} into the apply (the stop took {stop_took:.1?}); \
         the apply failed={} {fault_to_end:.1?} after the fault; the user sees:\n{}",
        at.duration_since(started),
        !ok,
        errors(&out)
    );
    assert!(!ok, "{label}: the grant cannot finish with Cassandra stopped:\n{out}");
    // One CQL call is retried for timeout_seconds, and its last attempt is bounded by the
    // timeout too: 2 x timeout after the fault, and the rest of Terraform's apply.
    let bound = Duration::from_secs(2 * CQL_TIMEOUT + 15);
    assert!(
        fault_to_end < bound,
        "{label}: the apply ended {fault_to_end:?} after the fault (bound {bound:?}):\n{out}"
    );
    let keyspace = format!("{}__orders", format!("{}-own", tf.prefix).replace('-', "_"));
    for needle in ["datamesh_access_grant.g", "Cassandra", &keyspace, &c.proxy.addr().to_string()] {
        assert!(out.contains(needle), "{label}: the error names {needle:?}:\n{out}");
    }
    (instance(tf, "datamesh_access_grant.g"), fault_to_end.as_secs_f64())
}

#[test]
fn outage_cassandra_stopped_during_a_grant_fails_in_time_tells_the_truth_and_converges() {
    let test_started = Instant::now();
    let c = Cassandra::start();
    let mut tf = Tf::new();
    let p = tf.prefix.clone();
    tf.env("DATAMESH_CASSANDRA_CONTACT_POINTS", &c.proxy.addr().to_string());
    tf.env("DATAMESH_CASSANDRA_USERNAME", &c.admin.0);
    tf.env("DATAMESH_CASSANDRA_PASSWORD", &c.admin.1);
    // HDFS is not under test: the stack's own, if it has one, stays out.
    tf.env("DATAMESH_HDFS_WEBHDFS_URL", "");
    for d in ["own", "con"] {
        tf.env(&format!("TF_VAR_pw_{d}"), &password(d));
    }
    let b = Backends::for_prefix_with(&p, |config| {
        config.cassandra.contact_points = vec![c.direct.clone()];
        config.cassandra.username = Some(c.admin.0.clone());
        config.cassandra.password = Some(Secret(c.admin.1.clone()));
        config.hdfs = Default::default();
    });
    let (own, con) = (format!("{p}-own"), format!("{p}-con"));
    let keyspace = format!("{}__orders", own.replace('-', "_"));
    let select = format!("SELECT id FROM {keyspace}.orders");

    // The domains and the product with its keyspace; the owner writes a row.
    write_cassandra(&tf, &cassandra_hcl(&p, false));
    tf.apply();
    let owner = b.block_on(cql_login_to(&c.direct, &own, &password("own"))).expect("the owner logs in");
    b.block_on(cql(&owner, &format!("CREATE TABLE {keyspace}.orders (id int PRIMARY KEY, amount decimal)"))).unwrap();
    b.block_on(cql(&owner, &format!("INSERT INTO {keyspace}.orders (id, amount) VALUES (1, 9.99)"))).unwrap();
    let consumer_selects = || {
        let session = b.block_on(cql_login_to(&c.direct, &con, &password("con"))).expect("the consumer logs in");
        b.block_on(cql(&session, &select))
    };
    let denied = consumer_selects().expect_err("no grant yet");
    assert!(denied.contains("Unauthorized") || denied.contains("has no SELECT"), "{denied}");

    // (A) Cassandra stopped before the grant's GRANT: IAM, Kafka and the catalog record are
    // made, Cassandra holds nothing of the grant.
    let (grant, a_fault_to_end) = grant_through_an_outage(&tf, &c, "GRANT SELECT ON KEYSPACE", "(A) before GRANT");
    assert_eq!(grant["tainted"], true, "the half-made grant is in state, tainted: {grant}");
    assert_eq!(grant["values"]["cassandra_permissions"], serde_json::json!([]), "it holds nothing on Cassandra");
    assert!(grant["values"]["kafka_acls"].as_array().is_some_and(|a| !a.is_empty()), "its Kafka ACLs: {grant}");
    let respawn_a = c.respawn(&b);
    eprintln!("outage cassandra (A): Cassandra took a login again {respawn_a:.1?} after its respawn");
    assert_backends_match_state(&tf, &b, "(A) after the outage");
    let denied = consumer_selects().expect_err("the grant never reached Cassandra, as state says");
    assert!(denied.contains("Unauthorized") || denied.contains("has no SELECT"), "{denied}");
    let started = Instant::now();
    let (ok, out, _) = timed_apply(&tf, "(A) converge");
    let a_converge = started.elapsed();
    assert!(ok, "(A) the next apply converges:\n{out}");
    assert!(out.contains("1 added, 0 changed, 1 destroyed"), "the tainted grant is replaced:\n{out}");
    tf.assert_no_changes();
    assert_eq!(consumer_selects(), Ok(1), "(A) the consumer selects the owner's row");
    assert_backends_match_state(&tf, &b, "(A) converged");

    // (B) Cassandra stopped after the grant's GRANT SELECT, before its REVOKE MODIFY (a read
    // grant takes MODIFY away): state must say the role holds SELECT, as it does.
    write_cassandra(&tf, &cassandra_hcl(&p, false));
    tf.apply();
    assert!(consumer_selects().is_err(), "the grant destroyed: no SELECT");
    let (grant, b_fault_to_end) = grant_through_an_outage(&tf, &c, "REVOKE MODIFY ON KEYSPACE", "(B) after GRANT");
    assert_eq!(grant["tainted"], true, "the half-made grant is in state, tainted: {grant}");
    assert_eq!(
        grant["values"]["cassandra_permissions"],
        serde_json::json!([format!("SELECT ON KEYSPACE {keyspace}")]),
        "state records the SELECT that Cassandra granted before it stopped"
    );
    let respawn_b = c.respawn(&b);
    eprintln!("outage cassandra (B): Cassandra took a login again {respawn_b:.1?} after its respawn");
    assert_backends_match_state(&tf, &b, "(B) after the outage");
    assert_eq!(consumer_selects(), Ok(1), "(B) the SELECT state records is held");
    let started = Instant::now();
    let (ok, out, _) = timed_apply(&tf, "(B) converge");
    let b_converge = started.elapsed();
    assert!(ok, "(B) the next apply converges:\n{out}");
    assert!(out.contains("1 added, 0 changed, 1 destroyed"), "the tainted grant is replaced:\n{out}");
    tf.assert_no_changes();
    assert_eq!(consumer_selects(), Ok(1));
    assert_backends_match_state(&tf, &b, "(B) converged");

    tf.destroy();
    let left = Inventory::scan(&b, &p, &stack_broker());
    assert_eq!(left, Inventory::default(), "destroy leaves nothing:\n{}", left.diff(&Inventory::default()));
    let perms = c.permissions_on(&b, &format!("{p}-"), &p.replace('-', "_"));
    assert!(perms.is_empty(), "nobody holds a permission on the test's roles or keyspaces: {perms:?}");
    eprintln!(
        "outage cassandra: fault to failed apply (A) {a_fault_to_end:.1}s (B) {b_fault_to_end:.1}s \
         (cassandra timeout_seconds = {CQL_TIMEOUT}); converging apply (A) {a_converge:.1?} (B) {b_converge:.1?}; \
         test wall time {:.1?}",
        test_started.elapsed()
    );
}

// ----------------------------------------------------------------------------------- HDFS ----

const TIB: i64 = 1 << 40;

/// The owner's domain and its products `names`, each with an S3 port and an HDFS port.
fn hdfs_hcl(p: &str, names: &[&str]) -> String {
    let mut out =
        format!("resource \"datamesh_domain\" \"own\" {{\n  name  = \"{p}-own\"\n  owner = \"own@example.com\"\n}}\n");
    for name in names {
        out.push_str(&format!(
            r#"
resource "datamesh_data_product" "{name}" {{
  domain         = datamesh_domain.own.name
  name           = "{name}"
  classification = "internal"
  hdfs {{
    space_quota_bytes = {TIB}
  }}
}}
"#
        ));
    }
    out
}

/// A private HDFS, a fault proxy in front of its WebHDFS that the provider talks through, and
/// Hadoop's `dfsadmin` for its NameNode.
struct Namenode {
    stack: PrivateStack,
    webhdfs: String,
    rpc: String,
    proxy: Proxy,
}

impl Namenode {
    fn start() -> Self {
        let started = Instant::now();
        let stack = PrivateStack::start("hdfs", &[], &[]);
        eprintln!("outage hdfs: private HDFS up in {:.1?}", started.elapsed());
        let webhdfs = stack.var("DATAMESH_HDFS_WEBHDFS_URL");
        let rpc = stack.var("DATAMESH_HDFS_NAMENODE_URI");
        let proxy = Proxy::to(&webhdfs);
        Self { stack, webhdfs, rpc, proxy }
    }

    /// `hdfs dfsadmin -safemode <action>` as the superuser (the minicluster's own jars: the
    /// tools cache's, at `scripts/versions.sh`'s HADOOP_VERSION); what it printed.
    fn safemode(&self, action: &str) -> String {
        let tools = std::env::var("DATAMESH_TOOLS_DIR").expect("DATAMESH_TOOLS_DIR from stack.env");
        let versions = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/versions.sh");
        let script = std::fs::read_to_string(versions).expect("scripts/versions.sh");
        let version = script.lines().find_map(|l| l.strip_prefix("HADOOP_VERSION=")).expect("HADOOP_VERSION").trim();
        let out = std::process::Command::new("java")
            .args(["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp"])
            .arg(format!("{tools}/hadoop-minicluster-{version}/libs/*"))
            .args(["org.apache.hadoop.hdfs.tools.DFSAdmin", "-fs", &self.rpc, "-safemode", action])
            .env("HADOOP_USER_NAME", "hdfs")
            .output()
            .expect("run java DFSAdmin");
        let text = combined(&out);
        assert!(out.status.success(), "dfsadmin -safemode {action}:\n{text}\n{}", self.stack.log("hdfs"));
        let want = if action == "leave" { "Safe mode is OFF" } else { "Safe mode is ON" };
        assert!(text.contains(want), "dfsadmin -safemode {action}: {text}");
        text
    }

    /// How many MKDIRS calls went through the proxy so far.
    fn mkdirs_calls(&self) -> usize {
        self.proxy.requests().iter().filter(|r| r.contains("op=MKDIRS")).count()
    }
}

/// Writes `main.tf`: `body`, with `hdfs { timeout_seconds }` in the provider block.
fn write_hdfs(tf: &mut Tf, timeout_seconds: u64, body: &str) {
    tf.provider_config(&format!("  hdfs {{\n    timeout_seconds = {timeout_seconds}\n  }}"));
    tf.write(body);
}

#[test]
fn outage_namenode_in_safe_mode_is_waited_out_within_the_timeout_and_fails_clearly_past_it() {
    let test_started = Instant::now();
    let nn = Namenode::start();
    let mut tf = Tf::new();
    let p = tf.prefix.clone();
    tf.env("DATAMESH_HDFS_WEBHDFS_URL", &nn.proxy.url());
    tf.env("DATAMESH_HDFS_NAMENODE_URI", &nn.rpc);
    // Cassandra is not under test: the stack's own, if it has one, stays out.
    tf.env("DATAMESH_CASSANDRA_CONTACT_POINTS", "");
    let b = Backends::for_prefix_with(&p, |config| {
        config.hdfs.webhdfs_url = Some(nn.webhdfs.clone());
        config.hdfs.namenode_uri = Some(nn.rpc.clone());
        config.cassandra = Default::default();
    });
    let hdfs = b.hdfs();
    let own = format!("{p}-own");
    let home = b.config().hdfs.domain_dir(&own);

    write_hdfs(&mut tf, 30, &hdfs_hcl(&p, &[]));
    tf.apply();

    // (a) Safe mode entered before the apply, left while the provider retries: the apply
    // waits it out and succeeds.
    let (a_timeout, a_hold) = (30, Duration::from_secs(4));
    nn.safemode("enter");
    let entered = Instant::now();
    write_hdfs(&mut tf, a_timeout, &hdfs_hcl(&p, &["orders"]));
    let before = nn.mkdirs_calls();
    let (ok, out, ended, left) = std::thread::scope(|s| {
        let apply = s.spawn(|| timed_apply(&tf, "(a) safe mode left"));
        // The signal: the NameNode refused a MKDIRS and the provider asked again; then the
        // retries go on for a few seconds before safe mode ends.
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut first_retry = None;
        while first_retry.is_none_or(|t: Instant| t.elapsed() < a_hold) {
            assert!(Instant::now() < deadline, "(a) no MKDIRS retried within 120 s: {:#?}", nn.proxy.requests());
            assert!(!apply.is_finished(), "(a) the apply ended while safe mode was on");
            if first_retry.is_none() && nn.mkdirs_calls() >= before + 2 {
                first_retry = Some(Instant::now());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        nn.safemode("leave");
        let left = Instant::now();
        let (ok, out, ended) = apply.join().expect("the apply thread");
        (ok, out, ended, left)
    });
    let a_retried = nn.mkdirs_calls() - before;
    eprintln!(
        "outage hdfs (a): safe mode on for {:.1?} (hdfs timeout_seconds = {a_timeout}); the apply ok={ok} \
         {:.1?} after safe mode was left; {a_retried} MKDIRS calls",
        left.duration_since(entered),
        ended.duration_since(left)
    );
    assert!(ok, "(a) safe mode left within the timeout: the apply succeeds:\n{out}");
    assert!(a_retried >= 3, "(a) refused MKDIRS calls were retried: {a_retried}");
    let a_after_leave = ended.duration_since(left);
    assert!(a_after_leave < Duration::from_secs(15), "(a) the apply finished promptly once safe mode was left");
    let dir = b.config().hdfs.product_dir(&own, "orders");
    assert_eq!(b.block_on(hdfs.quota(&dir)).unwrap().expect("the directory").space_quota, Some(TIB));
    tf.assert_no_changes();
    assert_backends_match_state(&tf, &b, "(a) after the apply");

    // (b) Safe mode held past timeout_seconds: the apply fails, naming safe mode and the
    // directory, after retrying for the timeout.
    let b_timeout = 5;
    nn.safemode("enter");
    let entered = Instant::now();
    write_hdfs(&mut tf, b_timeout, &hdfs_hcl(&p, &["orders", "refunds"]));
    let first_mkdirs = Arc::new(Mutex::new(None));
    let seen = first_mkdirs.clone();
    nn.proxy.on_request(b"op=MKDIRS", move || *seen.lock().unwrap() = Some(Instant::now()));
    let started = Instant::now();
    let (ok, out, ended) = timed_apply(&tf, "(b) safe mode held");
    let first = first_mkdirs.lock().unwrap().expect("the provider called MKDIRS");
    let retrying = ended.duration_since(first);
    eprintln!(
        "outage hdfs (b): safe mode on {:.1?} before the apply; the apply failed={} after {:.1?}, {retrying:.1?} \
         after its first MKDIRS (hdfs timeout_seconds = {b_timeout}); the user sees:\n{}",
        started.duration_since(entered),
        !ok,
        ended.duration_since(started),
        errors(&out)
    );
    assert!(!ok, "(b) safe mode held past the timeout: the apply fails:\n{out}");
    // Retried for the timeout, not given up at once; the last attempt is bounded by it too.
    let timeout = Duration::from_secs(b_timeout);
    assert!(retrying >= timeout - Duration::from_millis(500), "(b) retried for the timeout: {retrying:?}\n{out}");
    assert!(retrying < 2 * timeout + Duration::from_secs(15), "(b) and not much longer: {retrying:?}\n{out}");
    for needle in ["datamesh_data_product.refunds", "safe mode", "SafeModeException", &home] {
        assert!(out.contains(needle), "(b) the error names {needle:?}:\n{out}");
    }
    // State: the product whose bucket was made is there, tainted, without an HDFS port; the
    // other product is as it was.
    let refunds = instance(&tf, "datamesh_data_product.refunds");
    eprintln!(
        "outage hdfs (b): state after the failure: datamesh_data_product.refunds tainted={} bucket={} hdfs_path={}",
        refunds["tainted"], refunds["values"]["bucket"], refunds["values"]["hdfs_path"]
    );
    assert_eq!(refunds["tainted"], true, "{refunds}");
    assert!(refunds["values"]["hdfs_path"].is_null(), "no directory, as state says: {refunds}");
    let refunds_dir = b.config().hdfs.product_dir(&own, "refunds");
    assert!(b.block_on(hdfs.status(&refunds_dir)).unwrap().is_none(), "no directory was made");
    let (have, want) = (Inventory::scan(&b, &p, &stack_broker()), Inventory::from_state(&p, &state_resources(&tf)));
    let orphans = have.orphans(&want);
    assert!(orphans.is_empty(), "(b) nothing state does not know about: {orphans:?}\n{}", have.diff(&want));

    nn.safemode("leave");
    let started = Instant::now();
    let (ok, out, _) = timed_apply(&tf, "(b) converge");
    let b_converge = started.elapsed();
    assert!(ok, "(b) the next apply converges:\n{out}");
    tf.assert_no_changes();
    assert_eq!(b.block_on(hdfs.quota(&refunds_dir)).unwrap().expect("the directory").space_quota, Some(TIB));
    assert_backends_match_state(&tf, &b, "(b) converged");
    HdfsUser::at(&nn.webhdfs, &own).put(&format!("{refunds_dir}/r.csv"), "1\n").expect("the owner writes");

    tf.write(
        &hdfs_hcl(&p, &["orders", "refunds"])
            .replace("classification = \"internal\"", "classification = \"internal\"\n  force_destroy  = true"),
    );
    tf.apply();
    tf.destroy();
    let left = Inventory::scan(&b, &p, &stack_broker());
    assert_eq!(left, Inventory::default(), "destroy leaves nothing:\n{}", left.diff(&Inventory::default()));
    eprintln!(
        "outage hdfs: (a) waited out {a_hold:?}+ of retries; (b) failed {retrying:.1?} after the first MKDIRS; \
         converging apply {b_converge:.1?}; test wall time {:.1?}",
        test_started.elapsed()
    );
}
