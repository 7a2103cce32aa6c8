//! Faults through real Terraform: a fault-injecting proxy (`support::proxy`) sits between
//! the provider and each backend endpoint, and breaks the network at chosen moments. After
//! each fault the backends are scanned directly: nothing exists that state does not know about.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::support::inventory::{acls_from_state, scan_acls, stack_broker, Inventory};
use crate::support::proxy::{Mode, Proxy};
use crate::support::{combined, kafka_client_as, Backends, PrivateKafka, Tf};

/// Where the provider's Kafka traffic goes.
enum Broker {
    /// The stack's broker. It advertises its own address, so after bootstrapping through
    /// the proxy the client talks to it directly: only the bootstrap connection is faulted.
    Shared,
    /// A broker of the test's own that advertises the proxy, so every Kafka connection
    /// goes through it.
    Private,
}

/// A test's Terraform directory with a proxy in front of S3, IAM and Kafka each.
///
/// Dropping it heals the proxies first, then the `Tf` destroys through them (fields drop in
/// declaration order), then the proxies and the private broker go.
struct Rig {
    tf: Tf,
    b: Backends,
    s3: Proxy,
    iam: Proxy,
    kafka: Proxy,
    /// `host:port` of the broker itself, bypassing the proxy (for scans).
    broker_addr: String,
    timeout_seconds: u64,
    _broker: Option<PrivateKafka>,
}

impl Drop for Rig {
    fn drop(&mut self) {
        for p in [&self.s3, &self.iam, &self.kafka] {
            p.heal();
        }
    }
}

impl Rig {
    fn new(broker: Broker, timeout_seconds: u64) -> Self {
        let mut tf = Tf::new();
        let b = Backends::for_prefix(&tf.prefix);
        let moto = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL from stack.env");
        let (s3, iam) = (Proxy::to(&moto), Proxy::to(&moto));
        // One attempt of an AWS call is bounded like a broker call, so a held-back answer is
        // retried within the test's time.
        tf.aws_config(&format!(
            "    s3_endpoint         = \"{}\"\n    iam_endpoint        = \"{}\"\n    timeout_seconds     = {timeout_seconds}",
            s3.url(),
            iam.url()
        ));
        let (kafka, broker_addr, private) = match broker {
            Broker::Shared => {
                let first = stack_broker();
                (Proxy::to(&first), first, None)
            }
            Broker::Private => {
                let port = free_port();
                let proxy = Proxy::start(([127, 0, 0, 1], port).into());
                let broker = PrivateKafka::start(Some(port), Some(&proxy.addr().to_string()), false);
                (proxy, broker.listener.clone(), Some(broker))
            }
        };
        Self { tf, b, s3, iam, kafka, broker_addr, timeout_seconds, _broker: private }
    }

    /// Writes `main.tf`: a provider whose every endpoint is a proxy, then `body`.
    fn write(&self, body: &str) {
        let kafka =
            format!("bootstrap_servers = [\"{}\"]\ntimeout_seconds = {}", self.kafka.addr(), self.timeout_seconds);
        self.tf.write_with_kafka(&kafka, body);
    }

    fn domain(&self) -> String {
        format!("{}-sales", self.tf.prefix)
    }

    /// `terraform apply`, timed: whether it succeeded, its output, how long it took. The
    /// output is shown, under `label`, when `FAULT_VERBOSE` is set.
    fn timed_apply(&self, label: &str) -> (bool, String, Duration) {
        let started = Instant::now();
        let out = self.tf.run(&["apply", "-auto-approve", "-no-color"]);
        let (ok, text, took) = (out.status.success(), combined(&out), started.elapsed());
        if std::env::var_os("FAULT_VERBOSE").is_some() {
            eprintln!("----- {label}: terraform apply output -----\n{text}\n-----");
        }
        (ok, text, took)
    }

    /// `terraform show -json` of the state.
    fn state(&self) -> Json {
        let out = self.tf.run_ok(&["show", "-json", "-no-color"]);
        serde_json::from_str(out.lines().find(|l| l.starts_with('{')).unwrap_or("{}")).expect("state JSON")
    }

    /// The state's resource instances (address, the whole instance object).
    fn state_resources(&self) -> Vec<Json> {
        self.state()["values"]["root_module"]["resources"].as_array().cloned().unwrap_or_default()
    }

    /// What exists in the backends under this test's names (read around the proxies).
    fn scan(&self) -> Inventory {
        Inventory::scan(&self.b, &self.tf.prefix, &self.broker_addr)
    }

    /// What state says should exist: the objects each resource in state owns.
    fn expected(&self) -> Inventory {
        Inventory::from_state(&self.tf.prefix, &self.state_resources())
    }

    /// The test's own broker ([`Broker::Private`]).
    fn broker(&self) -> &PrivateKafka {
        self._broker.as_ref().expect("a rig with Broker::Private")
    }

    /// The Kafka ACL bindings of this test's names on the broker (read around the proxy).
    fn acls(&self) -> std::collections::BTreeSet<String> {
        scan_acls(&self.tf.prefix, &self.broker_addr)
    }

