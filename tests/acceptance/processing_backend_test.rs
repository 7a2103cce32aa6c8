//! The processing backends (`backends::flink`, `backends::spark`) against the stack's real
//! Flink session cluster and Spark standalone master: every `Processing` method, checked by
//! what the engine reports back and by what the jobs themselves write to files (a state over
//! REST alone would not prove that the job's code ran, or ran once).
//!
//! The jobs are `tests/acceptance/jobs/FlinkPipelineJob.java` and `SparkPipelineMain.java`,
//! compiled here with the smoke tests' `build_jar`. Flink's TaskManager has six slots and
//! Spark's worker room for a few drivers, and both are shared with the smoke and pipeline tests: the Flink
//! tests here take turns ([`FLINK`]), and so do the Spark ones ([`SPARK`]).
//!
//! Start the engines with `STACK_SERVICES=flink,spark bash scripts/stack-up.sh DIR` and source
//! DIR/stack.env; without them every test fails and says so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use terraform_provider_datamesh::backends::flink::FlinkRest;
use terraform_provider_datamesh::backends::processing::{Artifact, JobSpec, JobStatus};
use terraform_provider_datamesh::backends::spark::SparkRest;
use terraform_provider_datamesh::backends::{ErrorKind, Processing};
use terraform_provider_datamesh::provider::settings::flink::FlinkSettings;
use terraform_provider_datamesh::provider::settings::spark::SparkSettings;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::engines_smoke_test::{build_jar, stack_var};
use crate::support::proxy::{Mode, Proxy};
use crate::support::unique;

/// How long a job may take to reach a state (JVMs start slowly on 2 cores).
const WAIT: Duration = Duration::from_secs(120);

/// Taken by each Flink test: one job of these tests at a time.
static FLINK: Mutex<()> = Mutex::const_new(());
/// Taken by each Spark test: one driver of these tests at a time.
static SPARK: Mutex<()> = Mutex::const_new(());

const FLINK_CLASS: &str = "datamesh.smoke.FlinkPipelineJob";
const SPARK_CLASS: &str = "datamesh.smoke.SparkPipelineMain";

fn flink_settings(rest_url: &str) -> FlinkSettings {
    FlinkSettings { rest_url: Some(rest_url.into()), savepoint_dir: None, timeout: Duration::from_secs(30) }
}

fn flink_at(settings: FlinkSettings) -> FlinkRest {
    FlinkRest::new(&settings, CancellationToken::new()).unwrap()
}

fn spark_at(rest_url: &str, timeout: Duration) -> SparkRest {
    let settings = SparkSettings {
        rest_url: Some(rest_url.into()),
        master_url: Some(stack_var("DATAMESH_SPARK_MASTER_URL")),
        timeout,
    };
    SparkRest::new(&settings, CancellationToken::new()).unwrap()
}

/// A temp dir with the Flink job compiled against the stack's Flink; the dir and the jar.
fn flink_jar() -> (tempfile::TempDir, Vec<u8>) {
    let home = stack_var("DATAMESH_FLINK_HOME");
    let dir = tempfile::tempdir().unwrap();
    let jar = build_jar(dir.path(), "FlinkPipelineJob.java", Some(format!("{home}/lib/*")), &unique('f'));
    let bytes = std::fs::read(jar).unwrap();
    (dir, bytes)
}

/// The Flink job writing to `out` in `mode`, named `name`, with `probe` as `datamesh.probe`.
fn flink_job(name: &str, jar: &[u8], out: &Path, mode: &str, probe: &str) -> JobSpec {
    JobSpec {
        name: name.into(),
        artifact: Artifact::Bytes { file_name: "pipeline.jar".into(), bytes: jar.to_vec() },
        entry_class: FLINK_CLASS.into(),
        args: vec![out.to_str().unwrap().into(), mode.into()],
        config: BTreeMap::from([
            ("datamesh.probe".to_string(), probe.to_string()),
            // A failing job ends FAILED at once instead of restarting.
            ("restart-strategy.type".to_string(), "none".to_string()),
        ]),
        parallelism: Some(1),
        savepoint: None,
        allow_non_restored_state: false,
        driver_memory: None,
        executor_memory: None,
        total_executor_cores: None,
    }
}

