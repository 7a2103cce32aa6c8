//! `terraform-provider-datamesh mesh`, looked at the way a person looks at it: Terraform applies
//! a small mesh on the stack (two domains, products with S3 ports and streams, a grant, a Flink
//! pipeline), the command draws the catalog, and Debian's chromium (installed by
//! `scripts/tools.sh`) opens the HTML headless: the screenshot must be a picture of the mesh
//! (not blank, the classification colours there), the page's DOM must hold a node per domain,
//! product, stream, grant and pipeline. The SVG parses as XML with the same nodes, and the DOT
//! text has the edges.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use crate::pipeline_test::flink_hcl;
use crate::support::{combined, provider_binary, Tf};

/// Chromium: `CHROMIUM`, else where Debian's package puts it.
fn chromium() -> PathBuf {
    let path = std::env::var("CHROMIUM").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "/usr/bin/chromium".into());
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "{} is missing: scripts/tools.sh installs Debian's chromium (ensure_chromium in scripts/lib/chromium.sh); \
         run it (as root) or set CHROMIUM=/path/to/chromium",
        path.display()
    );
    path
}

/// Chromium headless on a page, with a fresh profile and nothing reaching the network.
fn browse(page: &Path, mode: &[&str]) -> Output {
    let profile = tempfile::Builder::new().prefix("mesh-chromium-").tempdir().expect("profile dir");
    let url = format!("file://{}", page.display());
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(mode)
        .arg(&url)
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium {mode:?} {url} failed:\n{}", combined(&out));
    out
}

/// `mesh` on the test directory's catalog; stdout when no output file is given.
fn mesh(tf: &Tf, extra: &[&str]) -> String {
    let out = Command::new(provider_binary())
        .arg("mesh")
        .args(["--name-prefix", &tf.prefix, "--s3-force-path-style", "--title", "the mesh test's platform"])
        .args(extra)
        .output()
        .expect("run the provider binary");
    assert!(out.status.success(), "mesh {extra:?} failed:\n{}", combined(&out));
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// A hostile description (tags are validated, descriptions are free text): markup, quotes and
/// an ampersand, in HCL's escaping.
const HOSTILE_HCL: &str = r#"</title><script>alert(\"mesh\")</script> & 'q'"#;
/// The same text as the catalog holds it.
const HOSTILE: &str = r#"</title><script>alert("mesh")</script> & 'q'"#;

/// Two more products beside the Flink test's mesh: a confidential one with PII and hostile user
/// text in crm, a public one in sales, so three classifications show.
fn extra_products() -> String {
    format!(
        r#"
resource "datamesh_data_product" "profiles" {{
  domain         = datamesh_domain.crm.name
  name           = "profiles"
  description    = "{HOSTILE_HCL}"
  classification = "confidential"
  contains_pii   = true
  tags           = {{ note = "user text" }}
  force_destroy  = true
}}

resource "datamesh_data_product" "catalogue" {{
  domain         = datamesh_domain.sales.name
  name           = "catalogue"
  classification = "public"
  force_destroy  = true
}}
"#
    )
}

/// Every `(data-kind, data-id)` of an SVG document's elements, with the element's other
/// `data-*` attributes and its `<title>` text.
fn svg_nodes(svg: &str) -> BTreeMap<(String, String), (BTreeMap<String, String>, String)> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("the SVG is not XML: {e}\n{svg}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let mut out = BTreeMap::new();
    for n in doc.descendants().filter(|n| n.is_element()) {
        let (Some(kind), Some(id)) = (n.attribute("data-kind"), n.attribute("data-id")) else { continue };
        let attrs = n
            .attributes()
            .filter_map(|a| a.name().strip_prefix("data-").map(|k| (k.to_string(), a.value().to_string())))
            .collect();
        let title =
            n.children().find(|c| c.has_tag_name("title")).and_then(|t| t.text()).unwrap_or_default().to_string();
        out.insert((kind.to_string(), id.to_string()), (attrs, title));
    }
    out
}

/// The colour `#rrggbb` as RGB bytes.
fn rgb(hex: &str) -> [u8; 3] {
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex colour");
    [byte(1), byte(3), byte(5)]
}

/// Decodes an 8-bit RGB(A) PNG: its size and how many pixels have each colour.
fn png_colours(path: &Path) -> (u32, u32, BTreeMap<[u8; 3], usize>) {
    let file = std::io::BufReader::new(std::fs::File::open(path).expect("open screenshot"));
    let mut reader = png::Decoder::new(file).read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a frame size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "8-bit samples");
    let samples = info.color_type.samples();
    assert!(samples >= 3, "an RGB(A) screenshot, not {:?}", info.color_type);
    let mut colours = BTreeMap::new();
    for row in buf[..info.buffer_size()].chunks(info.line_size) {
        for px in row.chunks(samples).take(info.width as usize) {
            *colours.entry([px[0], px[1], px[2]]).or_insert(0) += 1;
        }
    }
    (info.width, info.height, colours)
}

