//! `terraform-provider-datamesh mesh ...`: its flags (pure, unit-tested) and the run that reads
//! the catalog, draws it and writes the drawing.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use super::model::{Filter, Mesh};
use super::{dot, html, read, svg};
use crate::provider::config::ProviderConfig;

/// The command's help.
pub const USAGE: &str = "\
Usage: terraform-provider-datamesh mesh --format svg|html|dot [--output FILE] [OPTIONS]

Draws the data mesh the catalog bucket holds: domains (as columns or clusters), data products
with their ports (s3, hdfs, cassandra), streams, grants and pipelines; lineage as arrows
(inputs -> pipeline -> outputs), grants dashed (product -> consumer domain), classification
as colour, with a legend. html is the SVG in one self-contained page; dot is Graphviz text.

Options:
  --format svg|html|dot     what to write (required)
  --output FILE             write there instead of to stdout
  --catalog-bucket BUCKET   the catalog bucket (default: DATAMESH_CATALOG_BUCKET,
                            else <name-prefix>-catalog, as the provider's catalog_bucket)
  --name-prefix PREFIX      the provider's name_prefix (default: DATAMESH_NAME_PREFIX,
                            else datamesh)
  --s3-endpoint URL         S3 endpoint (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or AWS)
  --s3-force-path-style     address buckets as endpoint/bucket (most local S3 servers)
  --region REGION           AWS region (default: AWS_REGION, the shared config, us-east-1)
  --profile NAME            a profile of the shared AWS config
  --domain-prefix PREFIX    only the domains whose name starts with PREFIX (what they name
                            elsewhere is drawn as a dashed placeholder)
  --title TEXT              the drawing's title (default: the catalog bucket)
  -h, --help                this help

Credentials come from the standard AWS chain (environment, shared config and profile, web
identity, instance role), as for the provider's aws block.";

/// What to draw the mesh as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An SVG document.
    Svg,
    /// A self-contained HTML page around the SVG.
    Html,
    /// Graphviz DOT.
    Dot,
}

/// The parsed command line.
#[derive(Debug, Clone)]
pub struct Args {
    /// `--format`.
    pub format: Format,
    /// `--output`; None: stdout.
    pub output: Option<PathBuf>,
    /// The provider settings that find the catalog.
    pub config: ProviderConfig,
    /// `--domain-prefix`.
    pub filter: Filter,
    /// `--title`.
    pub title: Option<String>,
}

/// What parsing found instead of arguments to run with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// `--help`.
    Help,
    /// A mistake, said in a sentence.
    Usage(String),
}

/// Parses the arguments after `mesh`; `env` reads the environment (a function, for tests).
pub fn parse(args: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Args, ParseError> {
    let mut format = None;
    let mut output = None;
    let mut bucket = None;
    let mut prefix = None;
    let mut filter = Filter::default();
    let mut title = None;
    let mut config = ProviderConfig::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || -> Result<String, ParseError> {
            match inline.clone().or_else(|| it.next().cloned()) {
                Some(v) if !v.is_empty() => Ok(v),
                _ => Err(ParseError::Usage(format!("{flag} needs a value"))),
            }
        };
        match flag {
            "-h" | "--help" | "help" => return Err(ParseError::Help),
            "--format" => {
                format = Some(match value()?.as_str() {
                    "svg" => Format::Svg,
                    "html" => Format::Html,
                    "dot" => Format::Dot,
                    other => return Err(ParseError::Usage(format!("--format {other:?}: use svg, html or dot"))),
                })
            }
            "--output" | "-o" => output = Some(PathBuf::from(value()?)),
            "--catalog-bucket" => bucket = Some(value()?),
            "--name-prefix" => prefix = Some(value()?),
            "--s3-endpoint" => config.aws.s3_endpoint = Some(value()?),
            "--region" => config.aws.region = Some(value()?),
            "--profile" => config.aws.profile = Some(value()?),
            "--domain-prefix" => filter.domain_prefix = Some(value()?),
            "--title" => title = Some(value()?),
            "--s3-force-path-style" if inline.is_none() => config.aws.s3_force_path_style = true,
            other => return Err(ParseError::Usage(format!("unknown argument {other:?}"))),
        }
    }
    let format = format.ok_or_else(|| ParseError::Usage("--format is required (svg, html or dot)".into()))?;
    let prefix = prefix.or_else(|| env("DATAMESH_NAME_PREFIX")).filter(|p| !p.is_empty());
    if let Some(p) = &prefix {
        crate::naming::check_name_prefix(p).map_err(|e| ParseError::Usage(format!("--name-prefix: {e}")))?;
        config.name_prefix = p.clone();
    }
    config.catalog_bucket = bucket
        .or_else(|| env("DATAMESH_CATALOG_BUCKET").filter(|b| !b.is_empty()))
        .unwrap_or_else(|| format!("{}-catalog", config.name_prefix));
    Ok(Args { format, output, config, filter, title })
}

