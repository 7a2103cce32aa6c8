#!/usr/bin/env python3
"""`make bench` driver (issue 6): runs every comparison side by side, writes bench/results.json
and bench/results.md, and prints the table. Standard library only; scripts/bench.sh prepares
the binaries, the tools and the local stack and calls this.

Sections (each figure is the median of --runs runs, interleaved with its comparison):
  startup    launch -> handshake -> schema -> Shutdown -> exit over gRPC with AutoMTLS, datamesh
             (release build) vs the Go null provider, driven by `datamesh-bench startup`
  terraform  `terraform providers schema -json` and `terraform plan -refresh=false` over N
             datamesh_stream vs N null_resource with the same Terraform; the plugin runs under
             `rusage-wrap`, which records its own peak RSS and CPU per launch
  apply      apply of the workload (products, streams, grants) through Terraform vs the same
             backend calls made directly (`datamesh-bench baseline`, concurrency 10) vs the same
             graph of terraform_data (Terraform alone); each on a fresh local stack
  refresh    `terraform plan` (refresh on) over N datamesh_stream plus N/10 data products in a few
             domains, for several N: wall time, and the backend requests it makes (Kafka by API,
             counted by `datamesh-bench kafka-proxy` in front of a private Apache Kafka broker,
             SASL/SCRAM logins included; S3 and IAM/STS from moto's request log). The streams
             are made directly and their state written from the one Terraform made, so setup
             stays fast at N = 5,000
  peer       against the mongey/kafka provider (Go): N topics each readable by a consumer
             (theirs: kafka_topic + a kafka_acl per topic; ours: datamesh_stream + a
             datamesh_access_grant per product) and the topics alone, apply / plan (refresh on,
             no changes) / destroy on fresh private brokers behind the counting proxy: wall,
             plugin CPU and peak RSS, Kafka requests by API, ratios and the issue's goals

Every Kafka client (Terraform's provider, `datamesh-bench baseline` and `refresh-setup`) logs in
to the stack's Apache Kafka with SASL/SCRAM as its admin, from the DATAMESH_KAFKA_* variables of
the stack's stack.env (broker ACLs are on; the workloads set manage_acls = false).

Benchmarks are reports, never assertions: targets are shown as met or not, the exit code only
says whether the measurements could be taken.
"""

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SECTIONS = ("startup", "terraform", "apply", "refresh", "peer")


def say(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b):
    return None if a is None or not b else a / b


# ------------------------------------------------------------------ startup ----

def bench_startup(args):
    runs = max(args.runs, args.startup_runs)
    say(f"start-up: {runs} runs each, interleaved (plus one warm-up each)")
    out = subprocess.run(
        [str(args.harness / "datamesh-bench"), "startup", "--runs", str(runs),
         "--target", f"datamesh={args.provider}:6:datamesh_stream",
         "--target", f"null={args.null}:5:null_resource",
         *[a for label, path in args.extra_provider for a in ("--target", f"{label}={path}:6:datamesh_stream")]],
        check=True, capture_output=True, text=True,
    )
    raw = json.loads(out.stdout)
    res = {"raw": raw, "median": {}}
    for name, r in raw.items():
        runs = r["runs"]
        res["median"][name] = {k: median([s[k] for s in runs]) for k in runs[0]}
    d, n = res["median"]["datamesh"], res["median"]["null"]
    res["ratio"] = {k: ratio(d[k], n[k]) for k in ("total_ms", "handshake_ms", "schema_ms", "maxrss_kb", "cpu_ms")}
    return res


# ---------------------------------------------------------------- terraform ----

class Plugin:
    """A dev_overrides directory whose plugin binary is rusage-wrap in front of the real one."""

    def __init__(self, root, address, name, real, harness, dirname=None):
        self.dir = root / (dirname or f"plugins-{name}")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.address = address
        self.exe = self.dir / f"terraform-provider-{name}"
        shutil.copy2(harness / "rusage-wrap", self.exe)
        Path(f"{self.exe}.real").write_text(str(real) + "\n")
        self.log = Path(f"{self.exe}.rusage.jsonl")

    def cli_config(self, path):
        path.write_text(
            "provider_installation {\n  dev_overrides {\n"
            f"    \"{self.address}\" = \"{self.dir}\"\n"
            "  }\n  direct {}\n}\n"
        )

    def take_launches(self):
        """The plugin launches recorded since the last call."""
        if not self.log.exists():
            return []
        lines = self.log.read_text().splitlines()
        self.log.unlink()
        return [json.loads(l) for l in lines if l.strip()]


