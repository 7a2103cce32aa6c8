//! How Terraform starts and talks to a plugin: the go-plugin handshake, AutoMTLS, the gRPC
//! services a go-plugin server must offer, and debug mode. [`run`] serves any
//! [`Provider`].

mod conn;
mod logging;
mod services;
mod tls;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UnixListener;
use tokio_util::sync::CancellationToken;

use crate::framework::Provider;
use crate::protocol::ProviderService;

/// The generated go-plugin internal services (controller, stdio, broker).
#[allow(unreachable_pub, missing_docs, dead_code, clippy::all)]
pub(crate) mod goplugin {
    tonic::include_proto!("plugin");
}

/// The cookie Terraform sets so a plugin knows it was started by Terraform.
const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's core protocol version and the Terraform plugin protocol this server speaks.
const CORE_PROTOCOL_VERSION: u32 = 1;
const APP_PROTOCOL_VERSION: u32 = 6;
/// Who the plugin is: the names it shows people and Terraform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The binary's name, like `terraform-provider-example`: the prefix of its error messages
    /// and the subject of its TLS certificate.
    pub name: &'static str,
    /// The provider's address as users write it in `required_providers`, like
    /// `registry.terraform.io/acme/example`: debug mode's reattach line names it.
    pub address: &'static str,
}

impl Options {
    /// The provider's type name, the last part of its address (`example`): hclog's `@module`.
    fn type_name(&self) -> &'static str {
        self.address.rsplit('/').next().unwrap_or(self.address)
    }

    /// What a person sees when running the binary by hand.
    pub fn usage(&self) -> String {
        format!(
            "This binary is a plugin for Terraform and OpenTofu. These are not commands you run directly: \
             Terraform starts it when a configuration uses the {} provider.\n\
             To debug it, run `{} --debug` and set the printed TF_REATTACH_PROVIDERS in the shell that runs terraform.",
            self.type_name(),
            self.name
        )
    }
}

/// How the server was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Started by Terraform: handshake on stdout, AutoMTLS when asked.
    Managed,
    /// Started by a person: print `TF_REATTACH_PROVIDERS` and serve until interrupted.
    Debug,
}

/// Serves `provider` until Terraform (or, in debug mode, the person) stops it.
pub fn run<P: Provider>(provider: P, options: Options, mode: Mode) -> ExitCode {
    let name = options.name;
    if mode == Mode::Managed && std::env::var(MAGIC_COOKIE_KEY).as_deref() != Ok(MAGIC_COOKIE_VALUE) {
        eprintln!("{}", options.usage());
        return ExitCode::from(1);
    }
    if mode == Mode::Managed {
        if let Err(e) = negotiate_protocol(std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref()) {
            eprintln!("{name}: {e}");
            return ExitCode::from(1);
        }
    }
    logging::init(options.type_name());
    // One thread runs every request: the provider's work is waiting on backends, and Terraform
    // sends it one small request at a time per resource. Handing requests between worker
    // threads cost more CPU than the requests themselves (`make bench`, plan of 1,000 streams:
    // 117 ms of plugin CPU with two workers, 100 ms with one). librdkafka's blocking calls still
    // run on tokio's blocking pool.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{name}: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(serve(provider, options, mode)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::from(1)
        }
    }
}

/// Picks protocol 6 from the versions Terraform offers (none offered means Terraform's default).
fn negotiate_protocol(offered: Option<&str>) -> Result<u32, String> {
    let Some(offered) = offered.filter(|s| !s.trim().is_empty()) else {
        return Ok(APP_PROTOCOL_VERSION);
    };
    if offered.split(',').any(|v| v.trim() == APP_PROTOCOL_VERSION.to_string()) {
        Ok(APP_PROTOCOL_VERSION)
    } else {
        Err(format!(
            "this provider speaks plugin protocol {APP_PROTOCOL_VERSION}, but the client offers only {offered}; \
             use Terraform >= 1.0 or OpenTofu >= 1.6"
        ))
    }
}

