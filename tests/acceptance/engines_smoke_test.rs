//! Smoke tests of the stack's data engines: one real job per engine, through the engine's own
//! REST API, against the session cluster / standalone master that `scripts/stack-up.sh` starts
//! (`STACK_SERVICES=flink,spark`).
//!
//! The jobs are compiled here from the sources in `tests/acceptance/jobs/` (`javac` against the
//! engine's jars, then `jar`), so no jar is ever committed. Each job writes to a file the test
//! reads back: a state reported over REST alone would not prove that the job's code ran.
//!
//! - Flink: a bounded job reaches `FINISHED` having written every record; a streaming job runs,
//!   stops with a savepoint (into the stack's savepoint dir), resumes from it where it stopped,
//!   and ends `CANCELED` when cancelled.
//! - Spark: a plain Java main submitted in cluster mode over the master's REST submission server
//!   ends `FINISHED`; one that exits 3 ends `FAILED`, having run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::blocking::{multipart, Client, Response};
use serde_json::{json, Value};

use crate::support::unique;

/// How long a job may take to reach a state (JVMs start slowly on 2 cores).
const WAIT: Duration = Duration::from_secs(120);

/// The stack's value of `name`; a missing one fails the test, naming how to start the stack.
pub(crate) fn stack_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: these tests need the stack's Flink and Spark. Start them with \
             `STACK_SERVICES=flink,spark bash scripts/stack-up.sh /tmp/fs-stack` (or all services) \
             and source its env: `. /tmp/fs-stack/stack.env`"
        )
    })
}

fn client() -> Client {
    Client::builder().timeout(Duration::from_secs(30)).build().expect("HTTP client")
}

/// The response's JSON body; anything but a 2xx status with JSON fails, with the body.
fn json_ok(what: &str, resp: reqwest::Result<Response>) -> Value {
    let resp = resp.unwrap_or_else(|e| panic!("{what}: request failed: {e}"));
    let status = resp.status();
    let body = resp.text().unwrap_or_else(|e| panic!("{what}: reading the body failed: {e}"));
    assert!(status.is_success(), "{what}: HTTP {status}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {body}"))
}

/// Polls `probe` until it returns `Some`, at most [`WAIT`]; the panic names `what` and the
/// last observation `probe` recorded.
fn wait_until<T>(what: &str, mut probe: impl FnMut(&mut String) -> Option<T>) -> T {
    let started = Instant::now();
    let mut last = String::from("nothing observed");
    loop {
        if let Some(v) = probe(&mut last) {
            return v;
        }
        assert!(started.elapsed() < WAIT, "no {what} within {WAIT:?}; last seen: {last}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Compiles `tests/acceptance/jobs/<source>` (against the jars of `classpath`, if any) and jars
/// it as `<dir>/<name>.jar`.
pub(crate) fn build_jar(dir: &Path, source: &str, classpath: Option<String>, name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/acceptance/jobs").join(source);
    let classes = dir.join(format!("{name}-classes"));
    let mut javac = Command::new("javac");
    javac.args(["--release", "17", "-nowarn", "-d"]).arg(&classes);
    if let Some(cp) = classpath {
        javac.arg("-cp").arg(cp);
    }
    let out = javac.arg(&src).output().expect("running javac (a JDK 17 must be on PATH)");
    assert!(out.status.success(), "javac {}: {}", src.display(), String::from_utf8_lossy(&out.stderr));
    let jar = dir.join(format!("{name}.jar"));
    let out = Command::new("jar")
        .arg("--create")
        .arg("--file")
        .arg(&jar)
        .arg("-C")
        .arg(&classes)
        .arg(".")
        .output()
        .expect("running jar (a JDK 17 must be on PATH)");
    assert!(out.status.success(), "jar {}: {}", jar.display(), String::from_utf8_lossy(&out.stderr));
    jar
}

/// The lines of a file a job writes (none while it doesn't exist yet).
fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).map(|s| s.lines().map(str::to_string).collect()).unwrap_or_default()
}

/// The number in a Flink job's output line `n=<number>`.
fn number(line: &str) -> u64 {
    line.strip_prefix("n=").and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("not an n=<number> line: {line:?}"))
}

// ------------------------------------------------------------------------------------- Flink --

const FLINK_JOB_CLASS: &str = "datamesh.smoke.FlinkSmokeJob";

/// The stack's Flink REST API, with the smoke job uploaded (deleted again on drop).
struct Flink {
    http: Client,
    url: String,
    jar_id: String,
    dir: tempfile::TempDir,
}

