//! The examples users copy are formatted as `terraform fmt` wants and valid, checked with the
//! pinned CLI: every configuration under `examples/terraform` (roots and modules) in a copy
//! of that tree, so relative module sources resolve; every other example directory
//! (`examples/resources/*`, `examples/data-sources/*`, `examples/provider`) alone in a
//! directory of its own, as a reader pastes it.

use std::path::{Path, PathBuf};

use crate::support::{combined, Tf};

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Every directory under `dir` holding `.tf` files, relative to `dir`, sorted.
fn config_dirs(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, found: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> =
            std::fs::read_dir(dir).expect("read dir").map(|e| e.expect("dir entry").path()).collect();
        entries.sort();
        if entries.iter().any(|p| p.is_file() && p.extension().is_some_and(|e| e == "tf")) {
            found.push(dir.strip_prefix(base).expect("under base").to_path_buf());
        }
        for p in entries {
            let hidden = p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if p.is_dir() && !hidden {
                walk(base, &p, found);
            }
        }
    }
    let mut found = Vec::new();
    walk(dir, dir, &mut found);
    found
}

/// `terraform init` then `terraform validate`; `Err` with the output when either fails.
fn init_and_validate(tf: &Tf) -> Result<(), String> {
    for args in [&["init", "-backend=false", "-input=false", "-no-color"][..], &["validate", "-no-color"][..]] {
        let out = tf.run(args);
        if !out.status.success() {
            return Err(format!("terraform {} failed:\n{}", args.join(" "), combined(&out)));
        }
    }
    Ok(())
}

#[test]
fn examples_are_formatted() {
    let tf = Tf::new();
    let examples = examples_dir();
    let files: usize = config_dirs(&examples)
        .iter()
        .map(|d| {
            std::fs::read_dir(examples.join(d))
                .unwrap()
                .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "tf"))
                .count()
        })
        .sum();
    assert!(files >= 10, "expected the examples' .tf files under {}, found {files}", examples.display());
    let dir = examples.display().to_string();
    let out = tf.run(&["fmt", "-check", "-recursive", "-diff", "-no-color", &dir]);
    assert!(
        out.status.success(),
        "These examples are not formatted (run `terraform fmt -recursive examples`):\n{}",
        combined(&out)
    );
}

#[test]
fn every_terraform_configuration_example_validates() {
    let tree = examples_dir().join("terraform");
    let dirs = config_dirs(&tree);
    for expected in ["quickstart", "domains/sales", "domains/marketing", "modules/data-product"] {
        assert!(dirs.contains(&PathBuf::from(expected)), "{expected} missing from {dirs:?}");
    }
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|d| {
            let tf = Tf::with_tree(&tree, &d.display().to_string());
            init_and_validate(&tf).err().map(|e| format!("examples/terraform/{}: {e}", d.display()))
        })
        .collect();
    eprintln!("validated {} configurations under examples/terraform", dirs.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_registry_doc_example_validates_on_its_own() {
    let examples = examples_dir();
    let dirs: Vec<PathBuf> = config_dirs(&examples).into_iter().filter(|d| !d.starts_with("terraform")).collect();
    for kind in ["resources", "data-sources", "provider"] {
        if examples.join(kind).is_dir() {
            assert!(dirs.iter().any(|d| d.starts_with(kind)), "examples/{kind} has no .tf example");
        }
    }
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|d| {
            let tf = Tf::new();
            let mut declares_provider = false;
            for entry in std::fs::read_dir(examples.join(d)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "tf") {
                    let hcl = std::fs::read_to_string(&path).unwrap();
                    declares_provider |= hcl.contains("required_providers");
                    tf.write_file(&path.file_name().unwrap().to_string_lossy(), &hcl);
                }
            }
            // Doc snippets leave the source out; without it Terraform would look for hashicorp/datamesh.
            if !declares_provider {
                tf.write_file(
                    "versions.tf",
                    "terraform {\n  required_providers {\n    datamesh = { source = \"datamesh/datamesh\" }\n  }\n}\n",
                );
            }
            init_and_validate(&tf).err().map(|e| format!("examples/{}: {e}", d.display()))
        })
        .collect();
    eprintln!("validated {} example directories outside examples/terraform", dirs.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
