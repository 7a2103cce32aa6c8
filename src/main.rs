//! `terraform-provider-datamesh`: parse flags and serve the plugin protocol — nothing else.

use std::process::ExitCode;

use terraform_provider_datamesh::provider::{DatameshProvider, ADDRESS};
use tfplugin::plugin::{self, Mode, Options};

const OPTIONS: Options = Options { name: "terraform-provider-datamesh", address: ADDRESS };

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
                eprintln!("terraform-provider-datamesh: unknown argument {other:?}\n\n{}", OPTIONS.usage());
                return ExitCode::from(2);
            }
        }
    }
    plugin::run(DatameshProvider, OPTIONS, mode)
}
