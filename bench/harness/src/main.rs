//! `datamesh-bench`: the parts of `make bench` that need Rust. `bench/bench.py` drives it.
//!
//! ```text
//! datamesh-bench startup --runs N --target NAME=PATH:PROTOCOL:EXPECT [--target ...]
//!     launch → handshake → schema → Shutdown → exit, N times per target, interleaved; JSON out
//! datamesh-bench workload --prefix P --part domains|apply|terraform-data [sizes]
//!     prints the HCL of one part of the apply workload
//! datamesh-bench baseline --prefix P [sizes] [--concurrency 10]
//!     makes the apply workload's backend calls directly (stack env needed); JSON out
//! sizes: --domains 10 --products 100 --streams-per-product 2 --grants-per-product 2
//!
//! datamesh-bench workload --prefix P --part refresh|refresh-seed [sizes, --grants-per-product 0]
//!     the refresh workload (item 4): domains, products and all their streams, or only the
//!     first stream (the one Terraform creates, whose state the others' state copies)
//! datamesh-bench workload --prefix P --part peer-setup|peer-ours|peer-theirs [sizes] [--manage-acls true]
//!     the peer comparison: domains and products (untimed), then our streams and grants, or
//!     the same topics with a READ ACL per topic and consumer through the mongey/kafka provider
//! datamesh-bench refresh-setup --prefix P [sizes] [--skip 1] [--concurrency 32]
//!     creates the refresh workload's streams but the first --skip directly: topics and
//!     catalog entries (stack env needed); JSON out
//! datamesh-bench kafka-proxy --target HOST:PORT
//!     a TCP proxy counting Kafka requests by API; prints {"listen": ...}; stdin `take`
//!     prints and zeroes the counts (one JSON line)
//! ```

mod baseline;
mod refresh;
mod startup;
mod workload;

use std::process::ExitCode;

use workload::Workload;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            if !out.is_empty() {
                println!("{out}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("datamesh-bench: {e}");
            ExitCode::from(1)
        }
    }
}

/// `--name value` pairs after the subcommand; repeated names keep every value.
struct Flags(Vec<(String, String)>);

impl Flags {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut out = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let name = a.strip_prefix("--").ok_or_else(|| format!("unexpected argument {a:?}"))?;
            let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            out.push((name.to_string(), value.clone()));
        }
        Ok(Self(out))
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.all(name).last().copied()
    }

    fn num(&self, name: &str, default: usize) -> Result<usize, String> {
        self.get(name).map_or(Ok(default), |v| v.parse().map_err(|_| format!("--{name} wants a number, not {v:?}")))
    }

    fn workload(&self) -> Result<Workload, String> {
        let w = Workload {
            prefix: self.get("prefix").ok_or("--prefix is required")?.to_string(),
            domains: self.num("domains", 10)?,
            products: self.num("products", 100)?,
            streams_per_product: self.num("streams-per-product", 2)?,
            grants_per_product: self.num("grants-per-product", 2)?,
            manage_acls: match self.get("manage-acls") {
                None | Some("false") => false,
                Some("true") => true,
                Some(v) => return Err(format!("--manage-acls true|false, not {v:?}")),
            },
        };
        if w.domains < 2 || w.grants_per_product >= w.domains {
            return Err("grants go to other domains: need --domains > --grants-per-product >= 0 and 2+ domains".into());
        }
        Ok(w)
    }
}

fn run(args: &[String]) -> Result<String, String> {
    let (cmd, rest) =
        args.split_first().ok_or("usage: datamesh-bench startup|workload|baseline|refresh-setup|kafka-proxy ...")?;
    let flags = Flags::parse(rest)?;
    match cmd.as_str() {
        "startup" => {
            let targets = flags.all("target").into_iter().map(startup::Target::parse).collect::<Result<Vec<_>, _>>()?;
            if targets.is_empty() {
                return Err("startup needs at least one --target NAME=PATH:PROTOCOL:EXPECT".into());
            }
            let out = startup::run(&targets, flags.num("runs", 5)?)?;
            Ok(out.to_string())
        }
        "workload" => {
            let w = flags.workload()?;
            match flags.get("part") {
                Some("domains") => Ok(w.domains_hcl()),
                Some("apply") => Ok(w.apply_hcl()),
                Some("terraform-data") => Ok(w.terraform_data_hcl()),
                Some("refresh") => Ok(w.refresh_hcl(usize::MAX)),
                Some("refresh-seed") => Ok(w.refresh_hcl(1)),
                Some("peer-setup") => Ok(w.peer_setup_hcl()),
                Some("peer-ours") => Ok(w.peer_ours_hcl()),
                Some("peer-theirs") => Ok(w.peer_theirs_hcl()),
                other => Err(format!(
                    "--part domains|apply|terraform-data|refresh|refresh-seed|peer-setup|peer-ours|peer-theirs, not {other:?}"
                )),
            }
        }
        "baseline" => {
            let w = flags.workload()?;
            let out = baseline::run(&w, flags.num("concurrency", 10)?)?;
            Ok(out.to_string())
        }
        "refresh-setup" => {
            let w = flags.workload()?;
            let out = refresh::setup(&w, flags.num("skip", 1)?, flags.num("concurrency", 32)?)?;
            Ok(out.to_string())
        }
        "kafka-proxy" => {
            refresh::kafka_proxy(flags.get("target").ok_or("kafka-proxy needs --target HOST:PORT")?)?;
            Ok(String::new())
        }
        other => Err(format!("unknown subcommand {other:?}")),
    }
}
