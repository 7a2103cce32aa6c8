"""Runs both example pipeline jobs on a local stack, over the engines' REST APIs, the way the
provider submits them, and checks what they wrote. Started by try.sh (which sources stack.env
and compiles KafkaTool.java); see ../README.md.

Flink: a Kafka user of its own (SCRAM, a password with a quote and a backslash) with only READ
on the input topic prefix, READ on the group prefix and WRITE on the output topic; the job runs
with its Kafka settings in flinkConfiguration, stops with a savepoint and resumes from it with
--tag v2, counts going on. Spark: objects in the stack's S3 (moto), the job submitted in cluster
mode with the s3a properties, the one CSV file it writes read back; a malformed line fails it.

Usage: python try.py [flink] [spark]   (default: both)
"""
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request

ENV = os.environ
WAIT = 180  # seconds a job may take to reach a state (JVMs start slowly on 2 cores)


def say(msg):
    print(f"try: {msg}", file=sys.stderr, flush=True)


def http(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def wait_until(what, probe):
    deadline = time.time() + WAIT
    last = None
    while time.time() < deadline:
        ok, last = probe()
        if ok:
            return last
        time.sleep(1)
    sys.exit(f"try: no {what} within {WAIT}s; last seen: {last}")


def kafka(*args, stdin=None):
    out = subprocess.run(ENV["KAFKA_TOOL"].split() + list(args), input=stdin, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"try: KafkaTool {' '.join(args)} failed: {out.stderr}")
    return out.stdout


def check(what, got, want):
    if got != want:
        sys.exit(f"try: {what}:\n  got  {got!r}\n  want {want!r}")
    say(f"ok: {what}")


# ------------------------------------------------------------------------------------ Flink --

def flink():
    rest = ENV["DATAMESH_FLINK_REST_URL"]
    run_id = "try" + secrets.token_hex(3)
    src, out, group, user = f"{run_id}-in-orders", f"{run_id}-out", f"{run_id}-g", f"{run_id}-job"
    password = 'p"w\\' + secrets.token_hex(6)  # a quote and a backslash: sasl.jaas.config escaping
    kafka("topics", src, out)
    kafka("user", user, stdin=password + "\n")
    kafka("acl", user, "TOPIC", "PREFIXED", f"{run_id}-in", "READ", "DESCRIBE")
    kafka("acl", user, "GROUP", "PREFIXED", f"{run_id}-g", "READ")
    kafka("acl", user, "TOPIC", "LITERAL", out, "WRITE")
    say(f"Kafka user {user}: READ/DESCRIBE on topics {run_id}-in*, READ on groups {run_id}-g*, WRITE on {out}")

    up = subprocess.run(["curl", "-sSf", "-X", "POST", "-F", f"jarfile=@{ENV['DATAMESH_PIPELINE_FLINK_JAR']}",
                         f"{rest}/jars/upload"], capture_output=True, text=True, check=True)
    jar = os.path.basename(json.loads(up.stdout)["filename"])
    config = {
        "pipeline.name": f"{run_id}-enrich",
        "datamesh.kafka.bootstrap.servers": ENV["DATAMESH_KAFKA_BOOTSTRAP_SERVERS"],
        "datamesh.kafka.security.protocol": ENV["DATAMESH_KAFKA_SECURITY_PROTOCOL"],
        "datamesh.kafka.sasl.mechanism": "SCRAM-SHA-512",
        "datamesh.kafka.username": user,
        "datamesh.kafka.password": password,
    }
    args = ["--input", src, "--output", out, "--group", f"{group}-1"]

    def run(extra_args, savepoint=None, configuration=config):
        body = {"entryClass": "datamesh.examples.StreamEnrich", "programArgsList": args + extra_args,
                "parallelism": 1, "flinkConfiguration": configuration}
        if savepoint:
            body.update(savepointPath=savepoint, allowNonRestoredState=False)
        return http("POST", f"{rest}/jars/{jar}/run", body)

    def state(job):
        return http("GET", f"{rest}/jobs/{job}")[1]

    def wait_state(job, want):
        def probe():
            s = state(job).get("state")
            if s != want and s in ("FAILED", "CANCELED", "FINISHED"):
                sys.exit(f"try: Flink job {job} ended {s}, expected {want}")
            return s == want, s
        wait_until(f"Flink job {job} {want}", probe)

    # A program argument it does not know fails the run request (main throws before any job).
    code, resp = run(["--bogus", "x"])
    check("an unknown argument fails the run", (code >= 400, "unknown argument '--bogus'" in json.dumps(resp)), (True, True))

    code, resp = run([])
    assert code == 200, resp
    job = resp["jobid"]
    wait_state(job, "RUNNING")
    check("the job is named by pipeline.name", state(job).get("name"), config["pipeline.name"])
    # The job's own configuration is in no REST answer (GET /jobs/:id/config has the user config,
    # /jobs/:id/jobmanager/config the cluster's); nor does the password reach a log.
    answers = json.dumps([http("GET", f"{rest}/jobs/{job}{p}")[1] for p in ("", "/config", "/jobmanager/config")])
    logs = [os.path.join(d, f) for d in (ENV["DATAMESH_STACK_DIR"], f"{ENV['DATAMESH_STACK_DIR']}/flink/log")
            for f in os.listdir(d) if f.endswith(".log")]
    leaks = [f for f in logs if password in open(f, errors="replace").read()]
    check("the Kafka password is in no Flink REST answer and no log", (password in answers, leaks), (False, []))

    kafka("produce", src, stdin="a,one\nb,two\nnocomma\n,emptykey\na,three\nc,\na,x,y\n")
    got = kafka("consume", out, "5").splitlines()
    check("first run's output", got, ["a\ta,1,one", "b\tb,1,two", "a\ta,2,three", "c\tc,1,", "a\ta,3,x,y"])

    _, trig = http("POST", f"{rest}/jobs/{job}/stop",
                   {"targetDirectory": f"{ENV['DATAMESH_FLINK_SAVEPOINT_DIR']}/{run_id}", "drain": False})

    def savepoint_done():
        _, s = http("GET", f"{rest}/jobs/{job}/savepoints/{trig['request-id']}")
        if s.get("status", {}).get("id") != "COMPLETED":
            return False, s
        if "failure-cause" in s["operation"]:
            sys.exit(f"try: savepoint failed: {s}")
        return True, s["operation"]["location"]
    savepoint = wait_until("savepoint", savepoint_done)
    wait_state(job, "FINISHED")
    say(f"stopped {job} with savepoint {savepoint}")

    code, resp = run(["--tag", "v2"], savepoint)
    assert code == 200, resp
    job2 = resp["jobid"]
    wait_state(job2, "RUNNING")
    kafka("produce", src, stdin="b,four\na,five\n")
    got = kafka("consume", out, "7").splitlines()[5:]
    check("resumed run's output (counts go on, tagged v2)", got, ["b\tb,2,four,v2", "a\ta,4,five,v2"])
    # Offsets are committed to the group when a checkpoint completes (every 2 s): a run without
    # the savepoint starts from them, with fresh counts.
    def committed():
        at = int(kafka("offset", f"{group}-1", src).strip())
        return at == 9, at
    since = time.time()
    wait_until(f"group {group}-1 committed offset 9 of {src}", committed)
    say(f"group {group}-1 committed offset 9 (all 9 input records) of {src} {time.time() - since:.1f}s after the output was read")
    http("PATCH", f"{rest}/jobs/{job2}?mode=cancel")
    wait_state(job2, "CANCELED")
    code, resp = run(["--tag", "v3"])
    assert code == 200, resp
    job3 = resp["jobid"]
    wait_state(job3, "RUNNING")
    kafka("produce", src, stdin="a,six\n")
    got = kafka("consume", out, "8").splitlines()[7:]
    check("a run without the savepoint starts at the group's committed offsets", got, ["a\ta,1,six,v3"])
    http("PATCH", f"{rest}/jobs/{job3}?mode=cancel")
    wait_state(job3, "CANCELED")
    http("DELETE", f"{rest}/jars/{jar}")


# ------------------------------------------------------------------------------------ Spark --

def spark():
    import boto3  # in the tools venv (moto's)

    rest, version = ENV["DATAMESH_SPARK_REST_URL"], ENV["DATAMESH_SPARK_VERSION"]
    run_id = "try" + secrets.token_hex(3)
    bucket = f"{run_id}-data"
    s3 = boto3.client("s3", endpoint_url=ENV["AWS_ENDPOINT_URL"], region_name=ENV["AWS_REGION"])
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="in/day=1/part-a.txt", Body=b"b,2\na,1\n\n   \n")
    s3.put_object(Bucket=bucket, Key="in/day=2/deeper/part-b.txt", Body=b"a,3\nc,-4\na, 10 \n")
    s3.put_object(Bucket=bucket, Key="bad/x.txt", Body=b"a,1\nnot a number,x\n")
    # Moto takes any session token; a real submitter passes STS credentials.
    s3a = {
        "spark.hadoop.fs.s3a.endpoint": ENV["AWS_ENDPOINT_URL"],
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.access.key": ENV["AWS_ACCESS_KEY_ID"],
        "spark.hadoop.fs.s3a.secret.key": ENV["AWS_SECRET_ACCESS_KEY"],
        "spark.hadoop.fs.s3a.session.token": "try-session-token",
        "spark.hadoop.fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider",
    }

    def submit(name, app_args):
        jar = ENV["DATAMESH_PIPELINE_SPARK_JAR"]
        body = {
            "action": "CreateSubmissionRequest", "appResource": jar, "mainClass": "datamesh.examples.BatchAggregate",
            "appArgs": app_args, "clientSparkVersion": version, "environmentVariables": {},
            "sparkProperties": {
                "spark.master": ENV["DATAMESH_SPARK_MASTER_URL"], "spark.submit.deployMode": "cluster",
                "spark.app.name": name, "spark.jars": jar, "spark.driver.supervise": "false",
                "spark.driver.memory": "512m", "spark.driver.cores": "1", "spark.executor.memory": "512m",
                "spark.ui.enabled": "false", **s3a,
            },
        }
        _, created = http("POST", f"{rest}/v1/submissions/create", body)
        assert created.get("success"), created
        sid = created["submissionId"]

        def ended():
            _, s = http("GET", f"{rest}/v1/submissions/status/{sid}")
            st = s.get("driverState")
            return st in ("FINISHED", "FAILED", "ERROR", "KILLED"), st
        state = wait_until(f"end of Spark driver {sid}", ended)
        say(f"driver {sid} ({name}) ended {state}; its log: {ENV['DATAMESH_STACK_DIR']}/spark/work/{sid}/stderr")
        return state, sid

    state, sid = submit(f"{run_id}-good", ["--input", f"s3a://{bucket}/in/", "--output", f"s3a://{bucket}/out/"])
    check("the aggregate driver's end", state, "FINISHED")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="out/").get("Contents", []))
    csvs = [k for k in keys if k.endswith(".csv")]
    say(f"output objects: {keys}")
    check("one CSV file in the output", len(csvs), 1)
    body = s3.get_object(Bucket=bucket, Key=csvs[0])["Body"].read().decode()
    check("the aggregate", body, "a,3,14\nb,1,2\nc,1,-4\n")

    state, sid = submit(f"{run_id}-bad", ["--input", f"s3a://{bucket}/bad/", "--output", f"s3a://{bucket}/bad-out/"])
    log = open(f"{ENV['DATAMESH_STACK_DIR']}/spark/work/{sid}/stderr", errors="replace").read()
    check("a malformed line fails the driver, naming the line",
          (state, "malformed line 'not a number,x' in s3a://" in log), ("FAILED", True))

    state, sid = submit(f"{run_id}-noargs", ["--input", f"s3a://{bucket}/in/"])
    log = open(f"{ENV['DATAMESH_STACK_DIR']}/spark/work/{sid}/stderr", errors="replace").read()
    check("a missing --output fails the driver", (state, "missing --output" in log), ("FAILED", True))


if __name__ == "__main__":
    which = sys.argv[1:] or ["flink", "spark"]
    for engine in which:
        {"flink": flink, "spark": spark}[engine]()
    say(f"all checks passed ({', '.join(which)})")