impl Flink {
    fn connect() -> Flink {
        let url = stack_var("DATAMESH_FLINK_REST_URL");
        let home = stack_var("DATAMESH_FLINK_HOME");
        let dir = tempfile::tempdir().expect("temp dir");
        let name = unique('f');
        let jar = build_jar(dir.path(), "FlinkSmokeJob.java", Some(format!("{home}/lib/*")), &name);
        let http = client();
        let part = multipart::Part::bytes(std::fs::read(&jar).expect("reading the job jar"))
            .file_name(format!("{name}.jar"))
            .mime_str("application/x-java-archive")
            .expect("mime type");
        let up = json_ok(
            "Flink POST /jars/upload",
            http.post(format!("{url}/jars/upload")).multipart(multipart::Form::new().part("jarfile", part)).send(),
        );
        assert_eq!(up["status"], "success", "Flink jar upload: {up}");
        let filename = up["filename"].as_str().unwrap_or_else(|| panic!("Flink jar upload names no file: {up}"));
        let jar_id = Path::new(filename).file_name().unwrap().to_string_lossy().into_owned();
        assert!(jar_id.ends_with(&format!("{name}.jar")), "uploaded jar id {jar_id} should end with {name}.jar");
        Flink { http, url, jar_id, dir }
    }

    /// A new output file for a job in this test's temp dir.
    fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.out"))
    }

    /// Runs the uploaded jar with these program arguments (from a savepoint, if given); the job id.
    fn run(&self, out: &Path, count: u64, delay_ms: u64, savepoint: Option<&str>) -> String {
        let mut body = json!({
            "entryClass": FLINK_JOB_CLASS,
            "programArgsList": [out.to_str().unwrap(), count.to_string(), delay_ms.to_string()],
            "parallelism": 1,
        });
        if let Some(path) = savepoint {
            body["savepointPath"] = json!(path);
            body["allowNonRestoredState"] = json!(false);
        }
        let what = format!("Flink POST /jars/{}/run", self.jar_id);
        let run = json_ok(&what, self.http.post(format!("{}/jars/{}/run", self.url, self.jar_id)).json(&body).send());
        run["jobid"].as_str().unwrap_or_else(|| panic!("{what} returned no jobid: {run}")).to_string()
    }

    fn state(&self, job: &str) -> String {
        let j = json_ok(&format!("Flink GET /jobs/{job}"), self.http.get(format!("{}/jobs/{job}", self.url)).send());
        j["state"].as_str().unwrap_or_default().to_string()
    }

    /// Waits until `job` is in state `want`; a terminal state other than `want` fails at once.
    fn wait_state(&self, job: &str, want: &str) {
        wait_until(&format!("Flink job {job} in state {want}"), |last| {
            let state = self.state(job);
            assert!(
                state == want || !["FAILED", "CANCELED", "FINISHED"].contains(&state.as_str()),
                "Flink job {job} ended {state}, expected {want} (see the stack's flink-*.log)"
            );
            *last = state;
            (*last == want).then_some(())
        })
    }

    /// Waits until `out` has at least `n` lines; returns them.
    fn wait_lines(&self, job: &str, out: &Path, n: usize) -> Vec<String> {
        wait_until(&format!("{n} output lines of Flink job {job} in {}", out.display()), |last| {
            let l = lines(out);
            *last = format!("{} lines, job {}", l.len(), self.state(job));
            (l.len() >= n).then_some(l)
        })
    }

    /// Stops `job` with a savepoint in `dir`; the savepoint's location.
    fn stop_with_savepoint(&self, job: &str, dir: &str) -> String {
        let what = format!("Flink POST /jobs/{job}/stop");
        let body = json!({"targetDirectory": dir, "drain": false});
        let trigger = json_ok(&what, self.http.post(format!("{}/jobs/{job}/stop", self.url)).json(&body).send());
        let id = trigger["request-id"].as_str().unwrap_or_else(|| panic!("{what} returned no request-id: {trigger}"));
        wait_until(&format!("savepoint of Flink job {job}"), |last| {
            let s = json_ok(
                "Flink GET /jobs/:id/savepoints/:trigger",
                self.http.get(format!("{}/jobs/{job}/savepoints/{id}", self.url)).send(),
            );
            *last = s.to_string();
            if s["status"]["id"] != "COMPLETED" {
                return None;
            }
            let op = &s["operation"];
            assert!(op.get("failure-cause").is_none(), "savepoint of Flink job {job} failed: {s}");
            Some(
                op["location"]
                    .as_str()
                    .unwrap_or_else(|| panic!("completed savepoint has no location: {s}"))
                    .to_string(),
            )
        })
    }

    fn cancel(&self, job: &str) {
        let resp =
            self.http.patch(format!("{}/jobs/{job}?mode=cancel", self.url)).send().expect("Flink PATCH /jobs/:id");
        let status = resp.status();
        assert!(
            status.is_success(),
            "Flink PATCH /jobs/{job}?mode=cancel: HTTP {status}: {}",
            resp.text().unwrap_or_default()
        );
    }
}

impl Drop for Flink {
    fn drop(&mut self) {
        let _ = self.http.delete(format!("{}/jars/{}", self.url, self.jar_id)).send();
    }
}

#[test]
fn flink_bounded_job_finishes_with_every_record_written() {
    let flink = Flink::connect();
    let out = flink.out("bounded");
    let job = flink.run(&out, 5, 0, None);
    flink.wait_state(&job, "FINISHED");
    let want: Vec<String> = (1..=5).map(|n| format!("n={n}")).collect();
    assert_eq!(lines(&out), want, "the FINISHED job {job} should have written n=1..n=5 to {}", out.display());
}