/// The Spark main writing to `out` in `mode`, from the jar at `jar`.
fn spark_job(name: &str, jar: &Path, out: &Path, mode: &str, probe: &str) -> JobSpec {
    JobSpec {
        name: name.into(),
        artifact: Artifact::Uri(format!("file://{}", jar.display())),
        entry_class: SPARK_CLASS.into(),
        args: vec![out.to_str().unwrap().into(), mode.into()],
        config: BTreeMap::from([
            ("spark.datamesh.probe".to_string(), probe.to_string()),
            ("spark.ui.enabled".to_string(), "false".to_string()),
        ]),
        parallelism: None,
        savepoint: None,
        allow_non_restored_state: false,
        driver_memory: Some("512m".into()),
        executor_memory: None,
        total_executor_cores: None,
    }
}

/// A temp dir with the Spark main compiled; the dir and the jar's path.
fn spark_jar() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let jar = build_jar(dir.path(), "SparkPipelineMain.java", None, &unique('s'));
    (dir, jar)
}

/// The lines of a file a job writes (none while it doesn't exist yet).
fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).map(|s| s.lines().map(str::to_string).collect()).unwrap_or_default()
}

/// Polls `id` until its state is `want`; a terminal state other than `want` fails at once.
async fn wait_state(engine: &dyn Processing, id: &str, want: &str) -> JobStatus {
    let started = Instant::now();
    loop {
        let last = match engine.status(id).await.unwrap() {
            Some(s) if s.state == want => return s,
            Some(s) => {
                assert!(!s.is_terminal(), "{:?} job {id} ended {s:?}, expected {want}", engine.engine());
                s
            }
            None => panic!("{:?} job {id} is unknown to the engine (expected {want})", engine.engine()),
        };
        assert!(started.elapsed() < WAIT, "{:?} job {id} not {want} within {WAIT:?}; last {last:?}", engine.engine());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits until `out` has at least `n` lines; returns them.
async fn wait_lines(out: &Path, n: usize) -> Vec<String> {
    let started = Instant::now();
    loop {
        let l = lines(out);
        if l.len() >= n {
            return l;
        }
        assert!(started.elapsed() < WAIT, "{} has {} lines, not {n}, after {WAIT:?}", out.display(), l.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The number of a Flink job's `n=<number>` line.
fn number(line: &str) -> u64 {
    line.strip_prefix("n=").and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("not an n=<number> line: {line:?}"))
}

/// The local directory of a savepoint location (`file:/...`), checked to hold `_metadata`.
fn savepoint_on_disk(location: &str, under: &str) -> PathBuf {
    let local = location.strip_prefix("file:").unwrap_or(location);
    let local = local.strip_prefix("//").unwrap_or(local);
    let dir = PathBuf::from(local);
    assert!(
        local.starts_with(under) && dir.join("_metadata").is_file(),
        "savepoint {location} should be a directory with _metadata under {under}"
    );
    dir
}

// ------------------------------------------------------------------------------------- Flink --

#[tokio::test]
async fn flink_job_runs_is_listed_savepoints_stops_resumes_and_cancels() {
    let _turn = FLINK.lock().await;
    let savepoints = stack_var("DATAMESH_FLINK_SAVEPOINT_DIR");
    let default_dir = format!("{savepoints}/{}", unique('d'));
    let flink = flink_at(FlinkSettings {
        savepoint_dir: Some(format!("file://{default_dir}")),
        ..flink_settings(&stack_var("DATAMESH_FLINK_REST_URL"))
    });
    let (dir, jar) = flink_jar();
    let name = format!("acc/{}", unique('p'));
    let probe = unique('v');
    let out = dir.path().join("first.out");

    let started = Instant::now();
    let id = flink.submit(&flink_job(&name, &jar, &out, "run", &probe)).await.unwrap();
    let running = wait_state(&flink, &id, "RUNNING").await;
    let to_running = started.elapsed();
    assert_eq!(running.name.as_deref(), Some(name.as_str()), "the job is named by pipeline.name");
    assert!(running.started_at_ms.is_some() && running.finished_at_ms.is_none(), "{running:?}");
    let first = wait_lines(&out, 3).await;
    let to_records = started.elapsed();
    assert_eq!(first[0], format!("probe={probe}"), "the run request's flinkConfiguration reached the job");

    let listed = flink.jobs().await.unwrap();
    let mine: Vec<_> = listed.iter().filter(|j| j.name.as_deref() == Some(name.as_str())).collect();
    assert_eq!(mine.len(), 1, "one job named {name} in {listed:?}");
    assert_eq!((mine[0].id.as_str(), mine[0].state.as_str()), (id.as_str(), "RUNNING"));

    // A savepoint into the settings' savepoint_dir; the job keeps running.
    let sp_started = Instant::now();
    let kept = flink.savepoint(&id, None).await.unwrap();
    let savepoint_took = sp_started.elapsed();
    savepoint_on_disk(&kept, &default_dir);
    assert_eq!(flink.status(&id).await.unwrap().unwrap().state, "RUNNING", "a savepoint keeps the job running");

    // Stop with a savepoint into a directory of the call's own.
    let target = format!("{savepoints}/{}", unique('s'));
    let stop_started = Instant::now();
    let stopped_at = flink.stop_with_savepoint(&id, Some(&format!("file://{target}"))).await.unwrap();
    let stop_took = stop_started.elapsed();
    savepoint_on_disk(&stopped_at, &target);
    let ended = wait_state(&flink, &id, "FINISHED").await;
    assert!(ended.finished_at_ms.is_some(), "{ended:?}");
    let last_before = number(lines(&out).last().unwrap());
    let listed = flink.jobs().await.unwrap();
    let state = listed.iter().find(|j| j.id == id).map(|j| j.state.clone());
    assert_eq!(state.as_deref(), Some("FINISHED"), "the stop cleared the cached listing: {listed:?}");

    // Resumed from the savepoint, it goes on where it stopped.
    let out2 = dir.path().join("resumed.out");
    let resumed = JobSpec { savepoint: Some(stopped_at.clone()), ..flink_job(&name, &jar, &out2, "run", &probe) };
    let second = flink.submit(&resumed).await.unwrap();
    assert_ne!(second, id);
    wait_state(&flink, &second, "RUNNING").await;
    let after = wait_lines(&out2, 2).await;
    assert_eq!(
        number(&after[1]),
        last_before + 1,
        "job {second}, resumed from {stopped_at}, should go on after n={last_before}, where job {id} stopped"
    );

    flink.cancel(&second).await.unwrap();
    let cancelled = wait_state(&flink, &second, "CANCELED").await;
    assert!(cancelled.is_terminal());
    flink.cancel(&second).await.unwrap(); // a job that has ended: fine
    eprintln!(
        "measured (Flink): submit -> RUNNING {to_running:.2?}, -> 3 lines written {to_records:.2?}; savepoint \
         {savepoint_took:.2?}; stop-with-savepoint {stop_took:.2?}"
    );
}

#[tokio::test]
async fn flink_jobs_that_fail_say_why() {
    let _turn = FLINK.lock().await;
    let flink = flink_at(flink_settings(&stack_var("DATAMESH_FLINK_REST_URL")));
    let (dir, jar) = flink_jar();

    // The main throws: the run request fails, with the program's own exception.
    let out = dir.path().join("throw.out");
    let e = flink.submit(&flink_job(&format!("acc/{}", unique('t')), &jar, &out, "throw", "x")).await.unwrap_err();
    assert_eq!((e.service, e.operation), ("Flink", "RunJar"), "{e}");
    assert!(e.message.contains("datamesh test job refuses to start: mode throw"), "{e}");
    assert!(!e.message.contains("\tat "), "a sentence, not a stack trace: {e}");

    // A task throws: the job ends FAILED, and its status says why.
    let out = dir.path().join("fail.out");
    let id = flink.submit(&flink_job(&format!("acc/{}", unique('f')), &jar, &out, "fail", "x")).await.unwrap();
    let started = Instant::now();
    let failed = loop {
        let s = flink.status(&id).await.unwrap().unwrap();
        if s.is_terminal() {
            break s;
        }
        assert!(started.elapsed() < WAIT, "job {id} has not failed: {s:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(failed.state, "FAILED", "{failed:?}");
    let message = failed.message.unwrap_or_else(|| panic!("a FAILED job {id} without a message"));
    assert!(message.contains("datamesh test job fails at record 1"), "{message}");
}

#[tokio::test]
async fn flink_unknown_jobs_are_none() {
    let flink = flink_at(flink_settings(&stack_var("DATAMESH_FLINK_REST_URL")));
    let nobody = format!("{:032x}", fastrand::u128(..));
    assert_eq!(flink.status(&nobody).await.unwrap(), None);
    assert_eq!(flink.status("not-a-job-id").await.unwrap(), None);
    flink.cancel(&nobody).await.unwrap();
    let e = flink.savepoint(&nobody, None).await.unwrap_err();
    assert!(e.is(ErrorKind::NotFound) && e.operation == "TriggerSavepoint", "{e}");
    let by_uri = JobSpec {
        artifact: Artifact::Uri("file:///x.jar".into()),
        ..flink_job("acc/x", b"", Path::new("/dev/null"), "run", "x")
    };
    assert!(flink.submit(&by_uri).await.unwrap_err().is(ErrorKind::Unsupported));
}

// A plain test: the proxy runs a runtime of its own, which cannot start or stop inside the
// test's.
#[test]
fn flink_through_the_fault_proxy_retries_what_never_left_and_never_runs_a_job_twice() {
    let rest = stack_var("DATAMESH_FLINK_REST_URL");
    let proxy = Proxy::to(&rest);
    tokio::runtime::Runtime::new().unwrap().block_on(flink_faults(&rest, &proxy));
}

async fn flink_faults(rest: &str, proxy: &Proxy) {
    let _turn = FLINK.lock().await;
    let flink = flink_at(FlinkSettings { timeout: Duration::from_secs(3), ..flink_settings(&proxy.url()) });
    let direct = flink_at(flink_settings(rest));
    let (dir, jar) = flink_jar();

    // Refused for a second: the calls never reached the JobManager and are retried.
    proxy.set_mode(Mode::Refuse);
    let handle = proxy.handle();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1000));
        handle.heal();
    });
    let name = format!("acc/{}", unique('r'));
    let id = flink.submit(&flink_job(&name, &jar, &dir.path().join("r.out"), "run", "x")).await.unwrap();
    wait_state(&flink, &id, "RUNNING").await;
    flink.cancel(&id).await.unwrap();
    wait_state(&direct, &id, "CANCELED").await;

    // The run request arrives but its answer is held past the timeout: an error naming the
    // job it may have started, and the request is not sent again.
    let handle = proxy.handle();
    proxy.on_request(b"\"entryClass\"", move || {
        handle.set_latency(Duration::from_secs(5));
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            handle.set_latency(Duration::ZERO);
        });
    });
    let name = format!("acc/{}", unique('l'));
    let e = flink.submit(&flink_job(&name, &jar, &dir.path().join("l.out"), "run", "x")).await.unwrap_err();
    assert_eq!(proxy.triggers_pending(), 0, "the run request was never seen");
    assert!(!e.is(ErrorKind::Transient) && e.operation == "RunJar", "{e}");
    assert!(e.message.contains("not sent again"), "{e}");
    let runs = proxy.requests().iter().filter(|r| r.contains("/run ")).count();
    assert_eq!(runs, 2, "one run request per submission: {:?}", proxy.requests());
    let started = e.message.rsplit("the job runs as ").next().unwrap_or_default().trim().to_string();
    wait_state(&direct, &started, "RUNNING").await;
    let named: Vec<_> =
        direct.jobs().await.unwrap().into_iter().filter(|j| j.name.as_deref() == Some(name.as_str())).collect();
    assert_eq!(named.len(), 1, "exactly one job named {name}: {named:?}");
    direct.cancel(&started).await.unwrap();
    wait_state(&direct, &started, "CANCELED").await;
}

