//! Compiles the plugin protocol (written in `proto/`) with a pure-Rust protobuf compiler, so a
//! fresh machine builds with `cargo build` alone (no `protoc` to install).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/tfplugin6.proto", "proto/plugin.proto"];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Calls this provider does not serve answer `Unimplemented`, which Terraform tolerates.
        .generate_default_stubs(true)
        .compile_fds(descriptors)?;
    Ok(())
}