async fn serve<P: Provider>(provider: P, options: Options, mode: Mode) -> Result<(), String> {
    let shutdown = CancellationToken::new();
    let socket = SocketPath::create()?;
    let listener =
        UnixListener::bind(&socket.0).map_err(|e| format!("cannot listen on {}: {e}", socket.0.display()))?;

    let tls = match (mode, std::env::var("PLUGIN_CLIENT_CERT")) {
        (Mode::Managed, Ok(pem)) if !pem.trim().is_empty() => Some(tls::AutoMtls::new(&pem, options.name)?),
        _ => None,
    };

    let service = ProviderService::new(Arc::new(provider), shutdown.clone());
    let incoming = conn::accept_loop(listener, tls.as_ref().map(|t| t.acceptor()), shutdown.clone());
    let server = tokio::spawn(services::serve(service, incoming, shutdown.clone()));

    match mode {
        Mode::Managed => {
            let cert = tls.as_ref().map(|t| t.server_cert_base64()).unwrap_or_default();
            write_stdout(&format!(
                "{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|unix|{}|grpc|{cert}\n",
                socket.0.display()
            ));
        }
        Mode::Debug => write_stdout(&reattach_message(options.address, &socket.0)),
    }
    spawn_signal_handlers(mode, shutdown.clone());

    shutdown.cancelled().await;
    // Load tests and benchmarks read the provider's peak memory from this line.
    match peak_rss_kib() {
        Some(kib) => tracing::info!(peak_rss_kib = kib, "provider stopping"),
        // Never a made-up 0: a reader of the figure must see that there is none.
        None => tracing::info!("provider stopping (peak RSS unknown: no VmHWM in /proc/self/status)"),
    }
    // Terraform keeps its connection open after Shutdown; don't wait on it for long.
    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
    Ok(())
}

/// Terraform forwards Ctrl-C to the whole process group; like Go plugins, a managed plugin keeps
/// serving so Terraform can stop it cleanly (StopProvider, then Shutdown).
fn spawn_signal_handlers(mode: Mode, shutdown: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    tokio::spawn(async move {
        let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
            tracing::warn!("cannot install signal handlers");
            return;
        };
        loop {
            tokio::select! {
                _ = int.recv() => {
                    if mode == Mode::Debug { shutdown.cancel(); return; }
                    tracing::debug!("interrupt received; waiting for Terraform to stop the provider");
                }
                _ = term.recv() => { shutdown.cancel(); return; }
            }
        }
    });
}

fn reattach_message(address: &str, socket: &Path) -> String {
    let reattach = serde_json::json!({
        address: {
            "Protocol": "grpc",
            "ProtocolVersion": APP_PROTOCOL_VERSION,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": { "Network": "unix", "String": socket.display().to_string() }
        }
    });
    format!(
        "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable \
         with the following:\n\n\tTF_REATTACH_PROVIDERS='{reattach}'\n\n"
    )
}

/// The process's peak resident set size, from `/proc/self/status` (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Stdout is the handshake channel: this is the only place that writes to it.
#[allow(clippy::print_stdout)]
fn write_stdout(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}

/// The unix socket path, removed again when the server stops.
struct SocketPath(PathBuf);

impl SocketPath {
    /// A fresh path in `PLUGIN_UNIX_SOCKET_DIR` (go-plugin's setting) or the temp dir.
    fn create() -> Result<Self, String> {
        let dir = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
        let name = format!("plugin{}-{:08x}", std::process::id(), fastrand::u32(..));
        Ok(Self(dir.join(name)))
    }
}

impl Drop for SocketPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_6_is_chosen_when_offered() {
        assert_eq!(negotiate_protocol(Some("5,6")), Ok(6));
        assert_eq!(negotiate_protocol(None), Ok(6));
        let err = negotiate_protocol(Some("4,5")).unwrap_err();
        assert!(err.contains("protocol 6"), "{err}");
    }

    #[test]
    fn reattach_line_names_the_provider_and_socket() {
        let msg = reattach_message("registry.terraform.io/acme/example", Path::new("/tmp/plugin1"));
        assert!(msg.contains("TF_REATTACH_PROVIDERS='{\"registry.terraform.io/acme/example\""), "{msg}");
        assert!(msg.contains("\"String\":\"/tmp/plugin1\""), "{msg}");
    }
}
