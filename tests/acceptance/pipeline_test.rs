//! `datamesh_pipeline`, proven by data, on the stack's real Flink and Spark clusters with the
//! example jobs of `examples/pipelines/` (built by the scripts into the tools cache;
//! `stack.env` names them):
//! - Flink: records produced into a granted stream come out of the pipeline domain's own stream,
//!   transformed, written by the job logged in as that domain; an `args` upgrade through a
//!   savepoint continues the keyed counts; a job cancelled outside Terraform is drift that the
//!   next apply restarts from its savepoint; a grant destroyed under the running job makes the
//!   broker deny the job's reads; destroy stops it with a final savepoint.
//! - Spark: objects uploaded into a granted product come out aggregated in the domain's own
//!   product (s3a with the domain's short-lived STS credentials, passed write-only); a second
//!   pipeline reading that output makes a chain `datamesh_lineage` shows; `triggers` runs it
//!   again (replacement); `-invoke=action.datamesh_run_pipeline.x` runs it again and streams its
//!   progress; a bad argument fails the apply with the driver's state, tainted; `wait = false`
//!   returns while the driver runs, and destroy kills it.
//! - Governance: one plan per lineage rule fails at `inputs` or `outputs` with its sentence.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message;
use serde_json::Value as Json;

use crate::support::stores::domains_with_passwords;
use crate::support::{combined, kafka_client_as, unique, zip_members, Backends, Tf};

fn stack_var(name: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| {
        panic!("{name} is not set: these tests need the stack's Flink, Spark and the example jobs. Start the stack with `bash scripts/stack-up.sh DIR` and source DIR/stack.env")
    })
}

fn flink_rest() -> String {
    stack_var("DATAMESH_FLINK_REST_URL")
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().expect("HTTP client")
}

