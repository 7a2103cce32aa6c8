//! Text from the catalog made safe for where it goes: XML/HTML text and attributes, DOT quoted
//! strings, element IDs, and a box's width. Names are validated by the provider, but anyone
//! with write access to the bucket can put anything there, and descriptions, purposes and tags
//! are user text: every renderer passes every catalog string through one of these.

/// Text or an attribute value for XML, SVG and HTML: the five special characters as entities,
/// and the control characters XML 1.0 forbids replaced (a stray one makes the file unparseable).
pub fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A DOT double-quoted string, quotes included: `"` and `\` escaped, line breaks as DOT's `\n`,
/// other control characters dropped.
pub fn dot(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A stable element ID for a node: `<kind>-<id>` with every character outside `[a-z0-9-]`
/// (the `/` and `:` of IDs, anything odd) as `_`, so it is a valid XML ID and CSS-selectable.
pub fn element_id(kind: &str, id: &str) -> String {
    let safe: String =
        id.chars().map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' { c } else { '_' }).collect();
    format!("{kind}-{safe}")
}

/// `text` cut to what fits in `width` pixels at `font` pixels (an average glyph is ~0.6 em),
/// ending in `…` when cut. The full text stays in the node's `<title>`.
pub fn fit(text: &str, width: u32, font: u32) -> String {
    let max = ((f64::from(width) / (f64::from(font) * 0.6)).floor() as usize).max(1);
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "</title><script>alert(\"x\")</script> & 'q' \u{1}\\";

    #[test]
    fn xml_escapes_markup_quotes_ampersands_and_forbidden_controls() {
        let e = xml(HOSTILE);
        assert_eq!(e, "&lt;/title&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39; \u{FFFD}\\");
        assert!(!e.contains('<') && !e.contains('"') && !e.contains('\''));
    }

    #[test]
    fn dot_strings_cannot_be_closed_from_inside() {
        let e = dot(HOSTILE);
        assert_eq!(e, "\"</title><script>alert(\\\"x\\\")</script> & 'q' \\\\\"");
        // Read as DOT reads it: a backslash escapes the next character, so only the outer two
        // quotes are bare.
        let (mut bare, mut chars) = (0, e.chars());
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => bare += 1,
                _ => {}
            }
        }
        assert_eq!(bare, 2);
        assert_eq!(dot("a\nb"), "\"a\\nb\"");
    }

    #[test]
    fn element_ids_are_stable_and_safe() {
        assert_eq!(element_id("grant", "mkt:sales/orders"), "grant-mkt_sales_orders");
        assert_eq!(element_id("product", "a\"><b"), "product-a___b");
    }

    #[test]
    fn fit_cuts_long_text_with_an_ellipsis() {
        assert_eq!(fit("orders", 200, 12), "orders");
        let cut = fit(&"x".repeat(100), 60, 10);
        assert_eq!(cut.chars().count(), 10);
        assert!(cut.ends_with('…'));
    }
}
