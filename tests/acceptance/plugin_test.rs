//! The plugin binary itself: run by hand, its schema, and debug mode.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::{provider_binary, Tf};

#[test]
fn run_by_hand_it_explains_itself_and_exits_non_zero() {
    let out = Command::new(provider_binary()).env_remove("TF_PLUGIN_MAGIC_COOKIE").output().unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing on stdout, the handshake channel");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plugin for Terraform"), "{err}");
    assert!(err.contains("--debug"), "{err}");
}

#[test]
fn an_unsupported_protocol_version_is_refused() {
    let out = Command::new(provider_binary())
        .env("TF_PLUGIN_MAGIC_COOKIE", "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2")
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("protocol 6"));
}

#[test]
fn schema_has_the_three_resources_and_a_description_on_every_attribute() {
    let tf = Tf::new();
    tf.write("");
    let out = tf.run(&["providers", "schema", "-json"]);
    assert!(out.status.success(), "{}", crate::support::combined(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value = serde_json::from_str(text.lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    let schema = &json["provider_schemas"]["registry.terraform.io/datamesh/datamesh"];
    let mut blocks = vec![("provider".to_string(), schema["provider"]["block"].clone())];
    for name in ["datamesh_domain", "datamesh_data_product", "datamesh_stream"] {
        let block = schema["resource_schemas"][name]["block"].clone();
        assert!(block.is_object(), "{name} is in the schema");
        blocks.push((name.to_string(), block));
    }
    let mut checked = 0;
    while let Some((name, block)) = blocks.pop() {
        assert!(!block["description"].as_str().unwrap_or("").is_empty(), "{name} has a description");
        for (attr, a) in block["attributes"].as_object().into_iter().flatten() {
            assert!(!a["description"].as_str().unwrap_or("").is_empty(), "{name}.{attr} has a description");
            checked += 1;
        }
        for (nested, b) in block["block_types"].as_object().into_iter().flatten() {
            blocks.push((format!("{name}.{nested}"), b["block"].clone()));
        }
    }
    assert!(checked > 40, "checked {checked} attributes");
    let secret = &schema["provider"]["block"]["block_types"]["aws"]["block"]["attributes"]["secret_key"];
    assert_eq!(secret["sensitive"], true);
}

#[test]
fn debug_mode_prints_a_reattach_line_terraform_can_use() {
    let mut child =
        Command::new(provider_binary()).arg("--debug").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reattach = None;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(v) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS=") {
            reattach = Some(v.trim_matches('\'').to_string());
            break;
        }
    }
    let reattach = reattach.expect("a TF_REATTACH_PROVIDERS line");
    let mut tf = Tf::new();
    tf.env("TF_REATTACH_PROVIDERS", &reattach);
    tf.write("");
    let out = tf.run(&["plan", "-no-color"]);
    let _ = child.kill();
    let _ = child.wait();
    let text = crate::support::combined(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("No changes."), "{text}");
}