fn get_json(url: &str) -> Json {
    let resp = http().get(url).send().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    resp.json().unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// Polls `probe` for up to `limit`; panics naming `what` and the last observation.
fn wait_until<T>(what: &str, limit: Duration, mut probe: impl FnMut(&mut String) -> Option<T>) -> T {
    let started = Instant::now();
    let mut last = String::from("nothing observed");
    loop {
        if let Some(v) = probe(&mut last) {
            return v;
        }
        assert!(started.elapsed() < limit, "no {what} within {limit:?}; last seen: {last}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn produce(b: &Backends, user: &str, password: &str, topic: &str, values: &[&str]) {
    let producer: FutureProducer =
        kafka_client_as(user, password).set("message.timeout.ms", "20000").create().expect("producer");
    for v in values {
        let key = v.split(',').next().unwrap_or_default().to_string();
        let record = FutureRecord::to(topic).key(&key).payload(*v);
        b.block_on(producer.send(record, Duration::from_secs(20)))
            .unwrap_or_else(|(e, _)| panic!("producing {v:?} to {topic} as {user}: {e}"));
    }
}

/// A consumer of `topic` as `user`, reading from the start in a fresh group of the domain.
struct Reader {
    consumer: BaseConsumer,
    seen: Vec<String>,
}

impl Reader {
    fn new(user: &str, password: &str, topic: &str) -> Reader {
        let consumer: BaseConsumer = kafka_client_as(user, password)
            .set("group.id", format!("{user}.check-{}", unique('g')))
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        consumer.subscribe(&[topic]).expect("subscribe");
        Reader { consumer, seen: Vec::new() }
    }

    /// Polls once, keeping what arrived.
    fn poll_once(&mut self) {
        if let Some(Ok(m)) = self.consumer.poll(Duration::from_millis(500)) {
            self.seen.push(String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned());
        }
    }

    /// Reads until every value of `want` has been seen (in any order, among others); all seen.
    fn until_seen(&mut self, want: &[&str]) -> Vec<String> {
        let limit = Duration::from_secs(120);
        let started = Instant::now();
        while !want.iter().all(|w| self.seen.iter().any(|s| s == w)) {
            assert!(
                started.elapsed() < limit,
                "the output stream never carried {want:?} within {limit:?}; it carried {:?}",
                self.seen
            );
            match self.consumer.poll(Duration::from_millis(500)) {
                Some(Ok(m)) => self.seen.push(String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned()),
                Some(Err(e)) => panic!("consuming the output stream: {e}"),
                None => {}
            }
        }
        self.seen.clone()
    }
}

// ------------------------------------------------------------------------------------- Flink --

/// The Flink test's mesh (also drawn by mesh_test): crm's customers with a stream, granted to
/// sales, whose pipeline writes its own enriched product's stream.
pub(crate) fn flink_hcl(p: &str, tag: Option<&str>, with_grant: bool) -> String {
    let bootstrap = stack_var("DATAMESH_KAFKA_BOOTSTRAP_SERVERS");
    let protocol = stack_var("DATAMESH_KAFKA_SECURITY_PROTOCOL");
    let mechanism = stack_var("DATAMESH_KAFKA_SASL_MECHANISM");
    let jar = stack_var("DATAMESH_PIPELINE_FLINK_JAR");
    let tag = tag.map(|t| format!(", \"--tag\", \"{t}\"")).unwrap_or_default();
    let grant = if with_grant {
        r#"
resource "datamesh_access_grant" "g" {
  consumer_domain = datamesh_domain.sales.name
  data_product    = datamesh_data_product.customers.id
  purpose         = "enrichment"
}
"#
    } else {
        ""
    };
    // The input is written out (not a reference) and the grant made first only while it is in
    // the configuration, so the grant can later be destroyed under the running job.
    let depends = if with_grant { "depends_on = [datamesh_access_grant.g]" } else { "" };
    format!(
        r#"{domains}
resource "datamesh_data_product" "customers" {{
  domain         = datamesh_domain.crm.name
  name           = "customers"
  classification = "internal"
  force_destroy  = true
}}

resource "datamesh_stream" "changes" {{
  data_product = datamesh_data_product.customers.id
  name         = "changes"
  partitions   = 1
}}

resource "datamesh_data_product" "enriched" {{
  domain         = datamesh_domain.sales.name
  name           = "enriched"
  classification = "internal"
  force_destroy  = true
}}

resource "datamesh_stream" "counts" {{
  data_product = datamesh_data_product.enriched.id
  name         = "counts"
  partitions   = 1
}}
{grant}
resource "datamesh_pipeline" "enrich" {{
  domain      = datamesh_domain.sales.name
  name        = "enrich"
  engine      = "flink"
  inputs      = ["{p}-sales:{p}-crm/customers"]
  outputs     = [datamesh_data_product.enriched.id]
  artifact    = "{jar}"
  entry_class = "datamesh.examples.StreamEnrich"
  args        = ["--input", datamesh_stream.changes.topic, "--output", datamesh_stream.counts.topic, "--group", "${{datamesh_domain.sales.name}}.enrich"{tag}]
  config = {{
    "datamesh.kafka.bootstrap.servers" = "{bootstrap}"
    "datamesh.kafka.security.protocol" = "{protocol}"
    "datamesh.kafka.sasl.mechanism"    = "{mechanism}"
    "datamesh.kafka.username"          = datamesh_domain.sales.name
  }}
  secret_config_wo         = {{ "datamesh.kafka.password" = var.pw_sales }}
  secret_config_wo_version = 1
  {depends}
}}
"#,
        domains = domains_with_passwords(p, &["crm", "sales"]),
    )
}

fn flink_job_state(job: &str) -> String {
    get_json(&format!("{}/jobs/{job}", flink_rest()))["state"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_flink_pipeline_moves_records_between_domains_and_keeps_its_state_across_upgrades() {
    let mut tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let (crm, sales) = (format!("{p}-crm"), format!("{p}-sales"));
    tf.env("TF_VAR_pw_crm", "crm-secret-1");
    tf.env("TF_VAR_pw_sales", "sales-flink-secret-1");
    let (input, output) = (format!("{crm}.customers.changes"), format!("{sales}.enriched.counts"));

    let started = Instant::now();
    tf.write(&flink_hcl(&p, None, true));
    tf.apply();
    let first = tf.resource("datamesh_pipeline.enrich");
    assert_eq!(first["state"], "RUNNING", "{first}");
    let job = first["job_id"].as_str().expect("job_id").to_string();
    assert_eq!(flink_job_state(&job), "RUNNING", "Flink itself says so");
    assert!(first["last_savepoint"].is_null());
    assert_eq!(first["artifact_sha256"].as_str().map(str::len), Some(64));
    eprintln!("flink: apply of the mesh with a pipeline, to RUNNING: {:?}", started.elapsed());
    tf.assert_no_changes();
    // The job's password (secret_config_wo) is in neither a trace log nor a plan file.
    let traced = tf.run_with_env(&["plan", "-out=tfplan", "-no-color"], &[("TF_LOG", "trace")]);
    assert!(traced.status.success(), "{}", combined(&traced));
    assert!(!combined(&traced).contains("sales-flink-secret-1"), "the password is in the TF_LOG=trace output");
    for (name, bytes) in zip_members(&tf.path().join("tfplan")) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains("sales-flink-secret-1"),
            "the password is in the plan file's {name}"
        );
    }

    // Proof by data: the crm team produces, the job (logged in as sales) writes.
    let mut out = Reader::new(&sales, "sales-flink-secret-1", &output);
    produce(&b, &crm, "crm-secret-1", &input, &["k1,a", "k2,b", "dropped-no-comma", "k1,c"]);
    let seen = out.until_seen(&["k1,1,a", "k2,1,b", "k1,2,c"]);
    assert!(!seen.iter().any(|s| s.contains("dropped")), "the filter drops values without a key: {seen:?}");

    // An upgrade of args through a savepoint: the keyed count carries over.
    tf.write(&flink_hcl(&p, Some("v2"), true));
    let plan = combined(&tf.run(&["plan", "-no-color"]));
    assert!(plan.contains("upgraded through a savepoint"), "the plan says the state carries over:\n{plan}");
    let t = Instant::now();
    tf.apply();
    eprintln!("flink: stop with savepoint and resume: {:?}", t.elapsed());
    let second = tf.resource("datamesh_pipeline.enrich");
    let savepoint = second["last_savepoint"].as_str().expect("last_savepoint after a savepoint upgrade").to_string();
    assert!(savepoint.contains("savepoint"), "{savepoint}");
    let job2 = second["job_id"].as_str().unwrap().to_string();
    assert_ne!(job2, job, "a new job runs");
    assert_eq!(flink_job_state(&job), "FINISHED", "the old job stopped with its savepoint");
    produce(&b, &crm, "crm-secret-1", &input, &["k1,d"]);
    out.until_seen(&["k1,3,d,v2"]);
    tf.assert_no_changes();

    // Cancelled outside Terraform: drift, restarted from its savepoint.
    let resp = http().patch(format!("{}/jobs/{job2}?mode=cancel", flink_rest())).send().expect("cancel");
    assert!(resp.status().is_success(), "cancel: {}", resp.status());
    wait_until("the cancelled job", Duration::from_secs(60), |last| {
        *last = flink_job_state(&job2);
        (*last == "CANCELED").then_some(())
    });
    assert_eq!(tf.planned_actions("datamesh_pipeline.enrich"), vec!["update"], "a job that stopped is drift");
    tf.apply();
    let third = tf.resource("datamesh_pipeline.enrich");
    assert_eq!(third["state"], "RUNNING");
    let job3 = third["job_id"].as_str().unwrap().to_string();
    produce(&b, &crm, "crm-secret-1", &input, &["k1,e"]);
    out.until_seen(&["k1,4,e,v2"]);

    // Import by <domain>/<name>: the configuration from the catalog record, the job by name.
    tf.state_rm("datamesh_pipeline.enrich");
    tf.run_ok(&["import", "-no-color", "datamesh_pipeline.enrich", &format!("{sales}/enrich")]);
    assert_eq!(tf.resource("datamesh_pipeline.enrich")["job_id"], job3.as_str(), "the running job, found by its name");
    tf.assert_no_changes();

    // A stateless upgrade starts the keyed counts from zero.
    let stateless = |tag: &str, grant: bool| {
        flink_hcl(&p, Some(tag), grant).replace(
            "secret_config_wo_version = 1\n",
            "secret_config_wo_version = 1\n  flink {\n    upgrade_mode = \"stateless\"\n  }\n",
        )
    };
    tf.write(&stateless("v3", true));
    let plan = combined(&tf.run(&["plan", "-no-color"]));
    assert!(plan.contains("starts again with empty state"), "{plan}");
    tf.apply();
    let job4 = tf.resource("datamesh_pipeline.enrich")["job_id"].as_str().unwrap().to_string();
    assert_eq!(flink_job_state(&job3), "CANCELED", "stateless: the old job is cancelled, not savepointed");
    produce(&b, &crm, "crm-secret-1", &input, &["k1,f"]);
    let first_v3 = wait_until("a v3 record for k1", Duration::from_secs(120), |last| {
        out.poll_once();
        *last = format!("{:?}", out.seen);
        out.seen.iter().find(|s| s.starts_with("k1,") && s.ends_with(",v3")).cloned()
    });
    assert!(first_v3.starts_with("k1,1,"), "the new job counts k1 from zero: {first_v3}");

    // Destroyed while healthy: stopped with a final savepoint, which the apply reports.
    let without = flink_hcl(&p, Some("v3"), true);
    let without = without.split("resource \"datamesh_pipeline\"").next().unwrap().to_string();
    tf.write(&without);
    let removed = tf.apply();
    assert!(removed.contains("stopped with a final savepoint"), "{removed}");
    wait_until("the job's end", Duration::from_secs(60), |last| {
        *last = flink_job_state(&job4);
        (*last == "FINISHED").then_some(())
    });

    // Back, and then the grant goes while the job runs: the broker refuses the job's reads.
    tf.write(&stateless("v3", true));
    tf.apply();
    let job3 = tf.resource("datamesh_pipeline.enrich")["job_id"].as_str().unwrap().to_string();
    tf.write(&stateless("v3", false));
    tf.apply();
    let denied = wait_until("the broker's refusal in the job's exceptions", Duration::from_secs(120), |last| {
        let ex = get_json(&format!("{}/jobs/{job3}/exceptions", flink_rest())).to_string();
        *last = format!("state {}, exceptions {}", flink_job_state(&job3), &ex[..ex.len().min(300)]);
        ex.contains("AuthorizationException").then_some(ex)
    });
    assert!(denied.contains("Topic") || denied.contains("Group"), "{denied}");

    // Secrets: the SCRAM password never lands in state or the catalog record.
    let state = std::fs::read_to_string(tf.path().join("terraform.tfstate")).unwrap();
    assert!(!state.contains("sales-flink-secret-1"), "state holds the job's password");
    let record = b
        .block_on(b.storage().get_object(&b.config().catalog_bucket, &format!("pipelines/{sales}/enrich.json")))
        .unwrap()
        .expect("the lineage record");
    let record = String::from_utf8_lossy(&record.body).into_owned();
    assert!(!record.contains("sales-flink-secret-1") && record.contains("customers"), "{record}");

    tf.destroy();
    let ended = flink_job_state(&job3);
    assert!(["CANCELED", "FINISHED", "FAILED"].contains(&ended.as_str()), "destroy ends the job: {ended}");
}

// ------------------------------------------------------------------------------------- Spark --

fn spark_pipeline(name: &str, input: &str, output: &str, args: &str, spark: &str) -> String {
    let jar = stack_var("DATAMESH_PIPELINE_SPARK_JAR");
    let endpoint = stack_var("AWS_ENDPOINT_URL");
    format!(
        r#"
resource "datamesh_pipeline" "{name}" {{
  domain      = datamesh_domain.sales.name
  name        = "{name}"
  engine      = "spark"
  inputs      = [{input}]
  outputs     = [{output}]
  artifact    = "{jar}"
  entry_class = "datamesh.examples.BatchAggregate"
  args        = [{args}]
  config = {{
    "spark.hadoop.fs.s3a.endpoint"                 = "{endpoint}"
    "spark.hadoop.fs.s3a.path.style.access"        = "true"
    "spark.hadoop.fs.s3a.aws.credentials.provider" = "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider"
    # Tasks commit straight into the output: the default (v1) job commit lists the task
    # directories back, which S3 (moto here) can answer before it lists what was just renamed.
    "spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version" = "2"
  }}
  secret_config_wo = {{
    "spark.hadoop.fs.s3a.access.key"    = ephemeral.datamesh_consumer_credentials.sales.access_key_id
    "spark.hadoop.fs.s3a.secret.key"    = ephemeral.datamesh_consumer_credentials.sales.secret_access_key
    "spark.hadoop.fs.s3a.session.token" = ephemeral.datamesh_consumer_credentials.sales.session_token
  }}
  secret_config_wo_version = 1
  spark {{
    # The stack's one worker (4 cores, 3 GiB) is shared: a small driver and one executor.
    driver_memory        = "512m"
    executor_memory      = "512m"
    total_executor_cores = 1
{spark}
  }}
}}
"#
    )
}

fn spark_hcl(p: &str, pipelines: &str) -> String {
    // The credentials are opened at plan time, so only once the domain's role exists.
    let credentials = r#"
ephemeral "datamesh_consumer_credentials" "sales" {
  consumer_domain = datamesh_domain.sales.name
}
"#;
    format!(
        r#"
{domains}
{raw}
{daily}
{summary}
resource "datamesh_access_grant" "raw" {{
  consumer_domain = datamesh_domain.sales.name
  data_product    = datamesh_data_product.raw.id
  purpose         = "daily aggregates"
}}

data "datamesh_lineage" "daily" {{
  data_product = datamesh_data_product.daily.id
  depends_on   = [datamesh_pipeline.aggregate, datamesh_pipeline.summarize]
}}

output "upstream" {{
  value = data.datamesh_lineage.daily.upstream
}}

output "downstream" {{
  value = data.datamesh_lineage.daily.downstream
}}

data "datamesh_odps" "daily" {{
  data_product = datamesh_data_product.daily.id
  depends_on   = [datamesh_pipeline.aggregate]
}}

output "odps" {{
  value = data.datamesh_odps.daily.document
}}
{credentials}{pipelines}
"#,
        domains = plain_domains(p),
        raw = product("raw", "crm", "internal", "  force_destroy  = true\n"),
        daily = product("daily", "sales", "internal", "  force_destroy  = true\n"),
        summary = product("summary", "sales", "internal", "  force_destroy  = true\n"),
    )
}

/// Domains `<p>-crm` and `<p>-sales` (resources `crm`, `sales`), without passwords.
fn plain_domains(p: &str) -> String {
    ["crm", "sales"]
        .iter()
        .map(|d| {
            format!(
                "resource \"datamesh_domain\" \"{d}\" {{\n  name  = \"{p}-{d}\"\n  owner = \"{d}@example.com\"\n}}\n"
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A data product `name` of domain resource `domain`, with `extra` lines inside its block.
fn product(name: &str, domain: &str, classification: &str, extra: &str) -> String {
    format!(
        "resource \"datamesh_data_product\" \"{name}\" {{\n  domain         = datamesh_domain.{domain}.name\n  name           = \"{name}\"\n  classification = \"{classification}\"\n{extra}}}\n"
    )
}

/// The one CSV file the job wrote under `prefix` of `bucket`.
fn job_output(b: &Backends, bucket: &str, prefix: &str) -> String {
    let s = b.storage();
    let keys = b.block_on(s.list_keys(bucket, prefix)).unwrap();
    let parts: Vec<&String> =
        keys.iter().filter(|k| k.rsplit('/').next().is_some_and(|n| n.starts_with("part-"))).collect();
    assert_eq!(parts.len(), 1, "one output file under s3://{bucket}/{prefix}: {keys:?}");
    String::from_utf8(b.block_on(s.get_object(bucket, parts[0])).unwrap().expect("the part file").body).unwrap()
}

fn spark_driver_state(driver: &str) -> String {
    get_json(&format!("{}/v1/submissions/status/{driver}", stack_var("DATAMESH_SPARK_REST_URL")))["driverState"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn spark_pipelines_aggregate_granted_objects_into_the_domains_product_and_chain_their_lineage() {
    let mut tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let prefix = |product: &str| format!("{p}-{p}-{product}");
    let (raw, daily, summary) = (prefix("crm-raw"), prefix("sales-daily"), prefix("sales-summary"));
    let aggregate = |trigger: &str| {
        spark_pipeline(
            "aggregate",
            "datamesh_access_grant.raw.id",
            "datamesh_data_product.daily.id",
            &format!("\"--input\", \"s3a://{raw}/in/\", \"--output\", \"s3a://{daily}/agg/\""),
            &format!("    triggers = {{ run = \"{trigger}\" }}"),
        )
    };
    let summarize = spark_pipeline(
        "summarize",
        "datamesh_data_product.daily.id",
        "datamesh_data_product.summary.id",
        &format!("\"--input\", \"s3a://{daily}/agg/\", \"--output\", \"s3a://{summary}/agg/\""),
        "",
    )
    .replace(
        "secret_config_wo_version = 1",
        "secret_config_wo_version = 1\n  depends_on = [datamesh_pipeline.aggregate]",
    );

    // The products first, then the crm team's objects, then the pipelines.
    let products = spark_hcl(&p, "");
    tf.write(products.split("data \"datamesh_lineage\"").next().unwrap());
    tf.apply();
    let s = b.storage();
    b.block_on(s.put_object(&raw, "in/part-1.csv", b"a,1\nb,2\n".to_vec(), None)).unwrap();
    b.block_on(s.put_object(&raw, "in/more/part-2.csv", b"a,3\n\nc,10\n".to_vec(), None)).unwrap();

    tf.write(&spark_hcl(&p, &format!("{}{summarize}", aggregate("1"))));
    let t = Instant::now();
    tf.apply();
    eprintln!("spark: two batch runs, each to FINISHED: {:?}", t.elapsed());
    let agg = tf.resource("datamesh_pipeline.aggregate");
    assert_eq!(agg["state"], "FINISHED", "{agg}");
    let driver = agg["job_id"].as_str().expect("job_id").to_string();
    assert_eq!(spark_driver_state(&driver), "FINISHED", "the master says so");
    assert_eq!(job_output(&b, &daily, "agg/"), "a,2,4\nb,1,2\nc,1,10\n");
    assert_eq!(
        job_output(&b, &summary, "agg/"),
        "a,1,4\nb,1,2\nc,1,10\n",
        "the second pipeline read the first's output"
    );
    tf.assert_no_changes();

    // Lineage: the chain, both ways, from the catalog's records.
    let outputs: Json = serde_json::from_str(&tf.run_ok(&["output", "-json"])).unwrap();
    let hops = |name: &str| -> Vec<String> {
        outputs[name]["value"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| {
                format!("{} via {}", h["data_product"].as_str().unwrap_or("?"), h["pipeline"].as_str().unwrap_or("?"))
            })
            .collect()
    };
    assert_eq!(hops("upstream"), vec![format!("{p}-crm/raw via {p}-sales/aggregate")]);
    assert_eq!(hops("downstream"), vec![format!("{p}-sales/summary via {p}-sales/summarize")]);
    // The ODPS document of the middle product: its input port is the granted product, through
    // the pipeline that writes it.
    let odps: Json = serde_json::from_str(outputs["odps"]["value"].as_str().expect("odps")).expect("JSON");
    crate::support::odps::assert_conforms(&odps);
    let inputs: Vec<(String, String)> = odps["inputPorts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|port| {
            let pipeline =
                port["customProperties"].as_array().and_then(|c| c.iter().find(|c| c["property"] == "pipeline"));
            (
                port["name"].as_str().unwrap_or("?").to_string(),
                pipeline.map(|c| c["value"].to_string()).unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(inputs, vec![(format!("{p}-crm/raw"), format!("\"{p}-sales/aggregate\""))], "{odps:#}");

    // A triggers change is a new run: replacement.
    tf.write(&spark_hcl(&p, &format!("{}{summarize}", aggregate("2"))));
    assert_eq!(tf.planned_actions("datamesh_pipeline.aggregate"), vec!["delete", "create"]);
    tf.apply();
    let again = tf.resource("datamesh_pipeline.aggregate");
    assert_ne!(again["job_id"], agg["job_id"], "a new driver ran");
    assert_eq!(again["state"], "FINISHED");

    // The action runs the batch again, streaming its progress; state is unchanged.
    let action = r#"
action "datamesh_run_pipeline" "rerun" {
  config {
    pipeline = datamesh_pipeline.aggregate.id
    secret_config_wo = {
      "spark.hadoop.fs.s3a.access.key"    = ephemeral.datamesh_consumer_credentials.sales.access_key_id
      "spark.hadoop.fs.s3a.secret.key"    = ephemeral.datamesh_consumer_credentials.sales.secret_access_key
      "spark.hadoop.fs.s3a.session.token" = ephemeral.datamesh_consumer_credentials.sales.session_token
    }
  }
}
"#;
    tf.write_file("action.tf", action);
    b.block_on(s.put_object(&raw, "in/part-3.csv", b"d,5\n".to_vec(), None)).unwrap();
    let invoked = tf.run_ok(&["apply", "-auto-approve", "-no-color", "-invoke=action.datamesh_run_pipeline.rerun"]);
    assert!(
        invoked.contains("Submitted Spark driver") && invoked.contains("FINISHED"),
        "progress streamed:\n{invoked}"
    );
    assert_eq!(job_output(&b, &daily, "agg/"), "a,2,4\nb,1,2\nc,1,10\nd,1,5\n", "the rerun saw the new object");
    assert_eq!(tf.resource("datamesh_pipeline.aggregate")["job_id"], again["job_id"], "state unchanged");
    std::fs::remove_file(tf.path().join("action.tf")).unwrap();

    // A bad argument: the driver fails, the apply says so, the resource is tainted.
    let bad = spark_pipeline(
        "broken",
        "datamesh_data_product.daily.id",
        "datamesh_data_product.summary.id",
        "\"--bogus\"",
        "    timeout_seconds = 300",
    );
    tf.write(&spark_hcl(&p, &format!("{}{summarize}{bad}", aggregate("2"))));
    let failed = tf.apply_fails();
    assert!(failed.contains("ended FAILED") || failed.contains("ended ERROR"), "{failed}");
    let show: Json =
        serde_json::from_str(tf.run_ok(&["show", "-json"]).lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    let broken = show["values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "datamesh_pipeline.broken")
        .cloned()
        .expect("recorded");
    assert_eq!(broken["tainted"], true, "{broken}");

    // wait = false returns while the driver runs; destroy kills it.
    let slow = spark_pipeline(
        "slow",
        "datamesh_data_product.daily.id",
        "datamesh_data_product.summary.id",
        &format!(
            "\"--input\", \"s3a://{daily}/agg/\", \"--output\", \"s3a://{summary}/slow/\", \"--hold-seconds\", \"600\""
        ),
        "    wait = false",
    );
    tf.write(&spark_hcl(&p, &format!("{}{summarize}{slow}", aggregate("2"))));
    tf.apply();
    let slow_state = tf.resource("datamesh_pipeline.slow");
    assert_eq!(slow_state["state"], "RUNNING", "{slow_state}");
    let slow_driver = slow_state["job_id"].as_str().unwrap().to_string();
    tf.destroy();
    assert_eq!(spark_driver_state(&slow_driver), "KILLED", "destroy killed the running driver");
}

// -------------------------------------------------------------------------------- Governance --

#[test]
fn each_lineage_rule_fails_the_plan_at_its_attribute() {
    let tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let jar = stack_var("DATAMESH_PIPELINE_FLINK_JAR");
    let base = format!(
        r#"
{domains}
{customers}
{internal}
{confidential}
resource "datamesh_access_grant" "customers" {{
  consumer_domain = datamesh_domain.sales.name
  data_product    = datamesh_data_product.customers.id
  purpose         = "analytics"
}}
"#,
        domains = plain_domains(&p),
        customers = product("customers", "crm", "confidential", "  contains_pii   = true\n"),
        internal = product("internal", "sales", "internal", ""),
        confidential = product("confidential", "sales", "confidential", ""),
    );
    tf.write(&base);
    tf.apply();
    // An expired grant, as the catalog would hold it once its time passed.
    let expired = serde_json::json!({
        "id": format!("{p}-sales:{p}-crm/old"), "consumer_domain": format!("{p}-sales"),
        "data_product": format!("{p}-crm/old"), "access": "read", "purpose": "once",
        "expires_at": "2026-01-01T00:00:00Z", "policy_name": "none"
    });
    b.block_on(b.catalog().put(&format!("grants/{p}-sales/{p}-crm/old.json"), &expired)).unwrap();

    let pipeline = |inputs: &str, outputs: &str| {
        format!(
            r#"{base}
resource "datamesh_pipeline" "x" {{
  domain      = datamesh_domain.sales.name
  name        = "xform"
  engine      = "flink"
  inputs      = [{inputs}]
  outputs     = [{outputs}]
  artifact    = "{jar}"
  entry_class = "datamesh.examples.StreamEnrich"
}}
"#
        )
    };
    let cases = [
        (
            "datamesh_data_product.customers.id",
            "datamesh_data_product.confidential.id",
            "Input neither owned nor granted",
            "inputs",
        ),
        (&*format!("\"{p}-sales:{p}-crm/old\""), "datamesh_data_product.confidential.id", "Expired grant", "inputs"),
        (
            "datamesh_data_product.confidential.id",
            "datamesh_data_product.customers.id",
            "Output of another domain",
            "outputs",
        ),
        (
            "datamesh_data_product.confidential.id",
            "datamesh_data_product.internal.id",
            "Output less sensitive than its input",
            "outputs",
        ),
        (
            "datamesh_access_grant.customers.id",
            "datamesh_data_product.confidential.id",
            "Output drops the personal-data flag",
            "outputs",
        ),
    ];
    for (inputs, outputs, summary, attr) in cases {
        tf.write(&pipeline(inputs, outputs));
        let out = tf.plan_fails();
        assert!(out.contains(summary), "{summary}: {out}");
        assert!(out.contains(&format!("{attr} ")) && out.contains("datamesh_pipeline.x"), "at {attr}: {out}");
        let errors = out.matches("Error: ").count();
        assert_eq!(errors, 1, "only the rule at hand fails ({summary}):\n{out}");
    }
    // The pipeline that keeps every rule plans, once the output says it holds personal data.
    // The rules read the catalog, so that change is applied first: a plan cannot see another
    // resource's planned values.
    let with_pii = base.replace(
        "classification = \"confidential\"\n}\n\nresource \"datamesh_access_grant\"",
        "classification = \"confidential\"\n  contains_pii   = true\n}\n\nresource \"datamesh_access_grant\"",
    );
    assert_ne!(with_pii, base);
    tf.write(&with_pii);
    tf.apply();
    tf.write(
        &pipeline("datamesh_access_grant.customers.id", "datamesh_data_product.confidential.id")
            .replace(&base, &with_pii),
    );
    let ok = tf.run(&["plan", "-no-color"]);
    assert!(ok.status.success(), "{}", combined(&ok));
    tf.write(&with_pii);
}

// ------------------------------------------------------------------------ Refresh cost --

#[test]
fn a_refresh_of_several_flink_pipelines_reads_the_job_listing_once() {
    let mut tf = Tf::new();
    let proxy = crate::support::proxy::Proxy::to(&flink_rest());
    tf.provider_config(&format!("  flink {{\n    rest_url = \"{}\"\n  }}\n", proxy.url()));
    let p = tf.prefix.clone();
    tf.env("TF_VAR_pw_crm", "crm-secret-1");
    tf.env("TF_VAR_pw_sales", "sales-refresh-secret-1");
    // The Flink test's mesh, with two more pipelines beside its one, each its own consumer group.
    let mut hcl = flink_hcl(&p, None, true);
    let one = hcl[hcl.find("resource \"datamesh_pipeline\"").unwrap()..].to_string();
    for n in 2..=3 {
        hcl.push_str(
            &one.replace("\"enrich\" {", &format!("\"enrich{n}\" {{"))
                .replace("name        = \"enrich\"", &format!("name        = \"enrich-{n}\""))
                .replace(".enrich\"", &format!(".enrich-{n}\"")),
        );
    }
    tf.write(&hcl);
    tf.apply();
    let jobs: Vec<String> = ["enrich", "enrich2", "enrich3"]
        .iter()
        .map(|r| tf.resource(&format!("datamesh_pipeline.{r}"))["job_id"].as_str().expect("job_id").to_string())
        .collect();
    assert_eq!(jobs.iter().collect::<std::collections::BTreeSet<_>>().len(), 3, "three jobs: {jobs:?}");
    let before = proxy.requests().len();
    tf.assert_no_changes();
    let refresh: Vec<String> = proxy.requests()[before..].to_vec();
    let overviews = refresh.iter().filter(|r| r.starts_with("GET /jobs/overview ")).count();
    assert_eq!(overviews, 1, "one listing for three pipelines: {refresh:?}");
    assert_eq!(refresh.len(), 1, "and no call per pipeline: {refresh:?}");
    eprintln!("refresh of 3 Flink pipelines: {} Flink request(s): {refresh:?}", refresh.len());
    tf.destroy();
}

// ------------------------------------------------------------------------------- Faults --

/// Flink's own view of `job` on the JobManager at `rest`: its state, or why there is none.
fn job_state_at(rest: &str, job: &str) -> String {
    match http().get(format!("{rest}/jobs/{job}")).send() {
        Ok(r) if r.status().is_success() => {
            r.json::<Json>().ok().and_then(|j| j["state"].as_str().map(str::to_string)).unwrap_or_default()
        }
        Ok(r) => format!("HTTP {}", r.status()),
        Err(e) => format!("unreachable: {e}"),
    }
}

#[test]
fn a_flink_jobmanager_restarted_under_a_running_pipeline_fails_plans_clearly_then_the_next_apply_restarts_it() {
    // A Flink cluster of this test's own: its JobManager is stopped and started again.
    let flink = crate::support::PrivateStack::start("flink", &[], &[]);
    let rest = flink.var("DATAMESH_FLINK_REST_URL");
    let mut tf = Tf::new();
    tf.provider_config(&format!("  flink {{\n    rest_url        = \"{rest}\"\n    timeout_seconds = 10\n  }}\n"));
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let (crm, sales) = (format!("{p}-crm"), format!("{p}-sales"));
    tf.env("TF_VAR_pw_crm", "crm-secret-2");
    tf.env("TF_VAR_pw_sales", "sales-restart-secret-2");
    let (input, output) = (format!("{crm}.customers.changes"), format!("{sales}.enriched.counts"));
    tf.write(&flink_hcl(&p, None, true));
    tf.apply();
    let first = tf.resource("datamesh_pipeline.enrich");
    let job = first["job_id"].as_str().expect("job_id").to_string();
    assert_eq!(job_state_at(&rest, &job), "RUNNING");
    let mut out = Reader::new(&sales, "sales-restart-secret-2", &output);
    produce(&b, &crm, "crm-secret-2", &input, &["k1,a"]);
    out.until_seen(&["k1,1,a"]);

    // The JobManager goes away: a plan fails with an error that names Flink, within the
    // timeouts (a few tries of 10 s), and changes nothing.
    flink.stop("flink-jobmanager");
    let t = Instant::now();
    let down = tf.plan_fails();
    eprintln!("flink restart: plan with the JobManager down failed after {:?}", t.elapsed());
    assert!(down.contains("Flink"), "the error names Flink:\n{down}");
    assert!(
        t.elapsed() < Duration::from_secs(180),
        "the plan gave up within its timeouts, not after {:?}",
        t.elapsed()
    );
    assert_eq!(tf.resource("datamesh_pipeline.enrich")["job_id"], first["job_id"], "state unchanged");

    // It comes back without the job (no high availability): the next plan sees the pipeline
    // is not running and plans it back; the apply starts it on the new JobManager.
    flink.respawn("flink-jobmanager");
    wait_until("the TaskManager registered with the new JobManager", Duration::from_secs(180), |last| {
        let overview = http().get(format!("{rest}/overview")).send().ok()?.json::<Json>().ok()?;
        *last = overview.to_string();
        (overview["taskmanagers"].as_i64() == Some(1) && overview["slots-available"].as_i64() > Some(0)).then_some(())
    });
    assert_eq!(job_state_at(&rest, &job), "HTTP 404 Not Found", "the new JobManager does not know the old job");
    assert_eq!(tf.planned_actions("datamesh_pipeline.enrich"), vec!["update"]);
    tf.apply();
    let again = tf.resource("datamesh_pipeline.enrich");
    let new_job = again["job_id"].as_str().expect("job_id").to_string();
    assert_ne!(new_job, job, "a new job");
    assert_eq!((again["state"].as_str(), job_state_at(&rest, &new_job).as_str()), (Some("RUNNING"), "RUNNING"));
    tf.assert_no_changes();

    // Proof by data: records flow again (the keyed count starts over, since no savepoint
    // outlived the old JobManager; whether the job reads k1,a again depends on the offsets its
    // group committed).
    produce(&b, &crm, "crm-secret-2", &input, &["k1,b"]);
    wait_until("a record written by the restarted job", Duration::from_secs(120), |last| {
        out.poll_once();
        *last = format!("{:?}", out.seen);
        out.seen.iter().any(|s| s.starts_with("k1,") && s.ends_with(",b")).then_some(())
    });
    tf.destroy();
    assert_eq!(job_state_at(&rest, &new_job), "FINISHED", "destroy stopped the job with a savepoint");
}

#[test]
fn a_spark_master_restarted_during_a_batch_fails_the_apply_at_once_and_the_next_apply_runs_it_again() {
    // A Spark cluster of this test's own: its master is stopped and started again.
    let spark = crate::support::PrivateStack::start("spark", &[], &[]);
    let (rest, master, webui) = (
        spark.var("DATAMESH_SPARK_REST_URL"),
        spark.var("DATAMESH_SPARK_MASTER_URL"),
        spark.var("DATAMESH_SPARK_MASTER_WEBUI_URL"),
    );
    // The provider reaches the REST server through the fault proxy, which shows when it has
    // the driver's ID (it asks for its status): the master must go only then, or the create
    // itself goes unanswered (a different fault, reported as one the provider never resends).
    let proxy = crate::support::proxy::Proxy::to(&rest);
    let mut tf = Tf::new();
    tf.provider_config(&format!(
        "  spark {{\n    rest_url   = \"{}\"\n    master_url = \"{master}\"\n  }}\n",
        proxy.url()
    ));
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let (raw, daily) = (format!("{p}-{p}-crm-raw"), format!("{p}-{p}-sales-daily"));
    // The Spark test's mesh with its first pipeline only (no lineage or ODPS reads).
    let hcl = |hold: &str| {
        let pipeline = spark_pipeline(
            "aggregate",
            "datamesh_access_grant.raw.id",
            "datamesh_data_product.daily.id",
            &format!("\"--input\", \"s3a://{raw}/in/\", \"--output\", \"s3a://{daily}/agg/\"{hold}"),
            "",
        );
        let all = spark_hcl(&p, &pipeline);
        let (head, tail) = all.split_once("data \"datamesh_lineage\"").expect("the lineage read");
        let credentials = tail.find("ephemeral \"datamesh_consumer_credentials\"").expect("the credentials");
        format!("{head}{}", &tail[credentials..])
    };
    let products = spark_hcl(&p, "");
    tf.write(products.split("data \"datamesh_lineage\"").next().expect("the products"));
    tf.apply();
    b.block_on(b.storage().put_object(&raw, "in/part-1.csv", b"a,1\nb,2\n".to_vec(), None)).unwrap();

    // The batch runs (held long after its work), the master goes away and comes back without
    // it: the apply fails as soon as the master answers again, saying the run is gone.
    tf.write(&hcl(", \"--hold-seconds\", \"900\""));
    let active = || -> Vec<Json> {
        get_json(&format!("{webui}/json/"))["activedrivers"].as_array().cloned().unwrap_or_default()
    };
    std::thread::scope(|s| {
        let apply = s.spawn(|| tf.apply_fails());
        let driver = wait_until("the batch's driver RUNNING", Duration::from_secs(300), |last| {
            let drivers = active();
            *last = format!("{drivers:?}");
            drivers.iter().find(|d| d["state"] == "RUNNING").and_then(|d| d["id"].as_str().map(str::to_string))
        });
        wait_until("the provider asking for the driver's status", Duration::from_secs(300), |last| {
            let asked = proxy.requests();
            *last = format!("{asked:?}");
            asked.iter().any(|r| r.starts_with(&format!("GET /v1/submissions/status/{driver} "))).then_some(())
        });
        spark.stop("spark-master");
        spark.respawn("spark-master");
        let t = Instant::now();
        let failed = apply.join().expect("the apply's thread");
        eprintln!("spark restart: the apply ended {:?} after the master was started again", t.elapsed());
        assert!(failed.contains(&format!("Spark driver {driver} is gone")), "{failed}");
        assert!(t.elapsed() < Duration::from_secs(300), "not the whole timeout: {:?}", t.elapsed());
    });
    // State tells the truth: the run that did not finish is tainted, so the next apply replaces it.
    let show: Json =
        serde_json::from_str(tf.run_ok(&["show", "-json"]).lines().find(|l| l.starts_with('{')).expect("JSON"))
            .unwrap();
    let agg = show["values"]["root_module"]["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["address"] == "datamesh_pipeline.aggregate"))
        .cloned()
        .expect("the pipeline is in state");
    assert_eq!(agg["tainted"], true, "{agg}");

    // Once the worker is back with the new master, the next apply runs the batch anew.
    wait_until("the worker registered with the new master", Duration::from_secs(180), |last| {
        let m = get_json(&format!("{webui}/json/"));
        *last = m.to_string();
        (m["aliveworkers"].as_i64() == Some(1)).then_some(())
    });
    assert!(active().is_empty(), "the old driver is not left running: {:?}", active());
    tf.write(&hcl(""));
    assert_eq!(tf.planned_actions("datamesh_pipeline.aggregate"), vec!["delete", "create"]);
    tf.apply();
    assert_eq!(tf.resource("datamesh_pipeline.aggregate")["state"], "FINISHED");
    assert_eq!(job_output(&b, &daily, "agg/"), "a,1,1\nb,1,2\n");
    tf.assert_no_changes();
    tf.destroy();
}