#[test]
fn flink_streaming_job_stops_with_a_savepoint_resumes_from_it_and_cancels() {
    let flink = Flink::connect();
    let savepoints = stack_var("DATAMESH_FLINK_SAVEPOINT_DIR");
    // Unbounded (count 0), one record per 20 ms.
    let first_out = flink.out("first");
    let first = flink.run(&first_out, 0, 20, None);
    flink.wait_state(&first, "RUNNING");
    flink.wait_lines(&first, &first_out, 3);

    let target = format!("{savepoints}/{}", unique('s'));
    let savepoint = flink.stop_with_savepoint(&first, &target);
    flink.wait_state(&first, "FINISHED");
    let local = savepoint.strip_prefix("file:").unwrap_or(&savepoint);
    assert!(
        local.starts_with(&target) && Path::new(local).join("_metadata").is_file(),
        "savepoint {savepoint} should be a directory with _metadata under {target}"
    );
    let before = lines(&first_out);
    let last_before = number(before.last().unwrap());

    let second_out = flink.out("resumed");
    let second = flink.run(&second_out, 0, 20, Some(&savepoint));
    flink.wait_state(&second, "RUNNING");
    let after = flink.wait_lines(&second, &second_out, 2);
    assert_eq!(
        number(&after[0]),
        last_before + 1,
        "job {second}, resumed from {savepoint}, should go on after n={last_before}, where job {first} stopped"
    );

    flink.cancel(&second);
    flink.wait_state(&second, "CANCELED");
}

// ------------------------------------------------------------------------------------- Spark --

/// Submits `datamesh.smoke.SparkSmokeMain OUT EXIT_CODE` in cluster mode over the master's REST
/// submission server and waits for its driver to end; returns the final driver state and what
/// the main wrote to OUT.
fn spark_submit(exit_code: i32) -> (String, String, String) {
    let rest = stack_var("DATAMESH_SPARK_REST_URL");
    let master = stack_var("DATAMESH_SPARK_MASTER_URL");
    let version = stack_var("DATAMESH_SPARK_VERSION");
    let dir = tempfile::tempdir().expect("temp dir");
    let name = unique('s');
    let jar = build_jar(dir.path(), "SparkSmokeMain.java", None, &name);
    let jar = jar.to_str().unwrap();
    let out = dir.path().join("driver.out");
    let http = client();
    let body = json!({
        "action": "CreateSubmissionRequest",
        "appResource": jar,
        "mainClass": "datamesh.smoke.SparkSmokeMain",
        "appArgs": [out.to_str().unwrap(), exit_code.to_string()],
        "clientSparkVersion": version,
        "environmentVariables": {},
        "sparkProperties": {
            "spark.master": master,
            "spark.submit.deployMode": "cluster",
            "spark.app.name": name,
            "spark.jars": jar,
            "spark.driver.supervise": "false",
            "spark.driver.memory": "512m",
            "spark.driver.cores": "1",
            "spark.ui.enabled": "false",
        },
    });
    let created = json_ok(
        "Spark POST /v1/submissions/create",
        http.post(format!("{rest}/v1/submissions/create")).json(&body).send(),
    );
    assert_eq!(created["success"], true, "Spark submission of {name} was refused: {created}");
    let id =
        created["submissionId"].as_str().unwrap_or_else(|| panic!("Spark submission has no id: {created}")).to_string();
    let state = wait_until(&format!("end of Spark driver {id} ({name})"), |last| {
        let s = json_ok(
            &format!("Spark GET /v1/submissions/status/{id}"),
            http.get(format!("{rest}/v1/submissions/status/{id}")).send(),
        );
        *last = s.to_string();
        let state = s["driverState"].as_str().unwrap_or_default();
        ["FINISHED", "FAILED", "ERROR", "KILLED"].contains(&state).then(|| state.to_string())
    });
    let wrote = std::fs::read_to_string(&out).unwrap_or_else(|e| {
        panic!(
            "Spark driver {id} ({name}) ended {state} without writing {}: {e} (see the stack's spark/work/{id})",
            out.display()
        )
    });
    (state, wrote, name)
}

#[test]
fn spark_cluster_mode_driver_runs_to_finished() {
    let (state, wrote, name) = spark_submit(0);
    assert_eq!(wrote, format!("ran {name} exit 0\n"), "what the driver of {name} wrote");
    assert_eq!(state, "FINISHED", "the driver of {name} exited 0 and should end FINISHED");
}

#[test]
fn spark_cluster_mode_driver_exiting_3_ends_failed() {
    let (state, wrote, name) = spark_submit(3);
    assert_eq!(wrote, format!("ran {name} exit 3\n"), "what the driver of {name} wrote");
    assert_eq!(state, "FAILED", "the driver of {name} exited 3 and should end FAILED");
}
