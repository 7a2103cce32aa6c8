//! Faults through real Terraform: a fault-injecting proxy (`support::proxy`) sits between
//! the provider and each backend endpoint, and breaks the network at chosen moments. After
//! each fault the backends are scanned directly: nothing exists that state does not know about.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::support::inventory::{stack_broker, Inventory};
use crate::support::proxy::{Mode, Proxy};
use crate::support::{combined, Backends, PrivateKafka, Tf};

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