// ------------------------------------------------------------------------------------- Spark --

#[tokio::test]
async fn spark_driver_runs_to_finished_and_a_failing_one_ends_failed_with_a_message() {
    let _turn = SPARK.lock().await;
    let spark = spark_at(&stack_var("DATAMESH_SPARK_REST_URL"), Duration::from_secs(30));
    let (dir, jar) = spark_jar();

    let name = format!("acc/{}", unique('s'));
    let probe = unique('v');
    let out = dir.path().join("ok.out");
    let started = Instant::now();
    let id = spark.submit(&spark_job(&name, &jar, &out, "ok", &probe)).await.unwrap();
    let finished = wait_state(&spark, &id, "FINISHED").await;
    let took = started.elapsed();
    assert_eq!((finished.id.as_str(), finished.message.as_deref()), (id.as_str(), None));
    assert_eq!(lines(&out), [format!("ran {name} probe={probe}")], "the driver ran once, with its name and config");

    let out = dir.path().join("throw.out");
    let id = spark.submit(&spark_job(&name, &jar, &out, "throw", &probe)).await.unwrap();
    let failed = wait_state(&spark, &id, "FAILED").await;
    let message = failed.message.unwrap_or_default();
    assert!(message.contains(&format!("work/{id}")), "the message says where the driver's reason is: {message}");
    assert_eq!(lines(&out).len(), 1, "the failing driver ran");
    eprintln!("measured (Spark): submit -> FINISHED {took:.2?}");
}