/// Draws the mesh of these entries in a format.
pub fn draw(format: Format, mesh: &Mesh) -> String {
    match format {
        Format::Svg => format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}", svg::render(mesh)),
        Format::Html => html::render(mesh),
        Format::Dot => dot::render(mesh),
    }
}

/// The command: parses `args` (what follows `mesh`), reads the catalog, writes the drawing.
/// Exit codes: 0 drawn, 1 the catalog could not be read or the drawing written, 2 usage.
pub fn run(args: &[String]) -> ExitCode {
    let args = match parse(args, |k| std::env::var(k).ok()) {
        Ok(a) => a,
        Err(ParseError::Help) => {
            eprintln!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(ParseError::Usage(msg)) => {
            eprintln!("terraform-provider-datamesh mesh: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terraform-provider-datamesh mesh: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bucket = args.config.catalog_bucket.clone();
    let read = runtime.block_on(async {
        let catalog = read::connect(args.config.clone()).await?;
        read::entries(&catalog).await.map_err(|e| e.to_string())
    });
    let (entries, warnings) = match read {
        Ok(r) => r,
        Err(e) => {
            eprintln!("terraform-provider-datamesh mesh: cannot read the catalog bucket {bucket:?}: {e}");
            return ExitCode::FAILURE;
        }
    };
    for w in &warnings {
        eprintln!("terraform-provider-datamesh mesh: warning: {w}");
    }
    if entries.domains.is_empty() && entries.products.is_empty() {
        eprintln!(
            "terraform-provider-datamesh mesh: warning: the catalog bucket {bucket:?} holds no domains or products \
             (missing, empty, or another name_prefix's?): drawing an empty mesh"
        );
    }
    let mesh = Mesh::from_entries(args.title.as_deref().unwrap_or(&bucket), entries, &args.filter);
    let drawing = draw(args.format, &mesh);
    let written = match &args.output {
        Some(path) => {
            std::fs::write(path, drawing.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        // Stdout belongs to the plugin handshake only when serving; this command never serves.
        None => std::io::stdout().lock().write_all(drawing.as_bytes()).map_err(|e| format!("cannot write stdout: {e}")),
    };
    if let Err(e) = written {
        eprintln!("terraform-provider-datamesh mesh: {e}");
        return ExitCode::FAILURE;
    }
    if let Some(path) = &args.output {
        let products = mesh.products().count();
        eprintln!(
            "terraform-provider-datamesh mesh: drew {} domains and {products} data products of {bucket} into {}",
            mesh.domains.len(),
            path.display()
        );
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn flags_set_where_the_catalog_is_and_what_to_draw() {
        let a = parse(
            &args("--format html --output m.html --name-prefix acme --s3-endpoint http://s3 --s3-force-path-style --region eu-west-1 --domain-prefix t1-"),
            no_env,
        )
        .expect("parses");
        assert_eq!(a.format, Format::Html);
        assert_eq!(a.output, Some(PathBuf::from("m.html")));
        assert_eq!(a.config.catalog_bucket, "acme-catalog");
        assert_eq!(a.config.aws.s3_endpoint.as_deref(), Some("http://s3"));
        assert!(a.config.aws.s3_force_path_style);
        assert_eq!(a.config.aws.region.as_deref(), Some("eu-west-1"));
        assert_eq!(a.filter.domain_prefix.as_deref(), Some("t1-"));
    }

    #[test]
    fn the_bucket_comes_from_the_flag_then_the_environment_then_the_prefix() {
        let env = |k: &str| match k {
            "DATAMESH_CATALOG_BUCKET" => Some("from-env".to_string()),
            "DATAMESH_NAME_PREFIX" => Some("envprefix".to_string()),
            _ => None,
        };
        assert_eq!(parse(&args("--format=dot --catalog-bucket=b"), env).expect("ok").config.catalog_bucket, "b");
        assert_eq!(parse(&args("--format dot"), env).expect("ok").config.catalog_bucket, "from-env");
        let prefix_only = |k: &str| (k == "DATAMESH_NAME_PREFIX").then(|| "envprefix".to_string());
        assert_eq!(parse(&args("--format dot"), prefix_only).expect("ok").config.catalog_bucket, "envprefix-catalog");
        assert_eq!(parse(&args("--format dot"), no_env).expect("ok").config.catalog_bucket, "datamesh-catalog");
    }

    #[test]
    fn mistakes_are_said_and_help_is_help() {
        let usage = |s: &str| match parse(&args(s), no_env) {
            Err(ParseError::Usage(m)) => m,
            other => panic!("{s}: {other:?}"),
        };
        assert!(usage("").contains("--format is required"));
        assert!(usage("--format png").contains("use svg, html or dot"));
        assert!(usage("--format svg --output").contains("--output needs a value"));
        assert!(usage("--format svg --bogus").contains("unknown argument \"--bogus\""));
        assert!(usage("--format svg --name-prefix Bad_Prefix").contains("--name-prefix"));
        assert!(usage("--format svg --s3-force-path-style=yes").contains("unknown argument"));
        assert!(matches!(parse(&args("--format svg --help"), no_env), Err(ParseError::Help)));
    }
}
