//! The SVG drawing, laid out by [`super::layout`]: domains as columns, products with their port
//! chips and streams, pipelines, lineage as solid arrows, grants as dashed arrows to the
//! consumer's domain, classification as colour with a legend. Every node is a `<g>` with a
//! stable `id` and `data-kind`, `data-id`, `data-name` and (products, streams)
//! `data-classification`, so a test or a stylesheet can find it; the full text is in its
//! `<title>` (a browser shows it on hover).

use std::fmt::Write as _;

use super::layout::{self, Layout, Rect, COLUMN, DOMAIN_TITLE, GAP, HEADER, MARGIN, PRODUCT_BAND};
use super::model::{classification_colour, Domain, Mesh, Pipeline, Product, Stream};
use super::text::{element_id, fit, xml};

/// Lineage arrows.
const LINEAGE: &str = "#263238";
/// Grant arrows.
const GRANT: &str = "#546e7a";
/// Pipelines' fill.
const PIPELINE_FILL: &str = "#37474f";
/// Domains' background.
const DOMAIN_FILL: &str = "#f4f6f8";
/// The font stack (Debian's chromium has DejaVu).
const FONT: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";

/// The mesh as an SVG document (no XML declaration, so it also embeds in HTML as it is).
pub fn render(mesh: &Mesh) -> String {
    let l = layout::layout(mesh);
    let mut top = String::new();
    let legend_end = header(&mut top, mesh);
    let mut s = String::new();
    // Wide enough for the legend too, when there are few domains.
    let (w, h) = (l.width.max(legend_end + MARGIN), l.height);
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" id="mesh" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT}" role="img" aria-labelledby="mesh-title">"#
    );
    let _ = writeln!(s, r#"<title id="mesh-title">Data mesh: {}</title>"#, xml(&mesh.title));
    let _ = writeln!(
        s,
        r#"<defs><marker id="arrow-lineage" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{LINEAGE}"/></marker><marker id="arrow-grant" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{GRANT}"/></marker></defs>"#
    );
    let _ = writeln!(s, r##"<rect width="{w}" height="{h}" fill="#ffffff"/>"##);
    s.push_str(&top);
    s.push_str("<g id=\"domains\">\n");
    for d in &mesh.domains {
        if let Some((r, _)) = l.domains.get(&d.name) {
            domain(&mut s, d, *r);
        }
    }
    s.push_str("</g>\n<g id=\"edges\">\n");
    lineage(&mut s, mesh, &l);
    grants(&mut s, mesh, &l);
    s.push_str("</g>\n<g id=\"nodes\">\n");
    for d in &mesh.domains {
        for p in &d.products {
            if let Some(r) = l.products.get(&p.id) {
                product(&mut s, &d.name, p, *r);
            }
            for st in &p.streams {
                if let Some(r) = l.streams.get(&st.id) {
                    stream(&mut s, p, st, *r);
                }
            }
        }
        for p in &d.pipelines {
            if let Some(r) = l.pipelines.get(&p.id) {
                pipeline(&mut s, &d.name, p, *r);
            }
        }
    }
    s.push_str("</g>\n</svg>\n");
    s
}

/// The title, the counts and the legend; returns where the legend ends on the right.
fn header(s: &mut String, mesh: &Mesh) -> u32 {
    let (x, mut y) = (MARGIN, MARGIN + 20);
    let _ = writeln!(
        s,
        r##"<text x="{x}" y="{y}" font-size="20" font-weight="bold" fill="#212121">{}</text>"##,
        xml(&fit(&mesh.title, 900, 20))
    );
    y += 22;
    let products: Vec<&Product> = mesh.products().collect();
    let streams: usize = products.iter().map(|p| p.streams.len()).sum();
    let _ = writeln!(
        s,
        r##"<text x="{x}" y="{y}" font-size="12" fill="#546e7a">{} domains · {} data products · {streams} streams · {} grants · {} pipelines</text>"##,
        mesh.domains.len(),
        products.len(),
        mesh.grants.len(),
        mesh.pipelines().count()
    );
    y += 14;
    let _ = write!(s, r#"<g id="legend" data-kind="legend">"#);
    let _ = write!(
        s,
        r##"<text x="{x}" y="{}" font-size="12" font-weight="bold" fill="#212121">Classification</text>"##,
        y + 14
    );
    let mut cx = x + 104;
    for c in mesh.classifications() {
        let colour = classification_colour(Some(&c));
        let _ = write!(
            s,
            r##"<g class="legend-item" data-classification="{c}"><rect x="{cx}" y="{}" width="16" height="16" rx="3" fill="{colour}"/><text x="{}" y="{}" font-size="12" fill="#212121">{c}</text></g>"##,
            y + 2,
            cx + 22,
            y + 14,
            c = xml(&c),
        );
        cx += 22 + (c.chars().count() as u32) * 8 + 18;
    }
    cx += 12;
    let _ = write!(
        s,
        r##"<path d="M{cx},{m} h36" stroke="{LINEAGE}" stroke-width="1.6" marker-end="url(#arrow-lineage)"/><text x="{}" y="{}" font-size="12" fill="#212121">lineage</text>"##,
        cx + 44,
        y + 14,
        m = y + 10
    );
    cx += 104;
    let _ = write!(
        s,
        r##"<path d="M{cx},{m} h36" stroke="{GRANT}" stroke-width="1.6" stroke-dasharray="6 4" marker-end="url(#arrow-grant)"/><text x="{}" y="{}" font-size="12" fill="#212121">grant (to the consumer)</text>"##,
        cx + 44,
        y + 14,
        m = y + 10
    );
    cx += 214;
    let _ = write!(
        s,
        r##"<rect x="{cx}" y="{}" width="22" height="16" rx="4" fill="{PIPELINE_FILL}"/><text x="{}" y="{}" font-size="12" fill="#212121">pipeline</text>"##,
        y + 2,
        cx + 28,
        y + 14
    );
    s.push_str("</g>\n");
    cx + 28 + 60
}

/// `data-*` attributes and the `id`, opening a node's `<g>`.
fn open(s: &mut String, kind: &str, id: &str, attrs: &[(&str, &str)]) {
    let _ =
        write!(s, r#"<g id="{}" class="node {kind}" data-kind="{kind}" data-id="{}""#, element_id(kind, id), xml(id));
    for (k, v) in attrs {
        let _ = write!(s, r#" data-{k}="{}""#, xml(v));
    }
    s.push('>');
}

/// A node's `<title>`: its lines, escaped.
fn title(s: &mut String, lines: &[String]) {
    let _ = write!(s, "<title>{}</title>", xml(&lines.join("\n")));
}

fn tag_line(tags: &std::collections::BTreeMap<String, String>) -> Option<String> {
    (!tags.is_empty()).then(|| {
        let pairs: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("tags: {}", pairs.join(", "))
    })
}

fn domain(s: &mut String, d: &Domain, r: Rect) {
    let in_catalog = if d.in_catalog { "true" } else { "false" };
    open(s, "domain", &d.name, &[("name", &d.name), ("in-catalog", in_catalog)]);
    let mut lines = vec![format!("domain {}", d.name)];
    lines.extend(d.owner.iter().map(|o| format!("owner: {o}")));
    lines.extend(d.description.clone());
    lines.extend(tag_line(&d.tags));
    if !d.in_catalog {
        lines.push("not in this catalog (or left out by the filter)".into());
    }
    title(s, &lines);
    let dash = if d.in_catalog { "" } else { r#" stroke-dasharray="5 4""# };
    let _ = write!(
        s,
        r##"<rect x="{}" y="{}" width="{}" height="{}" rx="10" fill="{DOMAIN_FILL}" stroke="#90a4ae" stroke-width="1.5"{dash}/>"##,
        r.x, r.y, r.w, r.h
    );
    let _ = write!(
        s,
        r##"<text x="{}" y="{}" font-size="16" font-weight="bold" fill="#263238">{}</text>"##,
        r.x + 14,
        r.y + 24,
        xml(&fit(&d.name, COLUMN - 28, 16))
    );
    let sub = d.owner.clone().unwrap_or_else(|| "not in the catalog".into());
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{}" font-size="11" fill="#607d8b">{}</text></g>"##,
        r.x + 14,
        r.y + 40,
        xml(&fit(&sub, COLUMN - 28, 11))
    );
}

fn product(s: &mut String, domain: &str, p: &Product, r: Rect) {
    let colour = classification_colour(p.classification.as_deref());
    let classification = p.classification.clone().unwrap_or_default();
    let kinds: Vec<&str> = p.ports.iter().map(|(k, _)| k.as_str()).collect();
    let ports = kinds.join(" ");
    let pii = if p.contains_pii { "true" } else { "false" };
    let in_catalog = if p.in_catalog { "true" } else { "false" };
    open(
        s,
        "product",
        &p.id,
        &[
            ("domain", domain),
            ("name", &p.name),
            ("classification", &classification),
            ("pii", pii),
            ("ports", &ports),
            ("in-catalog", in_catalog),
        ],
    );
    let mut lines = vec![format!("data product {}", p.id)];
    if let Some(c) = &p.classification {
        lines.push(format!("classification: {c}{}", if p.contains_pii { ", contains personal data" } else { "" }));
    } else {
        lines.push("not in this catalog (or left out by the filter)".into());
    }
    lines.extend(p.owner.iter().map(|o| format!("owner: {o}")));
    lines.extend(p.description.clone());
    lines.extend(p.ports.iter().map(|(k, loc)| format!("{k} port: {loc}")));
    lines.extend(tag_line(&p.tags));
    title(s, &lines);
    let dash = if p.in_catalog { "" } else { r#" stroke-dasharray="5 4""# };
    let _ = write!(
        s,
        r##"<rect x="{}" y="{}" width="{}" height="{}" rx="4" fill="#ffffff" stroke="{colour}" stroke-width="2"{dash}/>"##,
        r.x, r.y, r.w, r.h
    );
    let _ = write!(s, r#"<rect x="{}" y="{}" width="{}" height="{PRODUCT_BAND}" fill="{colour}"/>"#, r.x, r.y, r.w);
    let label = match (&p.classification, p.contains_pii) {
        (Some(c), true) => format!("{c} · PII"),
        (Some(c), false) => c.clone(),
        (None, _) => "?".into(),
    };
    let label_room = (label.chars().count() as u32 * 7).min(r.w / 2);
    let _ = write!(
        s,
        r##"<text x="{}" y="{}" font-size="13" font-weight="bold" fill="#ffffff">{}</text><text x="{}" y="{}" font-size="11" text-anchor="end" fill="#ffffff">{}</text>"##,
        r.x + 8,
        r.y + 19,
        xml(&fit(&p.name, r.w - 24 - label_room, 13)),
        r.right() - 8,
        r.y + 19,
        xml(&fit(&label, r.w / 2, 11)),
    );
    let mut cx = r.x + 8;
    let cy = r.y + PRODUCT_BAND + 8;
    if p.ports.is_empty() {
        let _ = write!(s, r##"<text x="{cx}" y="{}" font-size="11" fill="#9e9e9e">no ports</text>"##, cy + 14);
    }
    for (kind, location) in &p.ports {
        let width = (kind.chars().count() as u32 * 8 + 20).min(r.w / 3);
        if cx + width > r.right() - 8 {
            break;
        }
        let _ = write!(
            s,
            r##"<g class="port" data-kind="port" data-port="{k}" data-location="{loc}"><rect x="{cx}" y="{cy}" width="{width}" height="20" rx="10" fill="#eceff1" stroke="#b0bec5"/><text x="{}" y="{}" font-size="11" text-anchor="middle" fill="#37474f">{k}</text></g>"##,
            cx + width / 2,
            cy + 14,
            k = xml(&fit(kind, width - 8, 11)),
            loc = xml(location),
        );
        cx += width + 6;
    }
    s.push_str("</g>\n");
}

fn stream(s: &mut String, p: &Product, st: &Stream, r: Rect) {
    let colour = classification_colour(p.classification.as_deref());
    let classification = p.classification.clone().unwrap_or_default();
    open(
        s,
        "stream",
        &st.id,
        &[("product", &p.id), ("name", &st.name), ("classification", &classification), ("topic", &st.topic)],
    );
    title(s, &[format!("stream {}", st.id), format!("topic: {}", st.topic), format!("partitions: {}", st.partitions)]);
    let _ = write!(
        s,
        r##"<rect x="{}" y="{}" width="{}" height="{}" rx="14" fill="#fafafa" stroke="{colour}" stroke-width="1.5"/><circle cx="{}" cy="{}" r="5" fill="{colour}"/><text x="{}" y="{}" font-size="12" fill="#263238">{}</text>"##,
        r.x,
        r.y,
        r.w,
        r.h,
        r.x + 14,
        r.y + r.h / 2,
        r.x + 26,
        r.y + 18,
        xml(&fit(&st.name, r.w - 36, 12)),
    );
    s.push_str("</g>\n");
}

fn pipeline(s: &mut String, domain: &str, p: &Pipeline, r: Rect) {
    let state = p.state.clone().unwrap_or_default();
    open(s, "pipeline", &p.id, &[("domain", domain), ("name", &p.name), ("engine", &p.engine), ("state", &state)]);
    let mut lines = vec![format!("pipeline {} ({})", p.id, p.engine)];
    lines.extend(p.state.iter().map(|st| format!("state: {st}")));
    lines.push(format!("reads: {}", p.reads.join(", ")));
    lines.push(format!("writes: {}", p.outputs.join(", ")));
    title(s, &lines);
    let sub = if state.is_empty() { p.engine.clone() } else { format!("{} · {state}", p.engine) };
    let _ = write!(
        s,
        r##"<rect x="{}" y="{}" width="{}" height="{}" rx="8" fill="{PIPELINE_FILL}"/><text x="{}" y="{}" font-size="13" font-weight="bold" fill="#ffffff">{}</text><text x="{}" y="{}" font-size="11" fill="#cfd8dc">{}</text>"##,
        r.x,
        r.y,
        r.w,
        r.h,
        r.x + 10,
        r.y + 19,
        xml(&fit(&p.name, r.w - 20, 13)),
        r.x + 10,
        r.y + 36,
        xml(&fit(&sub, r.w - 20, 11)),
    );
    s.push_str("</g>\n");
}

/// A curve from one box to another, leaving and entering at the sides facing each other (the
/// right sides, bulging outwards by `lane`, when both are in one column); and its midpoint.
/// Between columns further apart it runs along the gutter above the domains, so it never
/// crosses the columns between.
fn curve(from: Rect, from_col: usize, to: Rect, to_col: usize, lane: u32) -> (String, (f64, f64)) {
    let y1 = f64::from(from.y + from.h / 2);
    let y2 = f64::from(to.y + to.h / 2);
    if from_col.abs_diff(to_col) > 1 {
        let gutter = f64::from(HEADER + MARGIN) - 9.0;
        let half = f64::from(GAP / 2);
        // Out of the source's facing side into the gap beside it, up to the gutter, along it to
        // the gap beside the target, down and in.
        let (a, b, g1, g2, turn) = if from_col < to_col {
            let (a, b) = (f64::from(from.right()), f64::from(to.x));
            (a, b, a + half, b - half, 16.0)
        } else {
            let (a, b) = (f64::from(from.x), f64::from(to.right()));
            (a, b, a - half, b + half, -16.0)
        };
        let d = format!(
            "M{a:.1},{y1:.1} C{g1:.1},{y1:.1} {g1:.1},{gutter:.1} {:.1},{gutter:.1} L{:.1},{gutter:.1} C{g2:.1},{gutter:.1} {g2:.1},{y2:.1} {b:.1},{y2:.1}",
            g1 + turn,
            g2 - turn
        );
        return (d, ((g1 + g2) / 2.0, gutter));
    }
    let (x1, c1, c2, x2) = if from_col < to_col {
        let (a, b) = (f64::from(from.right()), f64::from(to.x));
        let dx = ((b - a) / 2.0).max(30.0);
        (a, a + dx, b - dx, b)
    } else if from_col > to_col {
        let (a, b) = (f64::from(from.x), f64::from(to.right()));
        let dx = ((a - b) / 2.0).max(30.0);
        (a, a - dx, b + dx, b)
    } else {
        let (a, b) = (f64::from(from.right()), f64::from(to.right()));
        let bulge = f64::from((28 + 10 * lane).min(GAP / 2 - 6));
        (a, a + bulge, b + bulge, b)
    };
    let d = format!("M{x1:.1},{y1:.1} C{c1:.1},{y1:.1} {c2:.1},{y2:.1} {x2:.1},{y2:.1}");
    // A cubic Bézier's point at t = 1/2.
    let mid = ((x1 + 3.0 * c1 + 3.0 * c2 + x2) / 8.0, (y1 + y2) / 2.0);
    (d, mid)
}

fn lineage(s: &mut String, mesh: &Mesh, l: &Layout) {
    let mut lane = 0;
    for d in &mesh.domains {
        for p in &d.pipelines {
            let Some(&pr) = l.pipelines.get(&p.id) else { continue };
            let col = l.column(&d.name);
            let ends = p
                .reads
                .iter()
                .map(|r| (r, true))
                .chain(p.outputs.iter().map(|o| (o, false)))
                .filter_map(|(id, read)| l.products.get(id).map(|r| (id, read, *r)));
            for (product, read, r) in ends {
                let pcol = l.column(product.split_once('/').map_or(product.as_str(), |(dom, _)| dom));
                let (from, to, (d_attr, _)) = if read {
                    (product.as_str(), p.id.as_str(), curve(r, pcol, pr, col, lane))
                } else {
                    (p.id.as_str(), product.as_str(), curve(pr, col, r, pcol, lane))
                };
                lane += 1;
                let _ = writeln!(
                    s,
                    r#"<path class="edge lineage" data-kind="lineage" data-from="{}" data-to="{}" d="{d_attr}" fill="none" stroke="{LINEAGE}" stroke-width="1.6" marker-end="url(#arrow-lineage)"/>"#,
                    xml(from),
                    xml(to)
                );
            }
        }
    }
}

fn grants(s: &mut String, mesh: &Mesh, l: &Layout) {
    for (lane, g) in mesh.grants.iter().enumerate() {
        let (Some(&pr), Some(&(dr, dcol))) = (l.products.get(&g.product), l.domains.get(&g.consumer)) else { continue };
        let pcol = l.column(g.product.split_once('/').map_or(g.product.as_str(), |(d, _)| d));
        let title_bar = Rect { h: DOMAIN_TITLE, ..dr };
        let (d_attr, (mx, my)) = curve(pr, pcol, title_bar, dcol, lane as u32);
        let expires = g.expires_at.clone().unwrap_or_default();
        open(
            s,
            "grant",
            &g.id,
            &[("consumer", &g.consumer), ("product", &g.product), ("access", &g.access), ("expires-at", &expires)],
        );
        let mut lines =
            vec![format!("grant {}", g.id), format!("access: {}", g.access), format!("purpose: {}", g.purpose)];
        lines.extend(g.expires_at.iter().map(|e| format!("expires: {e}")));
        title(s, &lines);
        let label = fit(&g.access, 90, 11);
        let lw = label.chars().count() as f64 * 7.0 + 10.0;
        let _ = writeln!(
            s,
            r##"<path d="{d_attr}" fill="none" stroke="{GRANT}" stroke-width="1.6" stroke-dasharray="6 4" marker-end="url(#arrow-grant)"/><rect x="{:.1}" y="{:.1}" width="{lw:.1}" height="16" rx="3" fill="#ffffff" stroke="{GRANT}" stroke-width="0.8"/><text x="{mx:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="{GRANT}">{}</text></g>"##,
            mx - lw / 2.0,
            my - 8.0,
            my + 4.0,
            xml(&label),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::model::tests::{product as product_entry, sample};
    use crate::mesh::model::{Entries, Filter};

    fn drawn(entries: Entries) -> String {
        render(&Mesh::from_entries("Acme's <mesh>", entries, &Filter::default()))
    }

    #[test]
    fn every_node_is_an_element_with_its_kind_id_and_classification() {
        let svg = drawn(sample());
        for want in [
            r#"<g id="domain-crm" class="node domain" data-kind="domain" data-id="crm" data-name="crm" data-in-catalog="true">"#,
            r#"<g id="product-crm_customers" class="node product" data-kind="product" data-id="crm/customers" data-domain="crm" data-name="customers" data-classification="internal""#,
            r#"<g id="stream-crm_customers_changes" class="node stream" data-kind="stream" data-id="crm/customers/changes""#,
            r#"<g id="pipeline-sales_enrich" class="node pipeline" data-kind="pipeline" data-id="sales/enrich""#,
            r#"<g id="grant-sales_crm_customers" class="node grant" data-kind="grant" data-id="sales:crm/customers""#,
            r#"data-kind="lineage" data-from="crm/customers" data-to="sales/enrich""#,
            r#"data-kind="lineage" data-from="sales/enrich" data-to="sales/enriched""#,
            r#"data-port="s3" data-location="s3://b-crm-customers/""#,
            r#"<g class="legend-item" data-classification="internal"><rect"#,
            r##"fill="#1565c0""##,
            r##"fill="#ef6c00""##,
            "stroke-dasharray=\"6 4\"",
            "Acme&#39;s &lt;mesh&gt;",
        ] {
            assert!(svg.contains(want), "missing {want}:\n{svg}");
        }
    }

    #[test]
    fn hostile_catalog_text_is_escaped_everywhere() {
        let mut entries = sample();
        let mut p = product_entry("crm", "evil", "public");
        p.description = Some("</title><script>alert(\"x\")</script> & 'q'".into());
        p.tags.insert("note\"><script>".into(), "<img src=x onerror=alert(1)>".into());
        p.port_list[0].location = "s3://b/\"><script>alert(2)</script>".into();
        entries.products.push(p);
        entries.grants[0].purpose = "<script>alert(3)</script>".into();
        entries.domains[0].description = Some("a & b < c".into());
        let svg = drawn(entries);
        assert!(!svg.contains("<script") && !svg.contains("<img"), "{svg}");
        assert!(svg.contains("&lt;/title&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"));
        assert!(svg.contains("&lt;script&gt;alert(3)&lt;/script&gt;"));
        assert!(svg.contains("a &amp; b &lt; c"));
        assert_eq!(svg.matches("<title").count(), svg.matches("</title>").count());
    }

    #[test]
    fn the_drawing_is_wide_enough_for_its_legend() {
        let svg = drawn(sample());
        let width: u32 = svg
            .split_once("width=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .and_then(|(w, _)| w.parse().ok())
            .expect("a width");
        let mut top = String::new();
        let end = header(&mut top, &Mesh::from_entries("t", sample(), &Filter::default()));
        assert!(width >= end + MARGIN, "{width} < {end}");
    }

    #[test]
    fn an_empty_catalog_draws_an_empty_mesh() {
        let svg = drawn(Entries::default());
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("0 domains"));
    }

    #[test]
    fn same_column_edges_bulge_right_and_cross_column_edges_face_each_other() {
        let a = Rect { x: 10, y: 10, w: 100, h: 20 };
        let b = Rect { x: 10, y: 100, w: 100, h: 20 };
        let (d, (mx, _)) = curve(a, 0, b, 0, 0);
        assert!(d.starts_with("M110.0,20.0 C138.0,20.0"), "{d}");
        assert!(mx > 110.0);
        let c = Rect { x: 300, y: 10, w: 100, h: 20 };
        let (d, _) = curve(a, 0, c, 1, 0);
        assert!(d.starts_with("M110.0,20.0") && d.ends_with("300.0,20.0"), "{d}");
        let (d, _) = curve(c, 1, a, 0, 0);
        assert!(d.starts_with("M300.0,20.0") && d.ends_with("110.0,20.0"), "{d}");
        // Two columns apart: along the gutter above the domains, never through the middle one.
        let far = Rect { x: 1000, y: 200, w: 100, h: 20 };
        let (d, (_, my)) = curve(a, 0, far, 2, 0);
        let gutter = f64::from(HEADER + MARGIN) - 9.0;
        assert_eq!(my, gutter);
        assert!(d.contains(&format!(" L{:.1},{gutter:.1} ", 1000.0 - f64::from(GAP / 2) - 16.0)), "{d}");
        assert!(d.ends_with("1000.0,210.0"), "{d}");
        let (back, _) = curve(far, 2, a, 0, 0);
        assert!(back.starts_with("M1000.0,210.0") && back.ends_with("110.0,20.0"), "{back}");
    }
}