#[tokio::test]
async fn spark_kill_ends_a_running_driver_and_unknown_ids_are_none() {
    let _turn = SPARK.lock().await;
    let spark = spark_at(&stack_var("DATAMESH_SPARK_REST_URL"), Duration::from_secs(30));
    let (dir, jar) = spark_jar();
    let out = dir.path().join("sleep.out");
    let id = spark.submit(&spark_job(&format!("acc/{}", unique('k')), &jar, &out, "sleep", "x")).await.unwrap();
    wait_state(&spark, &id, "RUNNING").await;
    wait_lines(&out, 1).await;
    spark.cancel(&id).await.unwrap();
    wait_state(&spark, &id, "KILLED").await;
    spark.cancel(&id).await.unwrap(); // ended: fine

    assert_eq!(spark.status("driver-20000101000000-9999").await.unwrap(), None);
    spark.cancel("driver-20000101000000-9999").await.unwrap();
    assert!(spark.jobs().await.unwrap_err().is(ErrorKind::Unsupported));
    assert!(spark.savepoint(&id, None).await.unwrap_err().is(ErrorKind::Unsupported));
    assert!(spark.stop_with_savepoint(&id, None).await.unwrap_err().is(ErrorKind::Unsupported));
}

// A plain test: the proxy runs a runtime of its own, which cannot start or stop inside the
// test's.
#[test]
fn spark_through_the_fault_proxy_retries_what_never_left_and_never_submits_twice() {
    let rest = stack_var("DATAMESH_SPARK_REST_URL");
    let proxy = Proxy::to(&rest);
    tokio::runtime::Runtime::new().unwrap().block_on(spark_faults(&proxy));
}

