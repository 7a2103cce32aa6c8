//! Where everything goes in the SVG: one column per domain, left to right in the direction data
//! flows (a domain comes after the domains it reads from or is granted by), and inside a column,
//! top to bottom, the products its pipelines read, the pipelines, then the products they write,
//! each product followed by its streams. Edges are drawn from these boxes by the renderer.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{Domain, Mesh};

/// A box, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left.
    pub x: u32,
    /// Top.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

impl Rect {
    /// Right edge.
    pub fn right(&self) -> u32 {
        self.x + self.w
    }
    /// Bottom edge.
    pub fn bottom(&self) -> u32 {
        self.y + self.h
    }
    /// Whether two boxes share any area.
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.right() && other.x < self.right() && self.y < other.bottom() && other.y < self.bottom()
    }
}

/// Margin around the drawing.
pub const MARGIN: u32 = 24;
/// Height of the title and legend band above the columns.
pub const HEADER: u32 = 92;
/// A domain column's width.
pub const COLUMN: u32 = 300;
/// The space between columns, where edges run.
pub const GAP: u32 = 150;
/// A domain's title bar.
pub const DOMAIN_TITLE: u32 = 48;
/// Padding inside a domain.
pub const PAD: u32 = 14;
/// A product box: a coloured header band and a row of port chips.
pub const PRODUCT: u32 = 64;
/// The product header band.
pub const PRODUCT_BAND: u32 = 28;
/// A stream box.
pub const STREAM: u32 = 28;
/// How far a stream is indented under its product.
pub const STREAM_INDENT: u32 = 24;
/// A pipeline box.
pub const PIPELINE: u32 = 46;
/// Vertical space between items.
pub const SPACE: u32 = 12;

/// Every box of a drawing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    /// The drawing's size.
    pub width: u32,
    /// The drawing's size.
    pub height: u32,
    /// Domain name → its box and column.
    pub domains: BTreeMap<String, (Rect, usize)>,
    /// Product ID → its box.
    pub products: BTreeMap<String, Rect>,
    /// Stream ID → its box.
    pub streams: BTreeMap<String, Rect>,
    /// Pipeline ID → its box.
    pub pipelines: BTreeMap<String, Rect>,
}

impl Layout {
    /// The column of a domain (0 when unknown).
    pub fn column(&self, domain: &str) -> usize {
        self.domains.get(domain).map_or(0, |(_, c)| *c)
    }
}

/// Lays the mesh out.
pub fn layout(mesh: &Mesh) -> Layout {
    let order = column_order(mesh);
    let mut out = Layout::default();
    let mut bottom = HEADER + MARGIN;
    for (column, domain) in order.iter().enumerate() {
        let Some(d) = mesh.domains.iter().find(|d| &d.name == domain) else { continue };
        let x = MARGIN + column as u32 * (COLUMN + GAP);
        let top = HEADER + MARGIN;
        let mut y = top + DOMAIN_TITLE + PAD;
        let inner_x = x + PAD;
        let inner_w = COLUMN - 2 * PAD;
        let (before, after) = split_products(d);
        let place_products = |ids: &[&str], y: &mut u32, out: &mut Layout| {
            for id in ids {
                let Some(p) = d.products.iter().find(|p| p.id == *id) else { continue };
                out.products.insert(p.id.clone(), Rect { x: inner_x, y: *y, w: inner_w, h: PRODUCT });
                *y += PRODUCT + SPACE / 2;
                for s in &p.streams {
                    let r = Rect { x: inner_x + STREAM_INDENT, y: *y, w: inner_w - STREAM_INDENT, h: STREAM };
                    out.streams.insert(s.id.clone(), r);
                    *y += STREAM + SPACE / 2;
                }
                *y += SPACE / 2;
            }
        };
        place_products(&before, &mut y, &mut out);
        for p in &d.pipelines {
            out.pipelines.insert(p.id.clone(), Rect { x: inner_x, y, w: inner_w, h: PIPELINE });
            y += PIPELINE + SPACE;
        }
        place_products(&after, &mut y, &mut out);
        let h = (y + PAD).saturating_sub(top).max(DOMAIN_TITLE + 2 * PAD);
        out.domains.insert(d.name.clone(), (Rect { x, y: top, w: COLUMN, h }, column));
        bottom = bottom.max(top + h);
    }
    let columns = order.len().max(1) as u32;
    out.width = (2 * MARGIN + columns * COLUMN + (columns - 1) * GAP).max(720);
    out.height = bottom + MARGIN;
    out
}

