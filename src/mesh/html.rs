//! The mesh as one self-contained HTML page: the SVG inline, a little CSS, no scripts and no
//! external assets, so it opens from a file, an artifact store or a mail attachment alike.

use super::model::Mesh;
use super::svg;
use super::text::xml;

const STYLE: &str =
    "body{margin:0;background:#ffffff;color:#212121;font-family:DejaVu Sans,Helvetica,Arial,sans-serif}\
main{padding:0}svg{display:block}.node:hover{filter:brightness(1.08)}";

/// The page.
pub fn render(mesh: &Mesh) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Data mesh: {title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{svg}</main>\n</body>\n</html>\n",
        title = xml(&mesh.title),
        svg = svg::render(mesh),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::model::tests::sample;
    use crate::mesh::model::Filter;

    #[test]
    fn the_page_embeds_the_svg_and_nothing_external() {
        let mesh = Mesh::from_entries("<b>x</b>", sample(), &Filter::default());
        let page = render(&mesh);
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<title>Data mesh: &lt;b&gt;x&lt;/b&gt;</title>"));
        assert!(page.contains(&svg::render(&mesh)));
        for external in ["<script", "<link", "src=", "@import", "url(http"] {
            assert!(!page.contains(external), "{external}");
        }
    }
}