    /// Asserts that the backends hold exactly what state knows about: no orphans, nothing lost.
    fn assert_backends_match_state(&self, when: &str) {
        let (have, want) = (self.scan(), self.expected());
        assert_eq!(have, want, "{when}: backends (left) differ from state (right):\n{}", have.diff(&want));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn domain_hcl(domain: &str) -> String {
    format!(
        r#"resource "datamesh_domain" "d" {{
  name  = "{domain}"
  owner = "sales@example.com"
}}
"#
    )
}

fn product_hcl(label: &str, name: &str) -> String {
    format!(
        r#"
resource "datamesh_data_product" "{label}" {{
  domain         = datamesh_domain.d.name
  name           = "{name}"
  classification = "internal"
  force_destroy  = true
}}
"#
    )
}

fn stream_hcl(label: &str, product_label: &str, name: &str) -> String {
    format!(
        r#"
resource "datamesh_stream" "{label}" {{
  data_product = datamesh_data_product.{product_label}.id
  name         = "{name}"
  partitions   = 1
}}
"#
    )
}

/// 1 domain, `products` data products and streams spread over them, `total` resources.
fn many_hcl(domain: &str, products: usize, total: usize) -> String {
    let mut hcl = domain_hcl(domain);
    for p in 0..products {
        hcl.push_str(&product_hcl(&format!("p{p}"), &format!("p{p:02}")));
    }
    for s in 0..total - 1 - products {
        let p = s % products;
        hcl.push_str(&stream_hcl(&format!("s{s}"), &format!("p{p}"), &format!("s{s:02}")));
    }
    hcl
}

/// The instances of a resource type in state, by address, with their `tainted` flag.
fn tainted(resources: &[Json], address: &str) -> Option<bool> {
    resources.iter().find(|r| r["address"] == address).map(|r| r["tainted"].as_bool().unwrap_or(false))
}

#[test]
fn fault_backends_down_before_apply_fail_clearly_make_nothing_and_recover() {
    let test_started = Instant::now();
    let mut rig = Rig::new(Broker::Shared, 3);
    let domain = rig.domain();
    let (bucket, role, topic) = (
        format!("{}-{domain}-orders", rig.tf.prefix),
        format!("{}-domain-{domain}", rig.tf.prefix),
        format!("{domain}.orders.events"),
    );
    rig.write(&format!("{}{}{}", domain_hcl(&domain), product_hcl("p", "orders"), stream_hcl("s", "p", "events")));
    let (storage, iam, kafka) = (rig.b.storage(), rig.b.iam(), rig.b.streaming());

    // Everything down: the apply fails, names the endpoint, and makes nothing.
    for p in [&rig.s3, &rig.iam, &rig.kafka] {
        p.set_mode(Mode::Refuse);
    }
    let (ok, out, took) = rig.timed_apply("(a) all down");
    eprintln!("fault (a) S3+IAM+Kafka refused: apply failed={} after {took:.1?}", !ok);
    assert!(!ok, "apply must fail with every backend down:\n{out}");
    assert!(out.contains(&rig.iam.url()), "the error names the unreachable endpoint {}:\n{out}", rig.iam.url());
    assert!(out.contains("cannot reach"), "{out}");
    assert!(rig.tf.resource("datamesh_domain.d").is_null(), "nothing in state:\n{out}");
    assert!(rig.b.block_on(iam.get_role(&role)).expect("get_role").is_none(), "no role made");
    assert!(!rig.b.block_on(storage.bucket_exists(&bucket)).expect("HeadBucket"), "no bucket made");
    assert_eq!(rig.scan(), Inventory::default(), "nothing at all under the test's names");
    assert!(rig.s3.stats().forwarded + rig.iam.stats().forwarded == 0, "nothing got through");

    // S3 and IAM back, the broker still turning connections away: the domain, whose ACLs the
    // broker must hold, fails naming the brokers before anything is made; no topic, no catalog
    // entry.
    rig.s3.heal();
    rig.iam.heal();
    rig.kafka.set_mode(Mode::CloseOnAccept);
    let (ok, out, took) = rig.timed_apply("(a) broker down");
    eprintln!(
        "fault (a) Kafka closing connections: apply failed={} after {took:.1?}; kafka {:?}",
        !ok,
        rig.kafka.stats()
    );
    assert!(!ok, "apply must fail with the broker down:\n{out}");
    assert!(out.contains(&rig.kafka.addr().to_string()), "the error names the brokers:\n{out}");
    // The domain needs the broker first (its ACLs are checked before anything is made).
    assert!(out.contains("datamesh_domain.d"), "{out}");
    assert!(rig.kafka.stats().closed_on_accept > 0, "the provider did try the broker");
    // Retried for the provider's Kafka deadline (3 x timeout_seconds), not given up at once.
    let deadline = Duration::from_secs(3 * rig.timeout_seconds);
    assert!(took >= deadline - Duration::from_secs(1), "a broker that is down is retried until the deadline: {took:?}");
    assert!(took < deadline + Duration::from_secs(20), "and not much longer: {took:?}");
    assert!(rig.tf.resource("datamesh_stream.s").is_null(), "no stream in state");
    assert!(rig.tf.resource("datamesh_domain.d").is_null(), "no domain in state");
    assert!(rig.tf.resource("datamesh_data_product.p").is_null(), "no product in state");
    assert!(rig.b.block_on(kafka.describe_topic(&topic)).expect("describe").is_none(), "no topic made");
    assert!(!rig.b.catalog_has(&format!("streams/{domain}/orders/events.json")), "no stream catalog entry");
    rig.assert_backends_match_state("after the broker was down");

    // All back: the same apply succeeds and converges.
    rig.kafka.heal();
    let (ok, out, took) = rig.timed_apply("(a) healed");
    eprintln!("fault (a) all healed: apply ok={ok} after {took:.1?}");
    assert!(ok, "apply after healing must succeed:\n{out}");
    assert!(out.contains("3 added, 0 changed, 0 destroyed"), "{out}");
    rig.tf.assert_no_changes();
    assert!(rig.b.block_on(kafka.describe_topic(&topic)).expect("describe").is_some());
    rig.assert_backends_match_state("after healing");
    rig.tf.destroy();
    assert_eq!(rig.scan(), Inventory::default(), "destroy leaves nothing");
    eprintln!("fault (a) test wall time {:.1?}", test_started.elapsed());
}

