//! `terraform-provider-datamesh`: parse flags and serve the plugin protocol — nothing else.

use std::process::ExitCode;

use terraform_provider_datamesh::plugin::{self, Mode};

fn main() -> ExitCode {
    let mut mode = Mode::Managed;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--debug" | "-debug" => mode = Mode::Debug,
            "--version" | "-version" => {
                eprintln!("terraform-provider-datamesh {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("terraform-provider-datamesh: unknown argument {other:?}\n\n{}", plugin::USAGE);
                return ExitCode::from(2);
            }
        }
    }
    plugin::run(mode)
}