async fn spark_faults(proxy: &Proxy) {
    let _turn = SPARK.lock().await;
    let spark = spark_at(&proxy.url(), Duration::from_secs(3));
    let (dir, jar) = spark_jar();

    proxy.set_mode(Mode::Refuse);
    let handle = proxy.handle();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1000));
        handle.heal();
    });
    let out = dir.path().join("refused.out");
    let id = spark.submit(&spark_job(&format!("acc/{}", unique('r')), &jar, &out, "ok", "x")).await.unwrap();
    wait_state(&spark, &id, "FINISHED").await;
    assert_eq!(lines(&out).len(), 1, "one driver ran");

    // The submission arrives but its answer is held past the timeout: an error, not a resend.
    let handle = proxy.handle();
    proxy.on_request(b"CreateSubmissionRequest", move || {
        handle.set_latency(Duration::from_secs(5));
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            handle.set_latency(Duration::ZERO);
        });
    });
    let out = dir.path().join("late.out");
    let e = spark.submit(&spark_job(&format!("acc/{}", unique('l')), &jar, &out, "ok", "x")).await.unwrap_err();
    assert_eq!(proxy.triggers_pending(), 0, "the submission was never seen");
    assert!(!e.is(ErrorKind::Transient) && e.operation == "CreateSubmission", "{e}");
    assert!(e.message.contains("not sent again"), "{e}");
    let creates = proxy.requests().iter().filter(|r| r.contains("/v1/submissions/create")).count();
    assert_eq!(creates, 2, "one create request per submission: {:?}", proxy.requests());
    // The driver it started runs once: give a second one time to show, then count.
    wait_lines(&out, 1).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(lines(&out).len(), 1, "exactly one driver ran the submission whose answer was lost");
}
