//! Compiles the plugin protocol (written in the repository's `proto/`) with a pure-Rust
//! protobuf compiler, so a fresh machine builds with `cargo build` alone (no `protoc`). Only
//! the `server` feature needs the generated types.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    #[cfg(feature = "server")]
    {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../proto");
        let files = [format!("{dir}/tfplugin6.proto"), format!("{dir}/plugin.proto")];
        for f in &files {
            println!("cargo:rerun-if-changed={f}");
        }
        let descriptors = protox::compile(&files, [dir])?;
        tonic_prost_build::configure()
            .build_client(true)
            .build_server(true)
            // Calls a provider does not serve answer `Unimplemented`, which Terraform tolerates.
            .generate_default_stubs(true)
            .compile_fds(descriptors)?;
    }
    Ok(())
}