#[test]
fn fault_iam_lost_after_create_bucket_taints_the_product_and_the_next_apply_converges() {
    let test_started = Instant::now();
    let mut rig = Rig::new(Broker::Shared, 3);
    let domain = rig.domain();
    let bucket = format!("{}-{domain}-orders", rig.tf.prefix);
    rig.write(&domain_hcl(&domain));
    rig.tf.apply();

    let config = format!("{}{}{}", domain_hcl(&domain), product_hcl("p", "orders"), stream_hcl("s", "p", "events"));
    rig.write(&config);
    // IAM goes down the moment S3 sees CreateBucket for the product: the bucket is made, the
    // owner policy and the catalog descriptor are not.
    let iam = rig.iam.handle();
    rig.s3.on_request(format!("PUT /{bucket}/ HTTP/1.1").as_bytes(), move || iam.down());
    let (ok, out, took) = rig.timed_apply("(b) IAM cut");
    eprintln!("fault (b) IAM cut after CreateBucket: apply failed={} after {took:.1?}", !ok);
    assert_eq!(rig.s3.triggers_pending(), 0, "CreateBucket was seen:\n{:#?}", rig.s3.requests());
    assert!(!ok, "apply must fail when IAM goes away half-way:\n{out}");
    assert!(out.contains("owner policy on IAM role"), "{out}");
    assert!(out.contains(&rig.iam.url()), "{out}");
    assert!(rig.b.block_on(rig.b.storage().bucket_exists(&bucket)).expect("HeadBucket"), "the bucket was made");
    assert!(!rig.b.catalog_has(&format!("data-products/{domain}/orders.json")), "no descriptor yet");

    // State records the half-made product, tainted, so the next apply replaces it.
    let resources = rig.state_resources();
    assert_eq!(tainted(&resources, "datamesh_data_product.p"), Some(true), "tainted product in state:\n{resources:#?}");
    assert_eq!(tainted(&resources, "datamesh_domain.d"), Some(false));
    assert_eq!(tainted(&resources, "datamesh_stream.s"), None, "the stream was not attempted");
    let product = resources.iter().find(|r| r["address"] == "datamesh_data_product.p").cloned().unwrap_or_default();
    assert_eq!(product["values"]["bucket"], bucket.as_str());
    eprintln!(
        "fault (b) state after the cut: datamesh_data_product.p tainted={} bucket={}",
        product["tainted"], product["values"]["bucket"]
    );

    rig.iam.heal();
    let plan = rig.tf.run_ok(&["plan", "-no-color"]);
    assert!(plan.contains("is tainted, so must be replaced"), "{plan}");
    let (ok, out, took) = rig.timed_apply("(b) healed");
    eprintln!("fault (b) healed: apply ok={ok} after {took:.1?}");
    assert!(ok, "apply after healing must succeed:\n{out}");
    assert!(out.contains("2 added, 0 changed, 1 destroyed"), "the tainted product is replaced:\n{out}");
    rig.tf.assert_no_changes();
    assert_eq!(tainted(&rig.state_resources(), "datamesh_data_product.p"), Some(false));
    rig.assert_backends_match_state("after the replacement");
    let inv = rig.scan();
    assert_eq!(inv.buckets.len(), 1, "one product bucket: {inv:?}");
    assert_eq!(inv.topics.len(), 1, "{inv:?}");
    rig.tf.destroy();
    assert_eq!(rig.scan(), Inventory::default(), "destroy leaves nothing");
    eprintln!("fault (b) test wall time {:.1?}", test_started.elapsed());
}