/// A domain's products in two groups: those its own pipelines do not write (drawn above the
/// pipelines) and those they do (below, so its lineage runs downwards).
fn split_products(d: &Domain) -> (Vec<&str>, Vec<&str>) {
    let written: BTreeSet<&str> = d.pipelines.iter().flat_map(|p| p.outputs.iter().map(String::as_str)).collect();
    d.products.iter().map(|p| p.id.as_str()).partition(|id| !written.contains(id))
}

/// Domains in column order: by the length of the longest chain of domains feeding each
/// (through pipelines and grants), then by name. A cycle stops growing after as many rounds as
/// there are domains, so every mesh gets an order.
pub fn column_order(mesh: &Mesh) -> Vec<String> {
    let domain_of = |product: &str| product.split_once('/').map_or(product, |(d, _)| d).to_string();
    let mut feeds: BTreeSet<(String, String)> = BTreeSet::new();
    for d in &mesh.domains {
        for p in &d.pipelines {
            for r in &p.reads {
                feeds.insert((domain_of(r), d.name.clone()));
            }
            for o in &p.outputs {
                feeds.insert((d.name.clone(), domain_of(o)));
            }
        }
    }
    for g in &mesh.grants {
        feeds.insert((domain_of(&g.product), g.consumer.clone()));
    }
    feeds.retain(|(a, b)| a != b);
    let mut rank: BTreeMap<&str, usize> = mesh.domains.iter().map(|d| (d.name.as_str(), 0)).collect();
    for _ in 0..mesh.domains.len() {
        let mut changed = false;
        for (from, to) in &feeds {
            let want = rank.get(from.as_str()).map_or(0, |r| r + 1);
            if let Some(r) = rank.get_mut(to.as_str()) {
                if *r < want {
                    *r = want;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut order: Vec<(usize, &str)> = rank.into_iter().map(|(d, r)| (r, d)).collect();
    order.sort();
    order.into_iter().map(|(_, d)| d.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::model::tests::{domain, grant, pipeline, sample};
    use crate::mesh::model::{Filter, Mesh};

    #[test]
    fn producers_come_left_of_their_consumers() {
        let mesh = Mesh::from_entries("t", sample(), &Filter::default());
        assert_eq!(column_order(&mesh), ["crm", "sales"]);
        let mut entries = sample();
        // Reversed: sales now feeds crm, through a grant to a domain that sorts first.
        entries.grants = vec![grant("crm", "sales/enriched")];
        entries.pipelines.clear();
        entries.domains.push(domain("aaa"));
        let mesh = Mesh::from_entries("t", entries, &Filter::default());
        assert_eq!(column_order(&mesh), ["aaa", "sales", "crm"]);
    }

    #[test]
    fn a_cycle_still_gets_an_order() {
        let mut entries = sample();
        entries.pipelines.push(pipeline("crm", "back", &["sales/enriched"], &["crm/customers"]));
        let mesh = Mesh::from_entries("t", entries, &Filter::default());
        let order = column_order(&mesh);
        assert_eq!(order.len(), 2);
    }

    #[test]
    fn no_two_boxes_overlap_and_all_fit_in_their_domain_and_the_drawing() {
        let mut entries = sample();
        entries.pipelines.push(pipeline("sales", "second", &["sales/enriched"], &["sales/more"]));
        let mesh = Mesh::from_entries("t", entries, &Filter::default());
        let l = layout(&mesh);
        let items: Vec<Rect> =
            l.products.values().chain(l.streams.values()).chain(l.pipelines.values()).copied().collect();
        assert_eq!(items.len(), 3 + 1 + 2);
        for (i, a) in items.iter().enumerate() {
            for b in &items[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} and {b:?}");
            }
            assert!(l
                .domains
                .values()
                .any(|(d, _)| d.x <= a.x && a.right() <= d.right() && d.y <= a.y && a.bottom() <= d.bottom()));
        }
        for (d, _) in l.domains.values() {
            assert!(d.right() + MARGIN <= l.width && d.bottom() + MARGIN <= l.height);
        }
        // Inside sales: what the pipelines read, the pipelines, then what they write.
        let sales_pipeline = l.pipelines["sales/enrich"];
        assert!(l.pipelines["sales/second"].y > sales_pipeline.y);
        assert!(l.products["sales/more"].y > l.pipelines["sales/second"].y);
    }
}