def terraform_env(cli_config, extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env.update({
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
    })
    env.update(extra or {})
    return env


def run_tf(tf, wd, env, *argv, timeout=3600):
    start = time.perf_counter()
    p = subprocess.run([tf, *argv], cwd=wd, env=env, capture_output=True, text=True, timeout=timeout)
    wall = (time.perf_counter() - start) * 1e3
    if p.returncode != 0:
        raise RuntimeError(f"terraform {' '.join(argv)} in {wd} failed ({p.returncode}):\n{p.stderr[-4000:]}\n{p.stdout[-2000:]}")
    return wall, p.stdout


def launch_summary(launches):
    return {
        "launches": len(launches),
        "cpu_ms": sum(l["utime_ms"] + l["stime_ms"] for l in launches),
        "utime_ms": sum(l["utime_ms"] for l in launches),
        "stime_ms": sum(l["stime_ms"] for l in launches),
        "peak_rss_kb": max((l["maxrss_kb"] for l in launches), default=None),
        "plugin_wall_ms": sum(l["wall_ms"] for l in launches),
    }


DATAMESH_HEAD = """terraform {
  required_providers {
    datamesh = { source = "datamesh/datamesh" }
  }
}

provider "datamesh" {
  name_prefix = "bench"
  aws {
    s3_force_path_style = true
  }
  kafka {
    default_replication_factor = 1
    manage_acls                = false
  }
}
"""

NULL_HEAD = """terraform {
  required_providers {
    null = { source = "hashicorp/null" }
  }
}
"""


def bench_terraform(args, work):
    n = args.plan_resources
    say(f"terraform round trip: providers schema -json and plan -refresh=false over {n} resources, {args.runs} runs each")
    plugins = {
        "datamesh": Plugin(work, "registry.terraform.io/datamesh/datamesh", "datamesh", args.provider, args.harness),
        "null": Plugin(work, "registry.terraform.io/hashicorp/null", "null", args.null, args.harness),
    }
    for label, path in args.extra_provider:
        plugins[label] = Plugin(work, "registry.terraform.io/datamesh/datamesh", "datamesh", Path(path), args.harness,
                                dirname=f"plugins-{label}")
    configs = {
        "datamesh": DATAMESH_HEAD + f"""
resource "datamesh_stream" "s" {{
  count        = {n}
  data_product = "bench/orders"
  name         = "s${{count.index}}"
  partitions   = 1
}}
""",
        "null": NULL_HEAD + f"""
resource "null_resource" "n" {{
  count    = {n}
  triggers = {{ name = "s${{count.index}}" }}
}}
""",
    }
    for label, _ in args.extra_provider:
        configs[label] = configs["datamesh"]
    dirs = {}
    for name, plugin in plugins.items():
        wd = work / f"tf-{name}"
        wd.mkdir(exist_ok=True)
        (wd / "main.tf").write_text(configs[name])
        plugin.cli_config(wd / "terraform.rc")
        dirs[name] = wd
    samples = {name: {"schema": [], "plan": []} for name in plugins}
    for i in range(args.runs + 1):  # run 0 is a warm-up, discarded
        for name, plugin in plugins.items():
            env = terraform_env(dirs[name] / "terraform.rc")
            plugin.take_launches()
            wall, out = run_tf(args.terraform, dirs[name], env, "providers", "schema", "-json")
            if ("null_resource" if name == "null" else "datamesh_stream") not in out:
                raise RuntimeError(f"providers schema -json for {name} lacks its resources")
            schema = {"wall_ms": wall, **launch_summary(plugin.take_launches())}
            wall, out = run_tf(args.terraform, dirs[name], env, "plan", "-refresh=false", "-input=false", "-lock=false", "-no-color")
            if f"{n} to add" not in out:
                raise RuntimeError(f"plan for {name} did not plan {n} resources:\n{out[-2000:]}")
            plan = {"wall_ms": wall, **launch_summary(plugin.take_launches())}
            if i > 0:
                samples[name]["schema"].append(schema)
                samples[name]["plan"].append(plan)
    res = {"resources": n, "raw": samples, "median": {}, "ratio": {}}
    keys = ("wall_ms", "cpu_ms", "peak_rss_kb", "launches", "plugin_wall_ms")
    for name in plugins:
        res["median"][name] = {op: {k: median([s[k] for s in samples[name][op]]) for k in keys} for op in ("schema", "plan")}
    for op in ("schema", "plan"):
        d, nl = res["median"]["datamesh"][op], res["median"]["null"][op]
        res["ratio"][op] = {k: ratio(d[k], nl[k]) for k in ("wall_ms", "cpu_ms", "peak_rss_kb")}
    return res


# -------------------------------------------------------------------- apply ----

def moto_log(stack_dir):
    """moto's log in a stack: the s3 service's (scripts/stack/s3.sh spawns it as `s3`)."""
    return Path(stack_dir) / "s3.log"


def moto_requests(stack_dir):
    """Requests moto has logged so far (werkzeug writes one line per request)."""
    log = moto_log(stack_dir)
    if not log.exists():
        return None
    pat = re.compile(r'"(GET|PUT|POST|DELETE|HEAD) ')
    return sum(1 for line in log.read_text(errors="replace").splitlines() if pat.search(line))


MOTO_LINE = re.compile(r'"(GET|PUT|POST|DELETE|HEAD) (\S+) HTTP')


def moto_log_lines(stack_dir):
    """moto's request lines so far, as (method, path)."""
    log = moto_log(stack_dir)
    if not log.exists():
        return []
    return [m.groups() for m in map(MOTO_LINE.search, log.read_text(errors="replace").splitlines()) if m]


def moto_split(lines):
    """S3 and IAM/STS requests among moto request lines. IAM and STS are query APIs posted to
    `/` (the log cannot tell them apart); S3 (path style) always names a bucket in the path."""
    counts = {"s3": 0, "iam_sts": 0}
    for method, path in lines:
        if path.startswith("/moto-api"):
            continue
        counts["iam_sts" if method == "POST" and (path == "/" or path.startswith("/?")) else "s3"] += 1
    return counts


# What scripts/stack/kafka.sh reads to start a broker of a caller's own: never inherited from the
# environment bench.py runs in (a sourced stack.env, a test's settings), only set on purpose.
KAFKA_START_VARS = ("DATAMESH_KAFKA_PORT", "DATAMESH_KAFKA_ADVERTISED", "DATAMESH_KAFKA_ADMIN_PASSWORD",
                    "DATAMESH_KAFKA_PLAINTEXT")


def kafka_broker():
    """The stack's broker as the report names it (its version from scripts/versions.sh)."""
    m = re.search(r"^KAFKA_VERSION=(\S+)", (REPO / "scripts/versions.sh").read_text(), re.MULTILINE)
    return f"Apache Kafka {m.group(1) if m else '?'} with SASL/SCRAM"


# What the bench needs of the stack: S3/IAM/STS (moto) and Kafka; the stack's other services
# (JVM servers for ports and pipelines) stay off.
BENCH_SERVICES = "s3,kafka"


def stack_up(stack_dir, services, extra=None):
    """STACK_SERVICES=services scripts/stack-up.sh DIR; the CompletedProcess, stderr captured."""
    env = {k: v for k, v in os.environ.items() if k not in KAFKA_START_VARS and k != "STACK_SERVICES"}
    env["STACK_SERVICES"] = services
    env.update(extra or {})
    return subprocess.run(["bash", str(REPO / "scripts/stack-up.sh"), str(stack_dir)], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stack_down(stack_dir):
    subprocess.run(["bash", str(REPO / "scripts/stack-down.sh"), str(stack_dir)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def read_stack_env(stack_dir):
    """The variables a stack's stack.env exports (stack-up writes them as printf %q words)."""
    env = {}
    for line in (Path(stack_dir) / "stack.env").read_text().splitlines():
        m = re.match(r"export (\w+)=(.*)$", line)
        if m:
            words = shlex.split(m.group(2))
            env[m.group(1)] = words[0] if words else ""
    return env


class Stack:
    """A fresh local stack (scripts/stack-up.sh) in a directory of its own: moto and Apache Kafka
    (SASL/SCRAM, ACLs), or only `services` (e.g. "s3"). `env` is its stack.env."""

    def __init__(self, work, i, services=BENCH_SERVICES):
        self.dir = work / f"stack-{i}"
        self.services = services

    def __enter__(self):
        p = stack_up(self.dir, self.services)
        if p.returncode != 0:
            stack_down(self.dir)
            raise RuntimeError(f"scripts/stack-up.sh {self.dir} failed ({p.returncode}):\n{p.stderr[-4000:]}")
        self.env = read_stack_env(self.dir)
        return self

    def __exit__(self, *exc):
        stack_down(self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)


def workload_args(args, prefix):
    return ["--prefix", prefix, "--domains", str(args.domains), "--products", str(args.products),
            "--streams-per-product", str(args.streams_per_product),
            "--grants-per-product", str(args.grants_per_product)]


def workload_hcl(args, prefix, part):
    return subprocess.run([str(args.harness / "datamesh-bench"), "workload", "--part", part, *workload_args(args, prefix)],
                          check=True, capture_output=True, text=True).stdout


def bench_apply(args, work):
    total = args.products * (1 + args.streams_per_product + args.grants_per_product)
    say(f"apply: {args.products} data products, {args.products * args.streams_per_product} streams, "
        f"{args.products * args.grants_per_product} grants ({total} resources); {args.runs} runs of "
        "provider apply, direct baseline and terraform_data, each on a fresh stack")
    plugin = Plugin(work, "registry.terraform.io/datamesh/datamesh", "datamesh", args.provider, args.harness,
                    dirname="plugins-apply")

    samples = {"provider": [], "baseline": [], "terraform_data": []}
    for i in range(args.runs):
        prefix = f"bench{i}"
        for variant in ("provider", "baseline", "terraform_data"):
            wd = work / f"apply-{variant}-{i}"
            wd.mkdir()
            if variant == "terraform_data":
                (wd / "main.tf").write_text(workload_hcl(args, prefix, "terraform-data"))
                (wd / "terraform.rc").write_text("")
                env = terraform_env(wd / "terraform.rc")
                wall, _ = run_tf(args.terraform, wd, env, "apply", "-auto-approve", "-input=false", "-parallelism=10", "-no-color")
                samples[variant].append({"wall_ms": wall})
                say(f"  run {i + 1}: terraform_data {wall / 1e3:.1f} s")
                continue
            with Stack(work, f"{variant}-{i}") as stack:
                # The domains exist before the timed part (their roles and catalog entries).
                setup = wd / "domains"
                setup.mkdir()
                (setup / "main.tf").write_text(workload_hcl(args, prefix, "domains"))
                plugin.cli_config(setup / "terraform.rc")
                env = terraform_env(setup / "terraform.rc", stack.env)
                run_tf(args.terraform, setup, env, "apply", "-auto-approve", "-input=false", "-no-color")
                plugin.take_launches()
                before = moto_requests(stack.dir)
                if variant == "provider":
                    (wd / "main.tf").write_text(workload_hcl(args, prefix, "apply"))
                    plugin.cli_config(wd / "terraform.rc")
                    env = terraform_env(wd / "terraform.rc", stack.env)
                    wall, out = run_tf(args.terraform, wd, env, "apply", "-auto-approve", "-input=false", "-parallelism=10", "-no-color")
                    if f"{total} added" not in out:
                        raise RuntimeError(f"apply did not add {total} resources:\n{out[-2000:]}")
                    s = {"wall_ms": wall, **launch_summary(plugin.take_launches())}
                    # Refresh (item 4 at this one N): what a plain `terraform plan` of the applied
                    # workload costs, and how many S3/IAM requests it makes per resource.
                    mid = moto_requests(stack.dir)
                    s["moto_requests"] = None if before is None or mid is None else mid - before
                    rwall, rout = run_tf(args.terraform, wd, env, "plan", "-input=false", "-lock=false", "-no-color")
                    s["refresh_plan_wall_ms"] = rwall
                    s["refresh_plan_no_changes"] = "No changes." in rout
                    s["refresh_plan_moto_requests"] = None if mid is None else moto_requests(stack.dir) - mid
                    refresh = launch_summary(plugin.take_launches())
                    s["refresh_plan_cpu_ms"], s["refresh_plan_peak_rss_kb"] = refresh["cpu_ms"], refresh["peak_rss_kb"]
                else:
                    env = {**os.environ, **stack.env}
                    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
                        start = time.perf_counter()
                        p = subprocess.Popen([str(args.harness / "datamesh-bench"), "baseline", *workload_args(args, prefix),
                                              "--concurrency", "10"], env=env, stdout=out, stderr=err)
                        _, status, ru = os.wait4(p.pid, 0)
                        p.returncode = os.waitstatus_to_exitcode(status)
                        wall = (time.perf_counter() - start) * 1e3
                        out.seek(0)
                        err.seek(0)
                        if p.returncode != 0:
                            raise RuntimeError(f"baseline failed:\n{err.read().decode(errors='replace')[-4000:]}")
                        s = {"wall_ms": wall, **json.loads(out.read()),
                             "cpu_ms": (ru.ru_utime + ru.ru_stime) * 1e3, "peak_rss_kb": ru.ru_maxrss}
                    after = moto_requests(stack.dir)
                    s["moto_requests"] = None if before is None or after is None else after - before
                samples[variant].append(s)
                say(f"  run {i + 1}: {variant} {s['wall_ms'] / 1e3:.1f} s, {s['moto_requests']} S3/IAM/STS requests")
    med = {v: {k: median([s.get(k) for s in ss]) for k in ss[0]} for v, ss in samples.items()}
    p, b, t = med["provider"]["wall_ms"], med["baseline"]["wall_ms"], med["terraform_data"]["wall_ms"]
    overhead = p - t - b
    pc, bc = med["provider"].get("cpu_ms"), med["baseline"].get("cpu_ms")
    return {
        "kafka_broker": kafka_broker(),
        "provider_cpu_over_baseline_cpu": ratio(pc, bc),
        "resources": total, "raw": samples, "median": med,
        "ratio": {"provider_over_baseline": ratio(p, b), "terraform_data_over_baseline": ratio(t, b)},
        "provider_overhead_ms": overhead,
        "provider_overhead_share_of_baseline": ratio(overhead, b),
    }


# ------------------------------------------------------------------ refresh ----

def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateKafka:
    """An Apache Kafka broker of its own (its own JVM: `STACK_SERVICES=kafka scripts/stack-up.sh`
    in a directory of its own, stopped with scripts/stack-down.sh) behind `datamesh-bench
    kafka-proxy`. The broker listens on a free loopback port and advertises the proxy's address,
    so every connection a client makes (bootstrap and broker) passes the proxy, which counts the
    requests by API; a SASL login's SaslHandshake and SaslAuthenticate are Kafka requests too and
    are counted with the rest. Its admin logs in with SCRAM and `password`; `env` holds its
    DATAMESH_KAFKA_* variables (bootstrap servers: the proxy; security protocol, mechanism, user
    and password: the admin's login), which a client's environment takes over from the stack's."""

    def __init__(self, harness, stack_dir, password):
        self.harness, self.dir, self.password = harness, Path(stack_dir), password
        self.proxy = None

    def __enter__(self):
        try:
            for attempt in range(1, 4):
                # The port is free now; the broker binds it seconds later. Another process taking
                # it in between is rare, and retried with another port.
                port = free_port()
                self.proxy = subprocess.Popen(
                    [str(self.harness / "datamesh-bench"), "kafka-proxy", "--target", f"127.0.0.1:{port}"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                line = self.proxy.stdout.readline()
                if not line:
                    raise RuntimeError("datamesh-bench kafka-proxy exited before printing its address")
                self.addr = json.loads(line)["listen"]
                p = stack_up(self.dir, "kafka", {
                    "DATAMESH_KAFKA_PORT": str(port),
                    "DATAMESH_KAFKA_ADVERTISED": self.addr,
                    "DATAMESH_KAFKA_ADMIN_PASSWORD": self.password,
                })
                if p.returncode == 0:
                    break
                log = self.log()
                self.__exit__()
                if attempt < 3 and re.search(r"address already in use|BindException", log, re.IGNORECASE):
                    say("  private Kafka: a port was taken before the broker bound it; retrying")
                    continue
                raise RuntimeError(f"a private Apache Kafka on 127.0.0.1:{port} (advertising {self.addr}) did not start "
                                   f"(scripts/stack-up.sh {self.dir}, rc {p.returncode}):\n{p.stderr[-3000:]}\n"
                                   f"kafka.log:\n{log[-2000:]}")
            self.env = {k: v for k, v in read_stack_env(self.dir).items() if k.startswith("DATAMESH_KAFKA_")}
            if self.env.get("DATAMESH_KAFKA_BOOTSTRAP_SERVERS") != self.addr:
                raise RuntimeError(f"the private broker's stack.env bootstraps from "
                                   f"{self.env.get('DATAMESH_KAFKA_BOOTSTRAP_SERVERS')}, not the proxy {self.addr}")
        except BaseException:
            self.__exit__()
            raise
        return self

    def log(self):
        """The broker's log so far."""
        try:
            return (self.dir / "kafka.log").read_text(errors="replace")
        except OSError:
            return ""

    def take(self):
        """Kafka requests counted since the last take."""
        self.proxy.stdin.write("take\n")
        self.proxy.stdin.flush()
        return json.loads(self.proxy.stdout.readline())

    def __exit__(self, *exc):
        # The broker first (stack-down.sh stops its process group), then the proxy. The broker's
        # data goes; its log (DIR/kafka.log) stays with the working directories.
        stack_down(self.dir)
        shutil.rmtree(self.dir / "kafka", ignore_errors=True)
        p, self.proxy = self.proxy, None
        if p is None or p.poll() is not None:
            return
        p.stdin.close()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@contextlib.contextmanager
def counted_stack(args, work, name, moto=True):
    """moto from a stack of its own (`moto=False`: none) and a private broker behind the counting
    proxy; yields (stack or None, kafka, env), env being the stack's variables with the broker's
    DATAMESH_KAFKA_* over them. Clients log in to the broker with its admin's SASL/SCRAM
    credentials, read from that environment like the stack's."""
    with contextlib.ExitStack() as es:
        stack = es.enter_context(Stack(work, name, services="s3")) if moto else None
        password = (stack.env.get("DATAMESH_KAFKA_SASL_PASSWORD") if stack else None) or secrets.token_urlsafe(18)
        kafka = es.enter_context(PrivateKafka(args.harness, work / f"kafka-{name}", password))
        yield stack, kafka, {**(stack.env if stack else {}), **kafka.env}


def counted_tf(args, wd, env, plugin, kafka, stack, *argv, expect_no_changes=None):
    """One Terraform command with what it cost: wall, the plugin's CPU and peak RSS (all its
    launches), Kafka requests by API at the proxy and (with a stack) S3 and IAM/STS requests in
    moto's log. With `expect_no_changes` (what to call the run), the output must say "No changes."
    and report no drift, or the figures would be meaningless."""
    kafka.take()
    plugin.take_launches()
    before = len(moto_log_lines(stack.dir)) if stack else 0
    wall, out = run_tf(args.terraform, wd, env, *argv)
    kafka_counts = kafka.take()
    moto = moto_split(moto_log_lines(stack.dir)[before:]) if stack else {"s3": 0, "iam_sts": 0}
    launches = launch_summary(plugin.take_launches())
    if expect_no_changes and ("No changes." not in out or "changed outside of Terraform" in out):
        raise RuntimeError(f"{expect_no_changes} is not 'No changes' (the figures would be invalid):\n{out[-3000:]}")
    return {"wall_ms": wall, "kafka": kafka_counts, "s3": moto["s3"], "iam_sts": moto["iam_sts"],
            **{k: launches[k] for k in ("cpu_ms", "peak_rss_kb", "launches")}}


def counts_line(sample):
    """A sample of counted_tf, for the progress log."""
    k = sample["kafka"]
    return (f"{sample['wall_ms'] / 1e3:.1f} s, plugin CPU {sample['cpu_ms']:.0f} ms, Kafka {k['total']} "
            f"({', '.join(f'{a} {v}' for a, v in k['by_api'].items())}), S3 {sample['s3']}, IAM/STS {sample['iam_sts']}")


def has_debug_sections(path):
    """Whether an ELF binary has DWARF sections: the release profile strips them, a debug build
    keeps its line tables (the names alone prove nothing: std's backtrace code holds them)."""
    import struct
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:  # 64-bit ELF only
        return None
    end = "<" if data[5] == 1 else ">"
    shoff, = struct.unpack_from(end + "Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x3A)
    headers = [struct.unpack_from(end + "IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = headers[shstrndx][4]
    names = {data[strtab + h[0]:data.index(b"\0", strtab + h[0])].decode(errors="replace") for h in headers}
    return any(n.startswith(".debug_") for n in names)


def refresh_layout(args, n, option="--refresh-sizes"):
    """N streams: N / streams-per-product data products, spread over a few domains."""
    per = args.refresh_streams_per_product
    if n % per:
        raise SystemExit(f"{option}: {n} is not a multiple of --refresh-streams-per-product {per}")
    products = n // per
    domains = max(2, min(args.refresh_domains, products))
    return {"streams": n, "products": products, "domains": domains, "streams_per_product": per,
            "resources": n + products + domains}


def bench_refresh(args, work):
    say(f"refresh scaling: terraform plan (refresh on) over N = {', '.join(map(str, args.refresh_sizes))} streams "
        f"(N/{args.refresh_streams_per_product} data products, up to {args.refresh_domains} domains), "
        f"{args.refresh_runs} runs each after a warm-up")
    plugin = Plugin(work, "registry.terraform.io/datamesh/datamesh", "datamesh", args.provider, args.harness,
                    dirname="plugins-refresh")
    prefix = "rf"
    out = {"binary": str(args.provider), "binary_size_bytes": args.provider.stat().st_size,
           "debug_info": has_debug_sections(args.provider), "parallelism": 10, "sizes": [],
           "kafka_broker": kafka_broker(),
           "note": args.refresh_note}
    for n in args.refresh_sizes:
        lay = refresh_layout(args, n)
        wargs = ["--prefix", prefix, "--domains", str(lay["domains"]), "--products", str(lay["products"]),
                 "--streams-per-product", str(lay["streams_per_product"]), "--grants-per-product", "0"]

        def hcl(part):
            return subprocess.run([str(args.harness / "datamesh-bench"), "workload", "--part", part, *wargs],
                                  check=True, capture_output=True, text=True).stdout

        say(f"  N = {n}: {lay['products']} data products in {lay['domains']} domains; setting up")
        setup_started = time.perf_counter()
        with counted_stack(args, work, f"refresh-{n}") as (stack, kafka, stack_env):
            wd = work / f"refresh-{n}"
            wd.mkdir()
            plugin.cli_config(wd / "terraform.rc")
            env = terraform_env(wd / "terraform.rc", stack_env)
            # 1. Terraform makes the domains, then the products and the first stream (the
            #    template whose state every other stream's copies).
            (wd / "main.tf").write_text(hcl("domains"))
            run_tf(args.terraform, wd, env, "apply", "-auto-approve", "-input=false", "-no-color")
            (wd / "main.tf").write_text(hcl("refresh-seed"))
            _, applied = run_tf(args.terraform, wd, env, "apply", "-auto-approve", "-input=false", "-no-color")
            if f"{lay['products'] + 1} added" not in applied:
                raise RuntimeError(f"refresh setup: apply did not add {lay['products'] + 1} resources:\n{applied[-2000:]}")
            applied_s = time.perf_counter() - setup_started
            # 2. The other streams directly (topics and catalog entries), many at once.
            p = subprocess.run([str(args.harness / "datamesh-bench"), "refresh-setup", *wargs, "--skip", "1",
                                "--concurrency", str(args.refresh_setup_concurrency)],
                               env={**os.environ, **stack_env}, capture_output=True, text=True)
            if p.returncode != 0:
                raise RuntimeError(f"refresh-setup failed:\n{p.stderr[-4000:]}")
            direct = json.loads(p.stdout)
            # 3. Their state: copies of the template's, names changed, as the provider writes it.
            write_stream_state(wd / "terraform.tfstate", lay)
            (wd / "main.tf").write_text(hcl("refresh"))
            setup_s = time.perf_counter() - setup_started
            say(f"  N = {n}: set up in {setup_s:.0f} s (Terraform apply {applied_s:.0f} s, "
                f"{direct['created']} streams direct in {direct['seconds']:.0f} s)")

            samples = []
            for i in range(args.refresh_runs + 1):  # run 0 is a warm-up, discarded
                sample = counted_tf(args, wd, env, plugin, kafka, stack, "plan", "-input=false", "-lock=false",
                                    "-no-color", expect_no_changes=f"refresh plan at N = {n}")
                say(f"    {'warm-up' if i == 0 else f'run {i}'}: {counts_line(sample)}")
                if i > 0:
                    samples.append(sample)
        apis = sorted({a for s in samples for a in s["kafka"]["by_api"]})
        med = {
            "wall_ms": median([s["wall_ms"] for s in samples]),
            "cpu_ms": median([s["cpu_ms"] for s in samples]),
            "peak_rss_kb": median([s["peak_rss_kb"] for s in samples]),
            "launches": median([s["launches"] for s in samples]),
            "kafka_total": median([s["kafka"]["total"] for s in samples]),
            "kafka_connections": median([s["kafka"]["connections"] for s in samples]),
            "kafka_by_api": {a: median([s["kafka"]["by_api"].get(a, 0) for s in samples]) for a in apis},
            "s3": median([s["s3"] for s in samples]),
            "iam_sts": median([s["iam_sts"] for s in samples]),
        }
        out["sizes"].append({**lay, "setup_seconds": setup_s, "setup_apply_seconds": applied_s,
                             "setup_direct": direct, "no_changes": True, "raw": samples, "median": med,
                             "kafka_per_stream": med["kafka_total"] / n,
                             "s3_per_resource": med["s3"] / lay["resources"],
                             "iam_sts_per_resource": med["iam_sts"] / lay["resources"],
                             "wall_ms_per_resource": med["wall_ms"] / lay["resources"]})
    # Growth between successive sizes: the exponent k in cost ∝ N^k (1 = linear).
    import math
    growth = []
    for a, b in zip(out["sizes"], out["sizes"][1:]):
        f = math.log(b["streams"] / a["streams"])
        g = {"from": a["streams"], "to": b["streams"]}
        for key in ("wall_ms", "cpu_ms", "kafka_total", "s3", "iam_sts"):
            x, y = a["median"][key], b["median"][key]
            g[key] = math.log(y / x) / f if x and y else None
        growth.append(g)
    out["growth_exponent"] = growth
    big = [z for z in out["sizes"] if z["streams"] >= 1000]
    out["target"] = {"kafka_per_stream_max": 0.1, "at_streams_min": 1000,
                     "met": bool(big) and all(z["kafka_per_stream"] <= 0.1 for z in big)}
    return out


# --------------------------------------------------------------------- peer ----

# The peer comparison's sides: (name, provider, with the grants / ACLs). "full" is the shape users
# write (topics and who may read them); "topics" is topics alone on both sides, since one grant
# covers a product's streams where the peer writes one ACL per topic.
PEER_VARIANTS = (("theirs", "kafka", True), ("ours", "datamesh", True),
                 ("theirs_topics", "kafka", False), ("ours_topics", "datamesh", False))
PEER_OPS = ("apply", "plan", "destroy")


def sample_medians(samples):
    """Medians of counted_tf samples, Kafka requests by API included."""
    apis = sorted({a for x in samples for a in x["kafka"]["by_api"]})
    return {
        **{k: median([x[k] for x in samples]) for k in ("wall_ms", "cpu_ms", "peak_rss_kb", "launches", "s3", "iam_sts")},
        "kafka_total": median([x["kafka"]["total"] for x in samples]),
        "kafka_connections": median([x["kafka"]["connections"] for x in samples]),
        "kafka_by_api": {a: median([x["kafka"]["by_api"].get(a, 0) for x in samples]) for a in apis},
    }


def bench_peer(args, work):
    """Ours against the mongey/kafka provider: N topics, each readable by a consumer, on a fresh
    private broker behind the counting proxy per side and run; apply, plan (refresh on, no
    changes) and destroy, interleaved."""
    n = args.peer_size
    lay = refresh_layout(args, n, "--peer-size")
    say(f"peer: mongey/kafka vs datamesh over N = {n} topics ({lay['products']} data products in {lay['domains']} "
        f"domains on our side), {args.peer_runs} run(s) of each side, interleaved")
    plugins = {
        "kafka": Plugin(work, "registry.terraform.io/mongey/kafka", "kafka", args.kafka_provider, args.harness,
                        dirname="plugins-peer-kafka"),
        "datamesh": Plugin(work, "registry.terraform.io/datamesh/datamesh", "datamesh", args.provider, args.harness,
                           dirname="plugins-peer-datamesh"),
    }
    samples = {v: {op: [] for op in PEER_OPS} for v, _, _ in PEER_VARIANTS}
    setup_seconds = {v: [] for v, _, _ in PEER_VARIANTS}
    for i in range(args.peer_runs):
        for variant, provider, grants in PEER_VARIANTS:
            wargs = ["--prefix", "pb", "--domains", str(lay["domains"]), "--products", str(lay["products"]),
                     "--streams-per-product", str(lay["streams_per_product"]),
                     "--grants-per-product", "1" if grants else "0", "--manage-acls", "true"]

            def hcl(part):
                return subprocess.run([str(args.harness / "datamesh-bench"), "workload", "--part", part, *wargs],
                                      check=True, capture_output=True, text=True).stdout

            plugin = plugins[provider]
            name = f"peer-{variant}-{i}"
            started = time.perf_counter()
            # Only our side needs moto (the catalog, buckets and roles of domains and products).
            with counted_stack(args, work, name, moto=provider == "datamesh") as (stack, kafka, stack_env):
                wd = work / name
                wd.mkdir()
                plugin.cli_config(wd / "terraform.rc")
                if provider == "datamesh":
                    # Untimed, in a state of its own: the domains, then the products.
                    setup = wd / "setup"
                    setup.mkdir()
                    plugin.cli_config(setup / "terraform.rc")
                    senv = terraform_env(setup / "terraform.rc", stack_env)
                    for part in ("domains", "peer-setup"):
                        (setup / "main.tf").write_text(hcl(part))
                        run_tf(args.terraform, setup, senv, "apply", "-auto-approve", "-input=false", "-no-color")
                    (wd / "main.tf").write_text(hcl("peer-ours"))
                    env = terraform_env(wd / "terraform.rc", stack_env)
                else:
                    if stack_env.get("DATAMESH_KAFKA_SASL_MECHANISM", "").upper() != "SCRAM-SHA-512":
                        raise RuntimeError(f"peer: the private broker wants {stack_env.get('DATAMESH_KAFKA_SASL_MECHANISM')}, "
                                           "the mongey/kafka configuration says scram-sha512")
                    (wd / "main.tf").write_text(hcl("peer-theirs"))
                    env = terraform_env(wd / "terraform.rc", {
                        "TF_VAR_kafka_bootstrap_servers": stack_env["DATAMESH_KAFKA_BOOTSTRAP_SERVERS"],
                        "TF_VAR_kafka_username": stack_env["DATAMESH_KAFKA_SASL_USERNAME"],
                        "TF_VAR_kafka_password": stack_env["DATAMESH_KAFKA_SASL_PASSWORD"],
                    })
                setup_seconds[variant].append(time.perf_counter() - started)
                want = n + (n if provider == "kafka" else lay["products"]) * grants
                run = {}
                run["apply"] = counted_tf(args, wd, env, plugin, kafka, stack, "apply", "-auto-approve", "-input=false",
                                          "-no-color")
                run["plan"] = counted_tf(args, wd, env, plugin, kafka, stack, "plan", "-input=false", "-lock=false",
                                         "-no-color", expect_no_changes=f"peer plan of {variant}")
                run["destroy"] = counted_tf(args, wd, env, plugin, kafka, stack, "destroy", "-auto-approve",
                                            "-input=false", "-no-color")
                state = json.loads((wd / "terraform.tfstate").read_text())
                if any(r["instances"] for r in state.get("resources", []) if r.get("mode") == "managed"):
                    raise RuntimeError(f"peer: destroy of {variant} left resources in its state")
                for op in PEER_OPS:
                    samples[variant][op].append({**run[op], "resources": want})
                    say(f"  run {i + 1} {variant} {op}: {counts_line(run[op])}")
    res = {"streams": n, "products": lay["products"], "domains": lay["domains"],
           "streams_per_product": lay["streams_per_product"], "runs": args.peer_runs,
           "binary": str(args.provider), "debug_info": has_debug_sections(args.provider),
           "kafka_provider": args.kafka_provider_version, "kafka_broker": kafka_broker(),
           "resources": {v: ss["apply"][0]["resources"] for v, ss in samples.items()},
           "setup_seconds": {v: median(x) for v, x in setup_seconds.items()},
           "raw": samples, "median": {v: {op: sample_medians(ss[op]) for op in PEER_OPS} for v, ss in samples.items()}}
    res["ratio"] = {}
    for shape, (a, b) in (("full", ("ours", "theirs")), ("topics", ("ours_topics", "theirs_topics"))):
        res["ratio"][shape] = {op: {k: ratio(res["median"][a][op][k], res["median"][b][op][k])
                                    for k in ("wall_ms", "cpu_ms", "peak_rss_kb", "kafka_total")} for op in PEER_OPS}
    r = res["ratio"]["full"]
    res["goals"] = {
        "plan_wall_at_most_one_third": r["plan"]["wall_ms"] is not None and r["plan"]["wall_ms"] <= 1 / 3,
        "plan_kafka_requests_at_most_one_tenth": r["plan"]["kafka_total"] is not None and r["plan"]["kafka_total"] <= 0.1,
        "apply_no_slower": r["apply"]["wall_ms"] is not None and r["apply"]["wall_ms"] <= 1.0,
        "destroy_no_slower": r["destroy"]["wall_ms"] is not None and r["destroy"]["wall_ms"] <= 1.0,
    }
    return res


def write_stream_state(path, lay):
    """Adds every stream's state to a state file holding the one Terraform made: a copy of that
    entry with the names changed, so the copies are exactly what the provider writes."""
    state = json.loads(path.read_text())
    seeds = [r for r in state["resources"] if r.get("mode") == "managed" and r["type"] == "datamesh_stream"]
    if len(seeds) != 1 or len(seeds[0]["instances"]) != 1:
        raise RuntimeError(f"expected the one stream Terraform made in {path}, found {len(seeds)}")
    seed = seeds[0]
    text = json.dumps(seed)
    # The template's names, as the workload makes them (bd00 / p000 / s0).
    d0, p0, s0 = "bd00", "p000", "s0"
    if seed["name"] != f"{p0}_{s0}" or seed["instances"][0]["attributes"].get("topic") != f"{d0}.{p0}.{s0}":
        raise RuntimeError(f"unexpected template stream {seed['name']}: {seed['instances'][0]['attributes']}")
    domains = [f"bd{i:02}" for i in range(lay["domains"])]
    for j in range(lay["products"]):
        d, p = domains[j % lay["domains"]], f"p{j:03}"
        for k in range(lay["streams_per_product"]):
            if j == 0 and k == 0:
                continue
            st = f"s{k}"
            entry = json.loads(text
                               .replace(f'"{p0}_{s0}"', f'"{p}_{st}"')
                               .replace(f'"{d0}.{p0}.{s0}"', f'"{d}.{p}.{st}"')
                               .replace(f'"{d0}/{p0}"', f'"{d}/{p}"')
                               .replace(f'"datamesh_data_product.{p0}"', f'"datamesh_data_product.{p}"')
                               .replace(f'"name": "{s0}"', f'"name": "{st}"'))
            state["resources"].append(entry)
    state["serial"] += 1
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(path)


# ------------------------------------------------------------------- report ----

def fmt_ms(x):
    return "–" if x is None else (f"{x / 1e3:.2f} s" if x >= 10_000 else f"{x:.1f} ms")


def fmt_kb(x):
    return "–" if x is None else f"{x / 1024:.1f} MB"


def fmt_ratio(x):
    return "–" if x is None else f"{x:.2f}×"


def verdict(ok):
    return "met" if ok else "**not met**"


def markdown(res):
    m = res["meta"]
    lines = [
        "# `make bench` results",
        "",
        f"{m['date']}, {m['machine']}; {m['terraform']}; null provider {m['null_provider']}. "
        f"Medians of {m['runs']} runs ({m['startup_runs']} for start-up), taken interleaved with their comparison. "
        "Ratios are datamesh ÷ comparison. On a shared machine wall times are noisy: CPU and RSS are the steadier figures.",
        "",
        f"Release binary (sections 1–3): {m['binary_size_bytes'] / 1e6:.1f} MB ({m['binary']}); release build in the run "
        f"that measured them: {m['build']['seconds']:.0f} s ({m['build']['note']}).",
        "",
    ]
    s = res.get("startup")
    if s:
        d, n, r = s["median"]["datamesh"], s["median"]["null"], s["ratio"]
        lines += [
            "## 1. Start-up: launch → handshake → schema → Shutdown → exit (gRPC, AutoMTLS)",
            "",
            f"Measured {s.get('measured', '?')}.",
            "",
            "| | datamesh | null (Go) | ratio | target |",
            "|---|---:|---:|---:|---|",
            f"| whole cycle | {fmt_ms(d['total_ms'])} | {fmt_ms(n['total_ms'])} | {fmt_ratio(r['total_ms'])} | ≤ 0.20× {verdict(r['total_ms'] <= 0.2)} |",
            f"| to handshake line | {fmt_ms(d['handshake_ms'])} | {fmt_ms(n['handshake_ms'])} | {fmt_ratio(r['handshake_ms'])} | |",
            f"| to schema answered | {fmt_ms(d['schema_ms'])} | {fmt_ms(n['schema_ms'])} | {fmt_ratio(r['schema_ms'])} | |",
            f"| Shutdown sent → process gone | {fmt_ms(d['exit_after_shutdown_ms'])} | {fmt_ms(n['exit_after_shutdown_ms'])} | | |",
            f"| CPU (user+sys) | {fmt_ms(d['cpu_ms'])} | {fmt_ms(n['cpu_ms'])} | {fmt_ratio(r['cpu_ms'])} | |",
            f"| peak RSS | {fmt_kb(d['maxrss_kb'])} | {fmt_kb(n['maxrss_kb'])} | {fmt_ratio(r['maxrss_kb'])} | ≤ 0.50× {verdict(r['maxrss_kb'] <= 0.5)} |",
            f"| schema message | {d['schema_bytes']:.0f} B | {n['schema_bytes']:.0f} B | | |",
            "",
        ]
        extra = [k for k in s["median"] if k not in ("datamesh", "null")]
        if extra:
            lines += [
                "Other builds of this provider, measured in the same interleaved runs (ratios to null):",
                "",
                "| build | whole cycle | to handshake | CPU | peak RSS |",
                "|---|---:|---:|---:|---:|",
            ]
            for k in ["datamesh", *extra]:
                e = s["median"][k]
                lines.append(
                    f"| {k} | {fmt_ms(e['total_ms'])} ({fmt_ratio(ratio(e['total_ms'], n['total_ms']))}) "
                    f"| {fmt_ms(e['handshake_ms'])} | {fmt_ms(e['cpu_ms'])} ({fmt_ratio(ratio(e['cpu_ms'], n['cpu_ms']))}) "
                    f"| {fmt_kb(e['maxrss_kb'])} ({fmt_ratio(ratio(e['maxrss_kb'], n['maxrss_kb']))}) |"
                )
            lines.append("")
    t = res.get("terraform")
    if t:
        md_all = t["median"]
        md, mn, r = md_all["datamesh"], md_all["null"], t["ratio"]
        lines += [
            "## 2. Terraform round trip (same Terraform; plugin measured by a wrapper)",
            "",
            f"Measured {t.get('measured', '?')}.",
            "",
            "| | datamesh | null (Go) | ratio | target |",
            "|---|---:|---:|---:|---|",
        ]
        for op, title in (("schema", "`providers schema -json`"), ("plan", f"`plan -refresh=false`, {t['resources']} resources")):
            a, b = md[op], mn[op]
            cpu_target = f"≤ 0.25× {verdict(r[op]['cpu_ms'] <= 0.25)}" if op == "plan" else ""
            rss_target = f"≤ 16 MB {verdict(a['peak_rss_kb'] <= 16 * 1024)}" if op == "plan" else ""
            lines += [
                f"| {title}: wall | {fmt_ms(a['wall_ms'])} | {fmt_ms(b['wall_ms'])} | {fmt_ratio(r[op]['wall_ms'])} | |",
                f"| {title}: plugin CPU | {fmt_ms(a['cpu_ms'])} | {fmt_ms(b['cpu_ms'])} | {fmt_ratio(r[op]['cpu_ms'])} | {cpu_target} |",
                f"| {title}: plugin peak RSS | {fmt_kb(a['peak_rss_kb'])} | {fmt_kb(b['peak_rss_kb'])} | {fmt_ratio(r[op]['peak_rss_kb'])} | {rss_target} |",
                f"| {title}: plugin launches | {a['launches']:.0f} | {b['launches']:.0f} | | |",
            ]
        lines.append("")
        extra = [k for k in md_all if k not in ("datamesh", "null")]
        if extra:
            lines += [
                "Other builds of this provider in the same runs (plugin CPU and peak RSS, ratio to null):",
                "",
                "| build | schema: CPU | schema: peak RSS | plan: wall | plan: CPU | plan: peak RSS |",
                "|---|---:|---:|---:|---:|---:|",
            ]
            for k in ["datamesh", *extra]:
                e = md_all[k]
                lines.append(
                    f"| {k} | {fmt_ms(e['schema']['cpu_ms'])} ({fmt_ratio(ratio(e['schema']['cpu_ms'], mn['schema']['cpu_ms']))}) "
                    f"| {fmt_kb(e['schema']['peak_rss_kb'])} | {fmt_ms(e['plan']['wall_ms'])} "
                    f"| {fmt_ms(e['plan']['cpu_ms'])} ({fmt_ratio(ratio(e['plan']['cpu_ms'], mn['plan']['cpu_ms']))}) "
                    f"| {fmt_kb(e['plan']['peak_rss_kb'])} |"
                )
            lines.append("")
    a = res.get("apply")
    if a:
        med = a["median"]
        share = a["provider_overhead_share_of_baseline"]
        lines += [
            f"## 3. Apply against the local stack: {a['resources']} resources "
            f"({m['workload']})",
            "",
            f"Measured {a.get('measured', '?')}; each apply on a fresh local stack (moto, {a.get('kafka_broker', 'tansu')}).",
            "",
            "| | wall | ratio to baseline | S3/IAM/STS requests |",
            "|---|---:|---:|---:|",
            f"| `terraform apply` through the provider | {fmt_ms(med['provider']['wall_ms'])} | {fmt_ratio(a['ratio']['provider_over_baseline'])} | {med['provider'].get('moto_requests') or '–'} |",
            f"| baseline: same backend calls, direct, concurrency 10 | {fmt_ms(med['baseline']['wall_ms'])} | 1.00× | {med['baseline'].get('moto_requests') or '–'} |",
            f"| Terraform alone: same graph of `terraform_data` | {fmt_ms(med['terraform_data']['wall_ms'])} | {fmt_ratio(a['ratio']['terraform_data_over_baseline'])} | |",
            f"| provider's own overhead (apply − Terraform alone − baseline) | {fmt_ms(a['provider_overhead_ms'])} | {fmt_ratio(share)} | target < 0.10× {verdict(share is not None and share < 0.1)} |",
            "",
            "The three walls overlap (Terraform's own work runs while backend calls are in flight), so the "
            "subtraction above can go negative; the CPU the plugin burns beside the baseline's is the steadier "
            "measure of the provider's own cost:",
            "",
            "| | CPU (user+sys) | peak RSS |",
            "|---|---:|---:|",
            f"| provider plugin, all launches of the apply | {fmt_ms(med['provider'].get('cpu_ms'))} | {fmt_kb(med['provider'].get('peak_rss_kb'))} |",
            f"| baseline process | {fmt_ms(med['baseline'].get('cpu_ms'))} | {fmt_kb(med['baseline'].get('peak_rss_kb'))} |",
            f"| ratio | {fmt_ratio(a.get('provider_cpu_over_baseline_cpu'))} | |",
            "",
            f"Plugin launches during the apply: {med['provider'].get('launches') or 0:.0f}; baseline: connect "
            f"{fmt_ms(med['baseline'].get('connect_ms'))}, plan-time reads {fmt_ms(med['baseline'].get('plan_reads_ms'))}.",
            "",
        ]
        rp = med["provider"]
        if rp.get("refresh_plan_wall_ms") is not None:
            per = None if rp.get("refresh_plan_moto_requests") is None else rp["refresh_plan_moto_requests"] / a["resources"]
            lines += [
                f"Refresh of the applied workload (`terraform plan`, item 4 at N = {a['resources']}): "
                f"{fmt_ms(rp['refresh_plan_wall_ms'])}, {rp.get('refresh_plan_moto_requests') or '–'} S3/IAM/STS requests "
                f"({'–' if per is None else f'{per:.2f}'} per resource), plugin CPU {fmt_ms(rp.get('refresh_plan_cpu_ms'))}, "
                f"peak RSS {fmt_kb(rp.get('refresh_plan_peak_rss_kb'))}; Kafka requests are not counted here (section 4 counts them).",
                "",
            ]
    r = res.get("refresh")
    if r and r.get("sizes"):
        sizes = r["sizes"]
        first = sizes[0]
        lines += [
            "## 4. Refresh scaling: `terraform plan` (refresh on) over N streams",
            "",
            f"Measured {r.get('measured', '?')}, with {r['binary']} ({r['binary_size_bytes'] / 1e6:.1f} MB"
            f"{', a build with debug info, not the release profile: request counts do not depend on the profile, wall and CPU do' if r.get('debug_info') else ''}). "
            f"Each N on a fresh stack (moto, and a private broker, {r.get('kafka_broker', 'tansu')}, behind a counting proxy): N streams over "
            f"N/{first['streams_per_product']} data products in {', '.join(sorted({str(z['domains']) for z in sizes}))} domains, "
            "no grants; the domains, the products and one stream made by `terraform apply`, the other streams "
            "(topics, catalog entries) made directly and their state written as copies of the one Terraform wrote. "
            f"Every plan reported \"No changes\". Medians of {len(first['raw'])} plans after a warm-up; Terraform's "
            "default parallelism (10). Kafka requests are counted by API key at the proxy (each connection's "
            "login, SaslHandshake and SaslAuthenticate, included), S3 and IAM/STS "
            "requests in moto's request log (IAM and STS share it: both are posts to `/`).",
            "",
            "| N streams | products | domains | plan wall | wall per resource | plugin CPU | plugin peak RSS | Kafka requests | Kafka per stream | Metadata | DescribeConfigs | other Kafka | S3 | S3 per resource | IAM/STS | IAM/STS per resource |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for z in sizes:
            m = z["median"]
            by = m["kafka_by_api"]
            md, dc = by.get("Metadata", 0), by.get("DescribeConfigs", 0)
            other = {k: v for k, v in by.items() if k not in ("Metadata", "DescribeConfigs") and v}
            lines.append(
                f"| {z['streams']:,} | {z['products']:,} | {z['domains']} | {fmt_ms(m['wall_ms'])} "
                f"| {m['wall_ms'] / z['resources']:.2f} ms | {fmt_ms(m['cpu_ms'])} | {fmt_kb(m['peak_rss_kb'])} "
                f"| {m['kafka_total']:.0f} | {z['kafka_per_stream']:.4f} | {md:.0f} | {dc:.0f} "
                f"| {m['kafka_total'] - md - dc:.0f}{' (' + ', '.join(f'{k} {v:.0f}' for k, v in other.items()) + ')' if other else ''} "
                f"| {m['s3']:.0f} | {z['s3_per_resource']:.2f} | {m['iam_sts']:.0f} | {z['iam_sts_per_resource']:.2f} |"
            )
        t = r.get("target", {})
        big = [z for z in sizes if z["streams"] >= 1000]
        lines += [
            "",
            "Per resource counts every refreshed resource (streams + products + domains); only products and "
            "domains read S3 and IAM, only streams read Kafka.",
            "",
            (f"Target: Kafka requests per refreshed stream ≤ 0.1 at N ≥ 1,000: "
             + ("; ".join(f"{z['kafka_per_stream']:.4f} at N = {z['streams']:,}" for z in big) + f" — {verdict(t.get('met'))}"
                if big else "not measured (no N ≥ 1,000 in this run)")),
            "",
        ]
        if r.get("growth_exponent"):
            lines += [
                "Growth between sizes, as the exponent k in cost ∝ N^k (1 = linear, 0 = flat):",
                "",
                "| N | plan wall | plugin CPU | Kafka requests | S3 | IAM/STS |",
                "|---|---:|---:|---:|---:|---:|",
            ]
            f = lambda x: "–" if x is None else f"{x:.2f}"
            for g in r["growth_exponent"]:
                lines.append(f"| {g['from']:,} → {g['to']:,} | {f(g['wall_ms'])} | {f(g['cpu_ms'])} | {f(g['kafka_total'])} "
                             f"| {f(g['s3'])} | {f(g['iam_sts'])} |")
            lines.append("")
        lines += [
            "Setup per N (not timed as part of the figures): "
            + "; ".join(f"N = {z['streams']:,}: {z['setup_seconds']:.0f} s ({z['setup_apply_seconds']:.0f} s of `terraform apply`, "
                        f"{z['setup_direct']['created']:,} streams direct in {z['setup_direct']['seconds']:.0f} s)" for z in sizes)
            + ".",
            "",
        ]
        if r.get("note"):
            lines += [r["note"], ""]
    pr = res.get("peer")
    if pr:
        lines += peer_markdown(pr)
    return "\n".join(lines)


def peer_markdown(pr):
    """Section 5 of the report: ours against the mongey/kafka provider."""
    med, rt, goals = pr["median"], pr["ratio"], pr["goals"]
    res = pr["resources"]
    lines = [
        f"## 5. Against the peer: mongey/kafka {pr['kafka_provider']}, N = {pr['streams']:,} topics",
        "",
        f"Measured {pr.get('measured', '?')}, with {pr['binary']}"
        f"{' (a build with debug info, not the release profile: request counts do not depend on the profile, wall and CPU do)' if pr.get('debug_info') else ''}. "
        f"Same Terraform, each side and run on a fresh private broker ({pr['kafka_broker']}, ACLs on) behind the "
        "counting proxy; our side also has moto for the catalog. Theirs: N `kafka_topic` and, with ACLs, a "
        "`kafka_acl` READ per topic for the consumer domain's principal. Ours: N `datamesh_stream` "
        f"over {pr['products']:,} data products in {pr['domains']} domains (the domains and products applied "
        "beforehand, untimed, in a state of their own) and, with grants, one `datamesh_access_grant` per "
        "product to the next domain (its READ and DESCRIBE on the product's topic prefix, READ on the "
        "consumer's group prefix, and its IAM policy). Each run: `terraform apply`, `terraform plan` "
        "(refresh on; it must say \"No changes\"), `terraform destroy`; Terraform's default parallelism (10). "
        + (f"Medians of {pr['runs']} runs per side, interleaved A B A B." if pr["runs"] > 1 else
           "One run per side (at this N one run of each is what fits; interleaved A B A B, read the walls with "
           "the load average)."),
        "",
        "| shape | step | wall theirs | wall ours | ratio | plugin CPU theirs | ours | ratio "
        "| peak RSS theirs | ours | ratio | Kafka requests theirs | ours | ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for shape, a, b, title in (("full", "ours", "theirs", f"topics + read access ({res['theirs']:,} vs {res['ours']:,} resources)"),
                               ("topics", "ours_topics", "theirs_topics", f"topics alone ({res['theirs_topics']:,} vs {res['ours_topics']:,})")):
        for op in PEER_OPS:
            t, o, r = med[b][op], med[a][op], rt[shape][op]
            lines.append(
                f"| {title} | {op} | {fmt_ms(t['wall_ms'])} | {fmt_ms(o['wall_ms'])} | {fmt_ratio(r['wall_ms'])} "
                f"| {fmt_ms(t['cpu_ms'])} | {fmt_ms(o['cpu_ms'])} | {fmt_ratio(r['cpu_ms'])} "
                f"| {fmt_kb(t['peak_rss_kb'])} | {fmt_kb(o['peak_rss_kb'])} | {fmt_ratio(r['peak_rss_kb'])} "
                f"| {t['kafka_total']:.0f} | {o['kafka_total']:.0f} | {fmt_ratio(r['kafka_total'])} |"
            )
    full = rt["full"]
    lines += [
        "",
        f"Goals (topics + read access): plan with refresh ≤ 1/3 of their wall: {fmt_ratio(full['plan']['wall_ms'])} "
        f"{verdict(goals['plan_wall_at_most_one_third'])}; ≤ 1/10 of their broker requests: "
        f"{fmt_ratio(full['plan']['kafka_total'])} {verdict(goals['plan_kafka_requests_at_most_one_tenth'])}; "
        f"apply no slower: {fmt_ratio(full['apply']['wall_ms'])} {verdict(goals['apply_no_slower'])}; "
        f"destroy no slower: {fmt_ratio(full['destroy']['wall_ms'])} {verdict(goals['destroy_no_slower'])}.",
        "",
        "Kafka requests by API (medians; a login is SaslHandshake + SaslAuthenticate per connection), "
        "and our side's S3 and IAM/STS requests in moto's log:",
        "",
        "| side | step | connections | by API | S3 | IAM/STS |",
        "|---|---|---:|---|---:|---:|",
    ]
    for side, _, _ in PEER_VARIANTS:
        for op in PEER_OPS:
            m = med[side][op]
            by = ", ".join(f"{k} {v:.0f}" for k, v in sorted(m["kafka_by_api"].items(), key=lambda kv: -kv[1]) if v)
            moto = side.startswith("ours")
            lines.append(f"| {side} | {op} | {m['kafka_connections']:.0f} | {by or '–'} "
                         f"| {m['s3']:.0f} | {m['iam_sts']:.0f} |" if moto else
                         f"| {side} | {op} | {m['kafka_connections']:.0f} | {by or '–'} | – | – |")
    lines += [
        "",
        "Setup per side (not part of the figures: broker start, and for ours the domains' and products' apply): "
        + "; ".join(f"{v} {x:.0f} s" for v, x in pr["setup_seconds"].items() if x is not None) + ".",
        "",
    ]
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--provider", type=Path, required=True, help="release build of terraform-provider-datamesh")
    ap.add_argument("--null", type=Path, required=True, help="the Go null provider binary")
    ap.add_argument("--null-version", default="?")
    ap.add_argument("--harness", type=Path, required=True, help="directory with datamesh-bench and rusage-wrap")
    ap.add_argument("--terraform", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--startup-runs", type=int, default=15, help="start-up is cheap and noisy: more runs")
    ap.add_argument("--plan-resources", type=int, default=1000)
    ap.add_argument("--domains", type=int, default=10)
    ap.add_argument("--products", type=int, default=100)
    ap.add_argument("--streams-per-product", type=int, default=2)
    ap.add_argument("--grants-per-product", type=int, default=2)
    ap.add_argument("--refresh-sizes", default="100,1000,5000", type=lambda v: [int(x) for x in v.split(",") if x],
                    help="refresh section: numbers of streams N, comma-separated")
    ap.add_argument("--refresh-streams-per-product", type=int, default=10,
                    help="refresh section: streams per data product (N / this = products)")
    ap.add_argument("--refresh-domains", type=int, default=5, help="refresh section: domains the products spread over")
    ap.add_argument("--refresh-runs", type=int, default=None, help="refresh section: plans per N (default --runs)")
    ap.add_argument("--refresh-setup-concurrency", type=int, default=32,
                    help="refresh section: streams made at once by the direct setup")
    ap.add_argument("--refresh-note", default="", help="refresh section: a line for the report (e.g. which build)")
    ap.add_argument("--kafka-provider", type=Path, help="peer section: the mongey/kafka provider binary")
    ap.add_argument("--kafka-provider-version", default="?", help="peer section: what to call it in the report")
    ap.add_argument("--peer-size", type=int, default=1000, help="peer section: topics N on each side")
    ap.add_argument("--peer-runs", type=int, default=1,
                    help="peer section: runs of each side (each on fresh brokers; one fits at N = 1,000)")
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections: " + ", ".join(SECTIONS))
    ap.add_argument("--extra-provider", action="append", default=[], type=lambda v: tuple(v.split("=", 1)),
                    metavar="LABEL=PATH", help="another build of this provider to add to the start-up section (A/B)")
    ap.add_argument("--build-seconds", type=float, default=0.0)
    ap.add_argument("--build-note", default="")
    ap.add_argument("--out", type=Path, default=REPO / "bench")
    args = ap.parse_args()
    if args.runs < 5:
        say(f"WARNING: --runs {args.runs}: the issue asks for medians of at least 5")
    # Plugins run from Terraform's working directories: every binary path must be absolute.
    args.provider, args.null, args.harness = args.provider.resolve(), args.null.resolve(), args.harness.resolve()
    sections = set(args.only.split(","))
    if sections - set(SECTIONS):
        ap.error(f"--only: unknown sections {sorted(sections - set(SECTIONS))}; known: {', '.join(SECTIONS)}")
    if args.refresh_runs is None:
        args.refresh_runs = args.runs
    if "peer" in sections:
        if not args.kafka_provider:
            ap.error("the peer section needs --kafka-provider (scripts/bench.sh passes the tools cache's)")
        args.kafka_provider = args.kafka_provider.resolve()

    tf_version = subprocess.run([args.terraform, "version"], capture_output=True, text=True,
                                env={**os.environ, "TF_CLI_CONFIG_FILE": "/dev/null", "CHECKPOINT_DISABLE": "1"}).stdout
    res = {"meta": {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.1f}",
        "terraform": (tf_version.splitlines() or ["?"])[0],
        "null_provider": args.null_version,
        "runs": args.runs,
        "startup_runs": max(args.runs, args.startup_runs),
        "binary": str(args.provider),
        "binary_size_bytes": args.provider.stat().st_size,
        "build": {"seconds": args.build_seconds, "note": args.build_note},
        "workload": f"{args.products} data products, {args.products * args.streams_per_product} streams, "
                    f"{args.products * args.grants_per_product} grants over {args.domains} domains",
    }}
    # A plugin's peak RSS is mostly its binary's pages, mapped in 64 KiB fault-around windows
    # from the page cache: how much of the file is cached changes the figure. Read every binary
    # whole first, so all are compared in the state Terraform's repeated launches leave them.
    for binary in [args.provider, args.null, *(Path(p) for _, p in args.extra_provider)]:
        with open(binary, "rb") as f:
            while f.read(1 << 20):
                pass
    work = Path(tempfile.mkdtemp(prefix="datamesh-bench-"))
    try:
        for name, fn in (("startup", bench_startup), ("terraform", bench_terraform), ("apply", bench_apply),
                         ("refresh", bench_refresh), ("peer", bench_peer)):
            if name in sections:
                started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                res[name] = fn(args) if name == "startup" else fn(args, work)
                res[name]["measured"] = f"{started}, load average {os.getloadavg()[0]:.1f} at the end"
    finally:
        if os.environ.get("DATAMESH_BENCH_KEEP"):
            say(f"kept working directories in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    res["meta"]["load_average_at_end"] = os.getloadavg()[0]
    args.out.mkdir(parents=True, exist_ok=True)
    # With --only, the other sections keep their figures from the last full run.
    previous = args.out / "results.json"
    if previous.exists() and sections != set(SECTIONS):
        try:
            old = json.loads(previous.read_text())
        except ValueError:
            old = {}
        for name in SECTIONS:
            if name not in sections and name in old:
                res[name] = old[name]
        # The header's binary, build, null provider and workload describe sections 1-3 (section 4
        # names its own binary): when none of those ran now, they keep the run that measured them.
        if not sections & {"startup", "terraform", "apply"} and "meta" in old:
            for k in ("binary", "binary_size_bytes", "build", "null_provider", "workload", "startup_runs"):
                if k in old["meta"]:
                    res["meta"][k] = old["meta"][k]
    (args.out / "results.json").write_text(json.dumps(res, indent=2) + "\n")
    md = markdown(res)
    (args.out / "results.md").write_text(md + "\n")
    print(md)
    say(f"wrote {args.out / 'results.json'} and {args.out / 'results.md'}")


if __name__ == "__main__":
    main()