#[test]
fn fault_flaky_connections_are_retried_across_a_hundred_resources() {
    let test_started = Instant::now();
    // timeout_seconds = 5 is too short here: librdkafka's reconnect back-off after resets
    // (up to 10 s) then outlasts the provider's Kafka deadline (3 x timeout) in about half the
    // refreshes of 70 topics; 10 s passed every time (see the issue 5 report).
    // 20 s gives librdkafka's back-off room even when the machine is loaded.
    let mut rig = Rig::new(Broker::Private, 20);
    let every = 5;
    rig.s3.set_mode(Mode::Flaky { every });
    rig.iam.set_mode(Mode::Flaky { every });
    // librdkafka keeps its two connections (bootstrap, broker) for the whole run, so Kafka's
    // proxy resets more often than S3's, or the broker side would never see a fault. Not every
    // 2nd: a client that reconnects both in turn then has the same one reset every time, and
    // a refresh starved that way failed in 4 runs of 4 on 2026-12-02 (every 3rd shifts the
    // pair each round).
    rig.kafka.set_mode(Mode::Flaky { every: 3 });
    rig.write(&many_hcl(&rig.domain(), 29, 100));

    let (ok, out, took) = rig.timed_apply("(c) flaky");
    let (s3, iam, kafka) = (rig.s3.stats(), rig.iam.stats(), rig.kafka.stats());
    eprintln!("fault (c) apply of 100 through flaky proxies (S3/IAM: every {every}th connection reset, Kafka every 3rd): ok={ok} in {took:.1?}");
    eprintln!("fault (c)   S3    {s3:?}\nfault (c)   IAM   {iam:?}\nfault (c)   Kafka {kafka:?}");
    assert!(ok, "apply must succeed despite resets:\n{out}");
    assert!(out.contains("100 added, 0 changed, 0 destroyed"), "{out}");
    assert!(s3.reset > 0 && iam.reset > 0, "the proxies did reset connections: S3 {s3:?} IAM {iam:?}");
    assert!(kafka.reset > 0, "Kafka went through its proxy and saw resets: {kafka:?}");

    let started = Instant::now();
    rig.tf.assert_no_changes();
    eprintln!("fault (c) plan (refresh of 100, still flaky): no changes in {:.1?}", started.elapsed());
    rig.assert_backends_match_state("after the flaky apply");
    assert_eq!(rig.expected().topics.len(), 70);

    // The claim is the flaky apply and refresh; the clean-up runs on healthy connections.
    let (s3, iam, kafka) = (rig.s3.stats(), rig.iam.stats(), rig.kafka.stats());
    for proxy in [&rig.s3, &rig.iam, &rig.kafka] {
        proxy.heal();
    }
    let started = Instant::now();
    rig.tf.destroy();
    eprintln!("fault (c) destroy: {:.1?}", started.elapsed());
    eprintln!(
        "fault (c) totals: S3 {}/{} connections reset, IAM {}/{}, Kafka {}/{}; 0 failures",
        s3.reset, s3.accepted, iam.reset, iam.accepted, kafka.reset, kafka.accepted
    );
    assert_eq!(rig.scan(), Inventory::default(), "destroy leaves nothing");
    eprintln!("fault (c) test wall time {:.1?}", test_started.elapsed());
}

/// A Terraform process in its own process group, killed (the whole group) if still running
/// when dropped.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout: Vec<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Running {
    fn pgid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.pgid())]).status();
            let _ = self.child.wait();
        }
    }
}

fn spawn_apply(tf: &Tf) -> Running {
    let mut child = Command::new(tf.cli())
        .args(["apply", "-auto-approve", "-no-color"])
        .current_dir(tf.workdir())
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_INPUT", "0")
        .env("TF_CLI_CONFIG_FILE", tf.path().join("terraform.rc"))
        .env_remove("TF_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("spawn terraform apply");
    let (tx, lines) = mpsc::channel();
    let out = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut err = child.stderr.take().expect("stderr");
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    Running { child, lines, stdout: Vec::new(), stderr: Some(stderr) }
}

/// Whether a process is gone (or a zombie waiting for its parent).
fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// The provider processes Terraform started (its children running the provider binary).
fn provider_children(parent: u32) -> Vec<u32> {
    let out = Command::new("pgrep").args(["-P", &parent.to_string()]).output().expect("pgrep");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("terraform-provider-datamesh"))
        })
        .collect()
}