#[test]
fn the_mesh_command_draws_the_catalog_and_a_browser_shows_every_node() {
    let started = Instant::now();
    let mut tf = Tf::new();
    let p = tf.prefix.clone();
    tf.env("TF_VAR_pw_crm", "crm-mesh-secret-1");
    tf.env("TF_VAR_pw_sales", "sales-mesh-secret-1");
    tf.write(&format!("{}{}", flink_hcl(&p, None, true), extra_products()));
    tf.apply();
    let (crm, sales) = (format!("{p}-crm"), format!("{p}-sales"));
    let want: Vec<(&str, String)> = vec![
        ("domain", crm.clone()),
        ("domain", sales.clone()),
        ("product", format!("{crm}/customers")),
        ("product", format!("{crm}/profiles")),
        ("product", format!("{sales}/enriched")),
        ("product", format!("{sales}/catalogue")),
        ("stream", format!("{crm}/customers/changes")),
        ("stream", format!("{sales}/enriched/counts")),
        ("grant", format!("{sales}:{crm}/customers")),
        ("pipeline", format!("{sales}/enrich")),
    ];

    // SVG: XML, with every node of this test, their classifications, the lineage edges, and
    // the hostile text as text (the parser hands it back unescaped, so it was escaped once).
    let svg = mesh(&tf, &["--format", "svg"]);
    let nodes = svg_nodes(&svg);
    for (kind, id) in &want {
        assert!(nodes.contains_key(&(kind.to_string(), id.clone())), "no {kind} {id} in the SVG: {:?}", nodes.keys());
    }
    let classification = |id: &str| nodes[&("product".to_string(), id.to_string())].0["classification"].clone();
    assert_eq!(classification(&format!("{crm}/customers")), "internal");
    assert_eq!(classification(&format!("{crm}/profiles")), "confidential");
    assert_eq!(classification(&format!("{sales}/catalogue")), "public");
    let (profile_attrs, profile_title) = &nodes[&("product".to_string(), format!("{crm}/profiles"))];
    assert_eq!(profile_attrs["pii"], "true");
    assert_eq!(profile_attrs["ports"], "s3", "the S3 port");
    assert!(profile_title.contains(HOSTILE), "the description, as text: {profile_title}");
    assert!(profile_title.contains("tags: note=user text"), "the tags: {profile_title}");
    assert!(!svg.contains("<script"), "markup from the catalog must not survive as markup");
    let lineage: BTreeSet<(String, String)> = roxmltree::Document::parse(&svg)
        .expect("XML")
        .descendants()
        .filter(|n| n.attribute("data-kind") == Some("lineage"))
        .filter_map(|n| Some((n.attribute("data-from")?.to_string(), n.attribute("data-to")?.to_string())))
        .collect();
    assert!(lineage.contains(&(format!("{crm}/customers"), format!("{sales}/enrich"))), "{lineage:?}");
    assert!(lineage.contains(&(format!("{sales}/enrich"), format!("{sales}/enriched"))), "{lineage:?}");

    // DOT: the clusters and the edges, grants dashed.
    let dot = mesh(&tf, &["--format", "dot"]);
    for edge in [
        format!("\"product:{crm}/customers\" -> \"pipeline:{sales}/enrich\""),
        format!("\"pipeline:{sales}/enrich\" -> \"product:{sales}/enriched\""),
        format!("\"product:{crm}/customers\" -> \"domain:{sales}\" [style=dashed"),
        format!("subgraph \"cluster_{crm}\""),
    ] {
        assert!(dot.contains(&edge), "no {edge} in the DOT:\n{dot}");
    }

    // The filter: crm alone, with sales only as the dashed placeholder of what crm's grant names.
    let only_crm = svg_nodes(&mesh(&tf, &["--format", "svg", "--domain-prefix", &crm]));
    assert_eq!(only_crm[&("domain".to_string(), crm.clone())].0["in-catalog"], "true");
    assert_eq!(only_crm[&("domain".to_string(), sales.clone())].0["in-catalog"], "false");
    assert!(!only_crm.contains_key(&("pipeline".to_string(), format!("{sales}/enrich"))));

    // HTML, in a browser: the DOM it builds has every node, and the hostile text stayed text.
    let dir = tempfile::Builder::new().prefix("mesh-html-").tempdir().expect("temp dir");
    let page = dir.path().join("mesh.html");
    mesh(&tf, &["--format", "html", "--output", page.to_str().expect("UTF-8 path")]);
    let dom = String::from_utf8(browse(&page, &["--dump-dom"]).stdout).expect("UTF-8 DOM");
    assert!(dom.contains("<svg") && dom.contains("Data mesh: the mesh test's platform"), "{dom}");
    for (kind, id) in &want {
        let attrs = format!("data-kind=\"{kind}\" data-id=\"{id}\"");
        assert!(dom.contains(&attrs), "the browser's DOM has no {attrs}:\n{dom}");
    }
    assert!(!dom.contains("<script"), "markup from the catalog ran as markup:\n{dom}");
    assert!(dom.contains("&lt;script&gt;alert(\"mesh\")&lt;/script&gt; &amp; 'q'"), "{dom}");

    // The screenshot: the window's size, not blank, and the three classification colours drawn
    // in solid areas (product bands, legend swatches).
    let shot = dir.path().join("mesh.png");
    browse(&page, &[&format!("--screenshot={}", shot.display()), "--window-size=1400,1000"]);
    let (w, h, colours) = png_colours(&shot);
    assert_eq!((w, h), (1400, 1000), "the window size");
    let total = (w * h) as usize;
    let white = colours.get(&[255, 255, 255]).copied().unwrap_or(0);
    assert!(total - white > total / 20, "{} of {total} pixels are not white: a blank page?", total - white);
    assert!(colours.len() > 50, "only {} distinct colours: no text or shapes?", colours.len());
    for (name, hex) in [("internal", "#1565c0"), ("confidential", "#ef6c00"), ("public", "#2e7d32")] {
        let n = colours.get(&rgb(hex)).copied().unwrap_or(0);
        assert!(n > 2_000, "{name} ({hex}) covers {n} pixels: the classification colours are not drawn");
    }
    if let Some(keep) = std::env::var_os("DATAMESH_MESH_SCREENSHOT") {
        std::fs::copy(&shot, &keep).expect("keep the screenshot");
    }
    tf.destroy();
    eprintln!("mesh test: {:.1}s", started.elapsed().as_secs_f64());
}
