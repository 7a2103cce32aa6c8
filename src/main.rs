//! `terraform-provider-datamesh`: parse flags and serve the plugin protocol — nothing else
//! (`mesh ...` hands its arguments to [`terraform_provider_datamesh::mesh::cli`]).

use std::process::ExitCode;

use terraform_provider_datamesh::mesh;
use terraform_provider_datamesh::provider::{DatameshProvider, ADDRESS};
use tfplugin::plugin::{self, Mode, Options};

const OPTIONS: Options = Options { name: "terraform-provider-datamesh", address: ADDRESS };

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("mesh") {
        return mesh::cli::run(&args[1..]);
    }
    let mut mode = Mode::Managed;
    for arg in args {
        match arg.as_str() {
            "--debug" | "-debug" => mode = Mode::Debug,
            "--version" | "-version" => {
                eprintln!("terraform-provider-datamesh {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!(
                    "terraform-provider-datamesh: unknown argument {other:?}\n\n{}\n\nTo draw the catalog's mesh: terraform-provider-datamesh mesh --help",
                    OPTIONS.usage()
                );
                return ExitCode::from(2);
            }
        }
    }
    plugin::run(DatameshProvider, OPTIONS, mode)
}