#[test]
fn fault_sigint_mid_apply_stops_promptly_and_the_next_apply_converges() {
    let test_started = Instant::now();
    let mut rig = Rig::new(Broker::Private, 5);
    // A slow broker: every CreateTopics is in flight for a while, so the interrupt lands
    // while some are.
    rig.kafka.set_latency(Duration::from_millis(150));
    rig.write(&many_hcl(&rig.domain(), 10, 100));

    let mut run = spawn_apply(&rig.tf);
    let started = Instant::now();
    let wanted = 30;
    let mut created = 0;
    while created < wanted {
        let line = run.lines.recv_timeout(Duration::from_secs(300)).unwrap_or_else(|e| {
            panic!("apply ended or stalled before {wanted} creations ({e}):\n{}", run.stdout.join("\n"))
        });
        if line.contains("Creation complete") {
            created += 1;
        }
        run.stdout.push(line);
    }
    let providers = provider_children(run.child.id());
    assert!(!providers.is_empty(), "a provider process runs under terraform (pid {})", run.child.id());
    let interrupted = Instant::now();
    let kill = Command::new("kill").args(["-INT", "--", &format!("-{}", run.pgid())]).status().expect("kill");
    assert!(kill.success(), "kill -INT the process group");

    // Time until the provider(s) and Terraform exit.
    let mut provider_exit = None;
    let status = loop {
        if provider_exit.is_none() && providers.iter().all(|p| exited(*p)) {
            provider_exit = Some(interrupted.elapsed());
        }
        if let Some(status) = run.child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(interrupted.elapsed() < Duration::from_secs(120), "terraform did not exit within 120 s of SIGINT");
        std::thread::sleep(Duration::from_millis(10));
    };
    let tf_exit = interrupted.elapsed();
    let provider_exit = provider_exit.unwrap_or(tf_exit);
    run.stdout.extend(run.lines.try_iter());
    let stderr = run.stderr.take().and_then(|h| h.join().ok()).unwrap_or_default();
    let stdout = run.stdout.join("\n");
    if std::env::var_os("FAULT_VERBOSE").is_some() {
        eprintln!("----- interrupted apply -----\n{stdout}\n{stderr}\n-----");
    }
    let created_total = stdout.matches("Creation complete").count();
    eprintln!(
        "fault (d) SIGINT after {created} creations ({:.1?} into the apply): provider exited after {provider_exit:.2?}, \
         terraform after {tf_exit:.2?} (status {status}); {created_total} creations completed in all",
        interrupted - started
    );
    assert!(!status.success(), "an interrupted apply exits non-zero:\n{stdout}\n{stderr}");
    assert!(created_total < 100, "the interrupt came before the end:\n{stdout}");
    assert!(tf_exit < Duration::from_secs(60), "terraform took {tf_exit:?} to stop");

    // What the interrupted apply left: every object state does not know about is an orphan.
    let left = rig.state_resources();
    let state_count = left.len();
    let tainted_count = left.iter().filter(|r| r["tainted"].as_bool() == Some(true)).count();
    let (have, want) = (rig.scan(), rig.expected());
    let orphans = have.diff(&want);
    eprintln!(
        "fault (d) after the interrupt: {state_count} resources in state ({tainted_count} tainted); backends vs state:\n{orphans}"
    );
    // Regression: a CreateTopics in flight when Terraform called StopProvider was abandoned,
    // its topic made but reported "stopped", so state never knew it.
    assert!(have.orphans(&want).is_empty(), "the interrupt left objects state does not know about:\n{orphans}");
    rig.kafka.set_latency(Duration::ZERO);

    let (ok, out, took) = rig.timed_apply("(d) after the interrupt");
    eprintln!("fault (d) next apply: ok={ok} in {took:.1?}");
    assert!(ok, "the apply after an interrupt must converge:\n{out}\n(left behind by the interrupt:\n{orphans})");
    let summary = format!("{} added, 0 changed, {tainted_count} destroyed", 100 - state_count + tainted_count);
    assert!(out.contains(&summary), "expected '{summary}':\n{out}");
    rig.tf.assert_no_changes();
    assert_eq!(rig.state_resources().len(), 100);
    rig.assert_backends_match_state("after the interrupted apply and the next one");
    let inv = rig.scan();
    assert_eq!((inv.buckets.len(), inv.topics.len(), inv.roles.len()), (10, 89, 1), "no duplicates: {inv:?}");
    // The domain's HDFS home and Cassandra role too, where the stack has those backends.
    let stores = usize::from(rig.b.config().hdfs.configured()) + usize::from(rig.b.config().cassandra.configured());
    assert_eq!(inv.count(), 10 + 89 + 1 + 10 + (1 + 10 + 89) + stores, "{inv:?}");
    rig.tf.destroy();
    assert_eq!(rig.scan(), Inventory::default(), "destroy leaves nothing");
    eprintln!("fault (d) test wall time {:.1?}", test_started.elapsed());
}

/// Holds the answers on `proxy` back for `hold` (longer than the provider's timeout) from the
/// moment `pattern` is seen, but lets requests sent after `window` through at once: the first
/// attempt reaches the backend and does its work, its answer comes too late, and the retry
/// meets what the first attempt made.
fn late_answer(proxy: &Proxy, pattern: &[u8], hold: Duration, window: Duration) {
    let handle = proxy.handle();
    proxy.on_request(pattern, move || {
        handle.set_latency(hold);
        std::thread::spawn(move || {
            std::thread::sleep(window);
            handle.set_latency(Duration::ZERO);
        });
    });
}

/// One create whose answer comes too late: that apply still succeeds, leaves state and
/// backends in agreement, and the next apply has nothing to do. Returns what went wrong
/// (empty: nothing).
fn late_create_phase(rig: &Rig, label: &str, proxy: &Proxy, pattern: &[u8]) -> Vec<String> {
    let (hold, window) =
        (Duration::from_secs(rig.timeout_seconds) + Duration::from_millis(1500), Duration::from_millis(1700));
    late_answer(proxy, pattern, hold, window);
    let mut problems = Vec::new();
    let (ok, out, took) = rig.timed_apply(label);
    let left = rig.scan().diff(&rig.expected());
    eprintln!("fault (e) {label}: apply ok={ok} in {took:.1?}; backends vs state:\n{left}");
    if proxy.triggers_pending() > 0 {
        problems.push(format!("{label}: the create was never seen"));
        proxy.heal();
    }
    if !ok {
        problems.push(format!("{label}: the apply failed:\n{}", error_lines(&out, 8)));
    }
    if !left.is_empty() {
        problems.push(format!("{label}: left objects state does not know about:\n{left}"));
    }
    let (ok, out, took) = rig.timed_apply(&format!("{label}, next apply"));
    eprintln!("fault (e) {label}, next apply: ok={ok} in {took:.1?}");
    if !ok {
        problems.push(format!("{label}: the next apply did not converge:\n{}", error_lines(&out, 3)));
    } else if !(out.contains("No changes.")
        && out.contains("Apply complete! Resources: 0 added, 0 changed, 0 destroyed"))
    {
        let work: Vec<&str> = out
            .lines()
            .filter(|l| l.contains(" will be ") || l.contains(" must be ") || l.starts_with("Apply complete!"))
            .collect();
        problems.push(format!("{label}: the next apply still had work to do:\n{}", work.join("\n")));
    }
    problems
}

