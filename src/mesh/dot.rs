//! The mesh as Graphviz DOT, for those who have graphviz (`dot -Tpng`): a cluster per domain
//! holding its products, streams and pipelines; lineage as edges, grants as dashed edges to the
//! consumer domain's node, classification as the products' fill, and a legend cluster.

use std::fmt::Write as _;

use super::model::{classification_colour, Mesh};
use super::text::dot as q;

/// DOT node names: kind and catalog ID, quoted.
fn node(kind: &str, id: &str) -> String {
    q(&format!("{kind}:{id}"))
}

/// The mesh as a DOT `digraph`.
pub fn render(mesh: &Mesh) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "digraph mesh {{");
    let _ = writeln!(
        s,
        "  graph [rankdir=LR, compound=true, fontname=\"Helvetica\", labelloc=t, label={}];",
        q(&format!("Data mesh: {}", mesh.title))
    );
    let _ = writeln!(s, "  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=10];");
    for d in &mesh.domains {
        let _ = writeln!(s, "  subgraph {} {{", q(&format!("cluster_{}", d.name)));
        let style = if d.in_catalog { "filled" } else { "filled,dashed" };
        let _ = writeln!(s, "    label={}; style={}; fillcolor=\"#f4f6f8\"; color=\"#90a4ae\";", q(&d.name), q(style));
        let owner = d.owner.clone().unwrap_or_else(|| "not in the catalog".into());
        let _ = writeln!(
            s,
            "    {} [shape=box, style=\"rounded,bold\", label={}];",
            node("domain", &d.name),
            q(&format!("{}\n{owner}", d.name))
        );
        for p in &d.products {
            let colour = classification_colour(p.classification.as_deref());
            let mut label = format!("{}\n{}", p.name, p.classification.as_deref().unwrap_or("not in the catalog"));
            if p.contains_pii {
                label.push_str(" · PII");
            }
            for (kind, location) in &p.ports {
                let _ = write!(label, "\n{kind}: {location}");
            }
            let _ = writeln!(
                s,
                "    {} [shape=box, style=filled, fillcolor={}, fontcolor=\"#ffffff\", label={}, tooltip={}];",
                node("product", &p.id),
                q(colour),
                q(&label),
                q(p.description.as_deref().unwrap_or(&p.id))
            );
            for st in &p.streams {
                let _ = writeln!(
                    s,
                    "    {} [shape=box, style=rounded, color={}, label={}];\n    {} -> {} [arrowhead=none, style=dotted];",
                    node("stream", &st.id),
                    q(colour),
                    q(&format!("{}\n{}", st.name, st.topic)),
                    node("product", &p.id),
                    node("stream", &st.id)
                );
            }
        }
        for p in &d.pipelines {
            let sub = p.state.as_deref().map_or(p.engine.clone(), |st| format!("{} · {st}", p.engine));
            let _ = writeln!(
                s,
                "    {} [shape=box, style=\"rounded,filled\", fillcolor=\"#37474f\", fontcolor=\"#ffffff\", label={}];",
                node("pipeline", &p.id),
                q(&format!("{}\n{sub}", p.name))
            );
        }
        let _ = writeln!(s, "  }}");
    }
    for p in mesh.pipelines() {
        for r in &p.reads {
            let _ = writeln!(s, "  {} -> {} [color=\"#263238\"];", node("product", r), node("pipeline", &p.id));
        }
        for o in &p.outputs {
            let _ = writeln!(s, "  {} -> {} [color=\"#263238\"];", node("pipeline", &p.id), node("product", o));
        }
    }
    for g in &mesh.grants {
        let _ = writeln!(
            s,
            "  {} -> {} [style=dashed, color=\"#546e7a\", label={}, tooltip={}];",
            node("product", &g.product),
            node("domain", &g.consumer),
            q(&g.access),
            q(&g.purpose)
        );
    }
    let classes = mesh.classifications();
    if !classes.is_empty() {
        let _ = writeln!(s, "  subgraph cluster_legend {{\n    label=\"classification\"; color=\"#b0bec5\";");
        for c in &classes {
            let _ = writeln!(
                s,
                "    {} [shape=box, style=filled, fillcolor={}, fontcolor=\"#ffffff\", label={}];",
                node("legend", c),
                q(classification_colour(Some(c))),
                q(c)
            );
        }
        let _ = writeln!(s, "  }}");
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::model::tests::sample;
    use crate::mesh::model::Filter;

    #[test]
    fn clusters_nodes_and_edges_are_all_there() {
        let dot = render(&Mesh::from_entries("t", sample(), &Filter::default()));
        for want in [
            "subgraph \"cluster_crm\" {",
            "\"product:crm/customers\" [shape=box, style=filled, fillcolor=\"#1565c0\"",
            "\"stream:crm/customers/changes\"",
            "\"product:crm/customers\" -> \"pipeline:sales/enrich\"",
            "\"pipeline:sales/enrich\" -> \"product:sales/enriched\"",
            "\"product:crm/customers\" -> \"domain:sales\" [style=dashed",
            "\"legend:confidential\"",
        ] {
            assert!(dot.contains(want), "missing {want}:\n{dot}");
        }
        assert_eq!(dot.matches('{').count(), dot.matches('}').count());
    }

    #[test]
    fn hostile_text_stays_inside_its_string() {
        let mut entries = sample();
        entries.grants[0].purpose = "x\"]; \"pwned\" -> \"all\" [label=\"".into();
        entries.products[1].description = Some("back\\slash\nnew line".into());
        let dot = render(&Mesh::from_entries("t", entries, &Filter::default()));
        assert!(dot.contains(r#"tooltip="x\"]; \"pwned\" -> \"all\" [label=\""]"#), "{dot}");
        assert!(dot.contains(r#"tooltip="back\\slash\nnew line""#), "{dot}");
        assert!(!dot.contains("\"pwned\" -> \"all\" [label=\"\n"));
    }
}