/// The first `n` lines of Terraform's output from its first error on.
fn error_lines(out: &str, n: usize) -> String {
    out.lines().skip_while(|l| !l.starts_with("Error:")).take(n).collect::<Vec<_>>().join("\n")
}

/// A create that reached the backend but whose answer came after the provider's timeout is
/// retried (by the AWS SDK for IAM, by the provider for Kafka), and the retry meets the object
/// the first attempt made.
#[test]
fn fault_a_late_answer_to_a_create_leaves_no_orphan() {
    let rig = Rig::new(Broker::Private, 2);
    let domain = rig.domain();
    let mut problems = Vec::new();

    rig.write(&domain_hcl(&domain));
    problems.extend(late_create_phase(&rig, "late CreateRole answer", &rig.iam, b"Action=CreateRole"));
    if rig.tf.resource("datamesh_domain.d").is_null() {
        // Take the orphan over as the error suggests, to go on to the Kafka case.
        rig.tf.run_ok(&["import", "-no-color", "datamesh_domain.d", &domain]);
        rig.tf.apply();
    }

    let topic = format!("{domain}.orders.events");
    rig.write(&format!("{}{}{}", domain_hcl(&domain), product_hcl("p", "orders"), stream_hcl("s", "p", "events")));
    problems.extend(late_create_phase(&rig, "late CreateTopics answer", &rig.kafka, topic.as_bytes()));
    if rig.tf.resource("datamesh_stream.s").is_null() {
        rig.tf.run_ok(&["import", "-no-color", "datamesh_stream.s", &topic]);
    }
    rig.tf.apply();
    let left = rig.scan().diff(&rig.expected());
    if !left.is_empty() {
        problems.push(format!("after importing the orphans and applying, backends still differ from state:\n{left}"));
    }
    assert!(problems.is_empty(), "late answers to creates:\n{}", problems.join("\n"));
}

/// The killed-broker test's configuration: domain `d` with `products` data products and
/// `streams` streams spread over them, and domain `c` (`consumer`, with a SCRAM login) granted
/// read on the first `grants` products. Grant 0 comes as soon as its product; grant `i` waits
/// for stream `s<10 i>`, so grants (and the ACLs they write) come all through the apply.
fn broker_kill_hcl(domain: &str, consumer: &str, products: usize, streams: usize, grants: usize) -> String {
    let mut hcl = domain_hcl(domain);
    hcl.push_str(&format!(
        r#"
resource "datamesh_domain" "c" {{
  name                = "{consumer}"
  owner               = "marketing@example.com"
  password_wo         = "consumer-secret-1"
  password_wo_version = 1
}}
"#
    ));
    for p in 0..products {
        hcl.push_str(&product_hcl(&format!("p{p}"), &format!("p{p:02}")));
    }
    for s in 0..streams {
        hcl.push_str(&stream_hcl(&format!("s{s}"), &format!("p{}", s % products), &format!("s{s:02}")));
    }
    for g in 0..grants {
        let after = if g == 0 { String::new() } else { format!("  depends_on      = [datamesh_stream.s{}]\n", 10 * g) };
        hcl.push_str(&format!(
            r#"
resource "datamesh_access_grant" "g{g}" {{
  consumer_domain = datamesh_domain.c.name
  data_product    = datamesh_data_product.p{g}.id
  purpose         = "Campaign attribution"
{after}}}
"#
        ));
    }
    hcl
}

/// The resources of `resources` that are not tainted.
fn untainted(resources: &[Json]) -> Vec<Json> {
    resources.iter().filter(|r| r["tainted"].as_bool() != Some(true)).cloned().collect()
}

/// The elements of `a` that are not in `b`, one a line (empty: `a` is a subset of `b`).
fn missing_from<T: Ord + std::fmt::Display>(
    a: &std::collections::BTreeSet<T>,
    b: &std::collections::BTreeSet<T>,
) -> String {
    a.difference(b).map(|x| format!("  {x}\n")).collect()
}

/// The broker process killed (SIGKILL) in the middle of an apply of 100 streams, 5 grants and
/// their ACLs, then started again: the apply fails within a bound that follows from the
/// provider's Kafka timeout, naming Kafka and the brokers it could not reach; state tells the
/// truth about what the broker has after its restart (what state holds untainted exists as
/// state says, and the broker holds nothing state does not know of); the next apply converges
/// and leaves no orphan topic or ACL; destroy leaves nothing.
#[test]
fn fault_the_broker_killed_mid_apply_fails_clearly_and_the_next_apply_converges() {
    let test_started = Instant::now();
    let timeout = 5;
    let mut rig = Rig::new(Broker::Private, timeout);
    let (products, streams, grants) = (10, 100, 5);
    let total = 2 + products + streams + grants;
    let (domain, consumer) = (rig.domain(), format!("{}-mkt", rig.tf.prefix));
    // Every Kafka request is in flight for a while (both ways), so the kill lands on some.
    rig.kafka.set_latency(Duration::from_millis(150));
    rig.write(&broker_kill_hcl(&domain, &consumer, products, streams, grants));

    let mut run = spawn_apply(&rig.tf);
    let started = Instant::now();
    // The signal: Terraform has reported this many streams created, and a grant (its ACLs); or
    // twice as many streams when no grant came yet (under load grant 0 can come late), so
    // the kill still lands in the middle.
    let wanted = 30;
    let (mut created, mut granted) = (0, 0);
    while created < wanted || (granted == 0 && created < 2 * wanted) {
        let line = run.lines.recv_timeout(Duration::from_secs(300)).unwrap_or_else(|e| {
            panic!(
                "apply ended or stalled before {wanted} streams and a grant were created ({e}):\n{}",
                run.stdout.join("\n")
            )
        });
        if line.contains("Creation complete") {
            created += usize::from(line.starts_with("datamesh_stream."));
            granted += usize::from(line.starts_with("datamesh_access_grant."));
        }
        run.stdout.push(line);
    }
    let before_kill = run.stdout.iter().filter(|l| l.contains("Creation complete")).count();
    let killed = Instant::now();
    // The broker's host drops off the network (what is in flight through the proxy, requests
    // and answers, is lost: some CreateTopics and CreateAcls the broker carried out go
    // unanswered), the broker process is killed, and from then on connections meet a broker
    // that is down (the open ones are reset; new ones are reset by the proxy, which finds
    // nothing listening behind it).
    rig.kafka.set_mode(Mode::BlackHole);
    rig.broker().kill();
    rig.kafka.set_latency(Duration::ZERO);
    rig.kafka.set_mode(Mode::PassThrough);
    let reset = rig.kafka.reset_open();
    let kill_took = killed.elapsed();
    assert!(!rig.broker().answers(Duration::from_secs(2)), "the broker is down");

    // The bound: the calls the kill catches retry for the provider's Kafka deadline (3 x
    // timeout), their last attempt taking up to one timeout more. The resources not yet made
    // then come in waves of 10 (Terraform's parallelism); the outage is older than the deadline
    // by then, so each of their calls makes one attempt (one timeout), not a deadline's worth of
    // them (the provider's `outage`: without it, each wave waited the whole deadline again).
    let t = Duration::from_secs(timeout);
    let waves = (total - before_kill).div_ceil(10) as u32;
    let bound = 4 * t + waves * (t + Duration::from_secs(3)) + Duration::from_secs(30);
    let status = loop {
        run.stdout.extend(run.lines.try_iter());
        if let Some(status) = run.child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            killed.elapsed() < bound,
            "terraform apply still running {bound:?} after the broker was killed:\n{}",
            run.stdout.join("\n")
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let ended_after = killed.elapsed();
    run.stdout.extend(run.lines.try_iter());
    let stderr = run.stderr.take().and_then(|h| h.join().ok()).unwrap_or_default();
    let out = format!("{}\n{stderr}", run.stdout.join("\n"));
    if std::env::var_os("FAULT_VERBOSE").is_some() {
        eprintln!("----- apply with the broker killed -----\n{out}\n-----");
    }
    let created_total = out.matches("Creation complete").count();
    let streams_total =
        run.stdout.iter().filter(|l| l.starts_with("datamesh_stream.") && l.contains("Creation complete")).count();
    eprintln!(
        "fault (f) broker killed {:.1?} into the apply, after {before_kill} creations ({created} streams, {granted} \
         grants; kill took {kill_took:.2?}, {reset} Kafka connections reset): apply ended {ended_after:.1?} later \
         (bound {bound:?}), status {status}; {created_total} creations completed in all ({streams_total} streams)",
        killed - started
    );
    let errors = error_lines(&out, 4);
    eprintln!("fault (f) the first error:\n{errors}");
    let error_count = out.lines().filter(|l| l.starts_with("Error:")).count();
    if status.success() {
        assert!(out.contains(&format!("{total} added")), "an apply that succeeded made everything:\n{out}");
    } else {
        assert!(error_count > 0, "a failed apply says why:\n{out}");
        // Every error names Kafka and the brokers the provider was told to use.
        let brokers = rig.kafka.addr().to_string();
        let mut blocks = out.split("Error: ").skip(1);
        assert!(
            blocks.all(|b| b.contains("Kafka") && b.contains(&brokers)),
            "every error names Kafka and the brokers {brokers}:\n{out}"
        );
    }
    assert!(created_total < total, "the kill came before the end:\n{out}");

    // State after the failed apply; then the broker comes back on the same port from its storage.
    let left_state = rig.state_resources();
    let tainted_count = left_state.iter().filter(|r| r["tainted"].as_bool() == Some(true)).count();
    let restarted_in = rig.broker().restart(Duration::from_secs(120));
    eprintln!(
        "fault (f) after the apply: {} resources in state ({tainted_count} tainted), {error_count} errors; broker \
         answering again {restarted_in:.1?} after its restart",
        left_state.len()
    );
    // The consumer domain's SCRAM user survived the restart: it logs in and, through its
    // grants' ACLs, sees topics.
    let c = tainted(&left_state, "datamesh_domain.c");
    assert_eq!(c, Some(false), "the consumer domain was made before the kill:\n{out}");
    {
        use rdkafka::admin::AdminClient;
        use rdkafka::client::DefaultClientContext;
        let login: AdminClient<DefaultClientContext> = kafka_client_as(&consumer, "consumer-secret-1")
            .set("bootstrap.servers", &rig.broker_addr)
            .create()
            .expect("client");
        let seen = login.inner().fetch_metadata(None, Duration::from_secs(15));
        assert!(seen.is_ok(), "{consumer} logs in to the restarted broker with its password_wo: {seen:?}");
    }

    // State tells the truth about the restarted broker: whatever it holds under the test's
    // names state knows of (tainted resources may or may not have made their objects), and
    // every untainted stream's topic is there as state says.
    let (have, claimed, sure) = (
        rig.scan(),
        Inventory::from_state(&rig.tf.prefix, &left_state),
        Inventory::from_state(&rig.tf.prefix, &untainted(&left_state)),
    );
    let orphans = have.orphans(&claimed);
    assert!(
        orphans.is_empty(),
        "after the restart the broker holds what state does not know of:\n{}",
        have.diff(&claimed)
    );
    let lost = have.diff(&sure);
    let lost: Vec<&str> = lost.lines().filter(|l| l.trim_start().starts_with("lost")).collect();
    assert!(lost.is_empty(), "untainted resources in state whose objects are missing:\n{}", lost.join("\n"));
    let (acls_have, acls_claimed, acls_sure) =
        (rig.acls(), acls_from_state(&left_state), acls_from_state(&untainted(&left_state)));
    let orphan_acls = missing_from(&acls_have, &acls_claimed);
    assert!(orphan_acls.is_empty(), "ACLs on the restarted broker that state does not know of:\n{orphan_acls}");
    let lost_acls = missing_from(&acls_sure, &acls_have);
    assert!(lost_acls.is_empty(), "ACLs of untainted resources missing after the restart:\n{lost_acls}");
    let kb = Backends::for_prefix_with_kafka(&rig.tf.prefix, |k| k.bootstrap_servers = vec![rig.broker_addr.clone()]);
    let kafka = kb.streaming();
    let mut checked = 0;
    for r in untainted(&left_state).iter().filter(|r| r["type"] == "datamesh_stream") {
        let v = &r["values"];
        let topic = v["topic"].as_str().expect("topic in state");
        let info =
            kb.block_on(kafka.describe_topic(topic)).expect("describe").unwrap_or_else(|| panic!("{topic} is gone"));
        assert_eq!(i64::from(info.partitions), v["partitions"].as_i64().unwrap_or(-1), "{topic}: partitions");
        assert_eq!(i64::from(info.replication_factor), v["replication_factor"].as_i64().unwrap_or(-1), "{topic}");
        assert!(info.configs.is_empty() && v["config"].is_null() && v["retention_ms"].is_null(), "{topic}: {info:?}");
        checked += 1;
    }
    // The creates whose answers were lost but which the broker carried out: tainted in state
    // (with the provider before the fix, not in state at all: orphans).
    let unanswered: Vec<&str> = left_state
        .iter()
        .filter(|r| r["type"] == "datamesh_stream" && r["tainted"].as_bool() == Some(true))
        .filter_map(|r| r["values"]["topic"].as_str())
        .filter(|t| have.topics.contains(*t))
        .collect();
    eprintln!(
        "fault (f) after the restart: {} topics, {} ACLs of the test on the broker; {checked} untainted streams \
         checked; state claims {} topics and {} ACLs; {} tainted streams whose topic the broker made: {unanswered:?}",
        have.topics.len(),
        acls_have.len(),
        claimed.topics.len(),
        acls_claimed.len(),
        unanswered.len()
    );

    // The next apply converges.
    let (ok, out, took) = rig.timed_apply("(f) after the restart");
    eprintln!(
        "fault (f) next apply: ok={ok} in {took:.1?}: {}",
        out.lines().find(|l| l.starts_with("Apply complete")).unwrap_or("-")
    );
    assert!(ok, "the apply after the broker came back must converge:\n{out}");
    rig.tf.assert_no_changes();
    let resources = rig.state_resources();
    assert_eq!(resources.len(), total, "everything is in state");
    assert!(resources.iter().all(|r| r["tainted"].as_bool() != Some(true)), "nothing is left tainted");
    rig.assert_backends_match_state("after the broker was killed and the next apply");
    let (acls_have, acls_want) = (rig.acls(), acls_from_state(&resources));
    assert_eq!(acls_have, acls_want, "the broker's ACLs (left) are exactly state's (right)");
    let inv = rig.scan();
    assert_eq!(
        (inv.buckets.len(), inv.topics.len(), inv.roles.len()),
        (products, streams, 2),
        "no duplicates: {inv:?}"
    );
    // 2 bindings of each domain's own, 2 topic bindings of each grant (its group binding is the
    // consumer domain's own).
    assert_eq!(acls_have.len(), 2 * 2 + 2 * grants, "{acls_have:#?}");
    rig.tf.destroy();
    assert_eq!(rig.scan(), Inventory::default(), "destroy leaves nothing");
    assert!(rig.acls().is_empty(), "destroy leaves no ACL: {:?}", rig.acls());
    eprintln!("fault (f) test wall time {:.1?}", test_started.elapsed());
}
