//! Pipelines' lineage: what a pipeline's `inputs` and `outputs` name, the governance rules on
//! them (checked at plan time, again before submission), and the upstream and downstream of a
//! product in the catalog's pipeline records. Pure functions, unit-tested.
//!
//! `inputs` and `outputs` are sets, and Terraform's attribute paths cannot name a set element,
//! so every diagnostic is at `inputs` or `outputs` and its sentence names the element.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::governance::parse_expiry;
use crate::naming;
use crate::provider::config::Governance;
use tfplugin::framework::{AttrPath, Diagnostics};

/// What one element of `inputs` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// One of the pipeline domain's own products, `<domain>/<product>`.
    Own {
        /// `<domain>/<product>`.
        product: String,
    },
    /// A grant to the pipeline's domain, `<consumer>:<domain>/<product>`.
    Granted {
        /// The grant's ID.
        grant: String,
        /// The domain the grant is to.
        consumer: String,
        /// The granted product, `<domain>/<product>`.
        product: String,
    },
}

impl Input {
    /// Parses an element of `inputs`.
    pub fn parse(s: &str) -> Result<Input, String> {
        match s.split_once(':') {
            Some((consumer, product)) => {
                naming::check_domain(consumer).map_err(|m| format!("{s:?} is not a grant ID: {m}"))?;
                naming::parse_data_product_id(product).map_err(|m| format!("{s:?} is not a grant ID: {m}"))?;
                Ok(Input::Granted {
                    grant: s.to_string(),
                    consumer: consumer.to_string(),
                    product: product.to_string(),
                })
            }
            None => {
                naming::parse_data_product_id(s).map_err(|m| {
                    format!("{s:?} is neither a data product ID (<domain>/<product>) nor a grant ID (<consumer>:<domain>/<product>): {m}")
                })?;
                Ok(Input::Own { product: s.to_string() })
            }
        }
    }

    /// The product it reads, `<domain>/<product>` (a grant counts as the product it grants).
    pub fn product(&self) -> &str {
        match self {
            Input::Own { product } | Input::Granted { product, .. } => product,
        }
    }
}

/// The owning domain of a product ID.
fn owner_of(product: &str) -> &str {
    product.split_once('/').map(|(d, _)| d).unwrap_or(product)
}

/// Checks what needs no catalog: every input is the domain's own product or a grant to the
/// domain (of another domain's product), every output is the domain's own product.
pub fn check_shape(domain: &str, inputs: &[String], outputs: &[String], diags: &mut Diagnostics) {
    for raw in inputs {
        match Input::parse(raw) {
            Err(msg) => diags.attr_error(AttrPath::attr("inputs"), "Invalid input", format!("{msg}. List the domain's own products by ID, and other domains' products by the ID of their grant to {domain:?}.")),
            Ok(Input::Own { product }) if owner_of(&product) != domain => diags.attr_error(
                AttrPath::attr("inputs"),
                "Input neither owned nor granted",
                format!(
                    "Input {product:?} belongs to domain {:?}, not to {domain:?}, which runs this pipeline. Read it through a grant: \
                     create a datamesh_access_grant with consumer_domain = {domain:?} and data_product = {product:?}, and list its ID \
                     (\"{domain}:{product}\") in inputs instead.",
                    owner_of(&product)
                ),
            ),
            Ok(Input::Granted { grant, consumer, .. }) if consumer != domain => diags.attr_error(
                AttrPath::attr("inputs"),
                "Grant to another domain",
                format!(
                    "Input {grant:?} is a grant to domain {consumer:?}, but this pipeline runs as {domain:?}. Use a grant whose \
                     consumer_domain is {domain:?}."
                ),
            ),
            Ok(Input::Granted { grant, product, .. }) if owner_of(&product) == domain => diags.attr_error(
                AttrPath::attr("inputs"),
                "Grant of the domain's own product",
                format!("Input {grant:?} names {domain:?}'s own product: list it as {product:?}."),
            ),
            Ok(_) => {}
        }
    }
    if outputs.is_empty() {
        diags.attr_error(
            AttrPath::attr("outputs"),
            "No outputs",
            format!("A pipeline writes at least one of {domain:?}'s data products: list their IDs in outputs."),
        );
    }
    for out in outputs {
        match naming::parse_data_product_id(out) {
            Err(msg) => diags.attr_error(AttrPath::attr("outputs"), "Invalid output", format!("{out:?} is not a data product ID: {msg}")),
            Ok((owner, _)) if owner != domain => diags.attr_error(
                AttrPath::attr("outputs"),
                "Output of another domain",
                format!(
                    "Output {out:?} belongs to domain {owner:?}; a pipeline of {domain:?} may write only {domain:?}'s own products. \
                     Write into a product of {domain:?}, or run the pipeline in {owner:?}."
                ),
            ),
            Ok(_) => {}
        }
    }
}

/// A product's governed facts, from the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductFacts {
    /// Its classification.
    pub classification: String,
    /// Whether it holds personal data.
    pub contains_pii: bool,
}

/// What the catalog says, for the rules that need it.
#[derive(Debug, Default)]
pub struct CatalogFacts {
    /// Products found, by ID.
    pub products: BTreeMap<String, ProductFacts>,
    /// Grants found, by ID, with their `expires_at`.
    pub grants: BTreeMap<String, Option<String>>,
    /// Whether what is missing is an error (at apply, right before submission) or checked later
    /// (at plan, when the product or grant may be created by the same apply).
    pub complete: bool,
}

/// Checks the rules that need the catalog: grants exist (at apply) and have not expired, and
/// no output is less sensitive than its most sensitive input or drops personal data.
pub fn check_flow(
    rules: &Governance,
    inputs: &[String],
    outputs: &[String],
    facts: &CatalogFacts,
    now: chrono::DateTime<chrono::Utc>,
    diags: &mut Diagnostics,
) {
    let parsed: Vec<Input> = inputs.iter().filter_map(|i| Input::parse(i).ok()).collect();
    for input in &parsed {
        if let Input::Granted { grant, .. } = input {
            match facts.grants.get(grant) {
                Some(Some(expires)) => match parse_expiry(expires) {
                    Ok(t) if t <= now => diags.attr_error(
                        AttrPath::attr("inputs"),
                        "Expired grant",
                        format!(
                            "Input {grant:?} expired at {expires}: the domain may no longer read it. Renew the grant (a later \
                             expires_at), or remove the input."
                        ),
                    ),
                    _ => {}
                },
                Some(None) => {}
                None if facts.complete => diags.attr_error(
                    AttrPath::attr("inputs"),
                    "Grant not found",
                    format!("Input {grant:?} is not a grant in the catalog. Create the datamesh_access_grant first (reference its id), or remove the input."),
                ),
                None => {}
            }
        }
        if facts.complete && !facts.products.contains_key(input.product()) {
            diags.attr_error(
                AttrPath::attr("inputs"),
                "Data product not found",
                format!("Input {:?} reads data product {:?}, which is not in the catalog. Create it first, or remove the input.", inputs_raw(input), input.product()),
            );
        }
    }
    let known: Vec<(&str, &ProductFacts)> =
        parsed.iter().filter_map(|i| facts.products.get(i.product()).map(|f| (i.product(), f))).collect();
    let most_sensitive =
        known.iter().filter_map(|(id, f)| rules.rank(&f.classification).map(|r| (r, *id, *f))).max_by_key(|(r, ..)| *r);
    let pii_source = known.iter().find(|(_, f)| f.contains_pii).map(|(id, _)| *id);
    for out in outputs {
        let Some(o) = facts.products.get(out) else {
            if facts.complete {
                diags.attr_error(
                    AttrPath::attr("outputs"),
                    "Data product not found",
                    format!("Output {out:?} is not in the catalog. Create the datamesh_data_product first (reference its id)."),
                );
            }
            continue;
        };
        if let (Some((rank, source, f)), Some(out_rank)) = (most_sensitive, rules.rank(&o.classification)) {
            if out_rank < rank {
                diags.attr_error(
                    AttrPath::attr("outputs"),
                    "Output less sensitive than its input",
                    format!(
                        "Output {out:?} is classified {:?}, but input {source:?} is {:?}: data would lose its protection on the way \
                         through. Classify {out:?} at least {:?}, or stop reading {source:?}.",
                        o.classification, f.classification, f.classification
                    ),
                );
            }
        }
        if let Some(source) = pii_source.filter(|_| !o.contains_pii) {
            diags.attr_error(
                AttrPath::attr("outputs"),
                "Output drops the personal-data flag",
                format!(
                    "Input {source:?} contains personal data (contains_pii = true), but output {out:?} does not say so. Set \
                     contains_pii = true on {out:?} (with a classification that allows it), or stop reading {source:?}."
                ),
            );
        }
    }
}

/// How an input was written, for messages.
fn inputs_raw(input: &Input) -> &str {
    match input {
        Input::Own { product } => product,
        Input::Granted { grant, .. } => grant,
    }
}

/// One edge of lineage: a pipeline, and a product on the far side of it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hop {
    /// The pipeline's ID.
    pub pipeline: String,
    /// The product's ID.
    pub data_product: String,
}

/// A pipeline as lineage sees it: its ID, the products it reads and those it writes.
#[derive(Debug, Clone)]
pub struct Flow {
    /// `<domain>/<pipeline>`.
    pub pipeline: String,
    /// Products read (a grant counts as the product it grants).
    pub reads: Vec<String>,
    /// Products written.
    pub writes: Vec<String>,
}

/// Everything upstream of `product` (the products that feed it, through which pipeline, and
/// what feeds those), nearest first; each hop once, cycles end.
pub fn upstream(product: &str, flows: &[Flow]) -> Vec<Hop> {
    walk(product, flows, |f| (&f.writes, &f.reads))
}

/// Everything downstream of `product`, nearest first; each hop once, cycles end.
pub fn downstream(product: &str, flows: &[Flow]) -> Vec<Hop> {
    walk(product, flows, |f| (&f.reads, &f.writes))
}

fn walk(product: &str, flows: &[Flow], sides: impl Fn(&Flow) -> (&Vec<String>, &Vec<String>)) -> Vec<Hop> {
    let mut seen_products = BTreeSet::from([product.to_string()]);
    let mut seen_hops = BTreeSet::new();
    let mut out = Vec::new();
    let mut queue = VecDeque::from([product.to_string()]);
    while let Some(p) = queue.pop_front() {
        for flow in flows {
            let (near, far) = sides(flow);
            if !near.contains(&p) {
                continue;
            }
            let mut next: Vec<&String> = far.iter().collect();
            next.sort();
            for q in next {
                let hop = Hop { pipeline: flow.pipeline.clone(), data_product: q.clone() };
                if seen_hops.insert(hop.clone()) {
                    out.push(hop);
                }
                if seen_products.insert(q.clone()) {
                    queue.push_back(q.clone());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn summaries(d: &Diagnostics) -> Vec<(String, String)> {
        d.0.iter().map(|x| (x.path.as_ref().map(|p| p.to_string()).unwrap_or_default(), x.summary.clone())).collect()
    }

    fn shape(inputs: &[&str], outputs: &[&str]) -> Vec<(String, String)> {
        let mut d = Diagnostics::new();
        check_shape("sales", &strings(inputs), &strings(outputs), &mut d);
        summaries(&d)
    }

    #[test]
    fn inputs_are_own_products_or_grants_to_the_domain() {
        assert!(shape(&["sales/orders", "sales:crm/customers"], &["sales/daily"]).is_empty());
        assert_eq!(
            shape(&["crm/customers"], &["sales/daily"]),
            vec![("inputs".into(), "Input neither owned nor granted".into())]
        );
        assert_eq!(
            shape(&["ops:crm/customers"], &["sales/daily"]),
            vec![("inputs".into(), "Grant to another domain".into())]
        );
        assert_eq!(
            shape(&["sales:sales/orders"], &["sales/daily"]),
            vec![("inputs".into(), "Grant of the domain's own product".into())]
        );
        assert_eq!(shape(&["orders"], &["sales/daily"]), vec![("inputs".into(), "Invalid input".into())]);
        assert_eq!(shape(&["Sales:crm/x"], &["sales/daily"]), vec![("inputs".into(), "Invalid input".into())]);
    }

    #[test]
    fn outputs_are_the_domains_own_products() {
        assert_eq!(shape(&[], &["crm/customers"]), vec![("outputs".into(), "Output of another domain".into())]);
        assert_eq!(shape(&[], &[]), vec![("outputs".into(), "No outputs".into())]);
        assert_eq!(shape(&[], &["sales:crm/x"]), vec![("outputs".into(), "Invalid output".into())]);
    }

    #[test]
    fn a_message_names_the_offending_element_and_the_fix() {
        let mut d = Diagnostics::new();
        check_shape("sales", &strings(&["crm/customers"]), &strings(&["sales/daily"]), &mut d);
        assert!(d.0[0].detail.contains("\"crm/customers\""), "{}", d.0[0].detail);
        assert!(d.0[0].detail.contains("\"sales:crm/customers\""), "the grant ID to use: {}", d.0[0].detail);
    }

    fn now() -> chrono::DateTime<chrono::Utc> {
        parse_expiry("2026-06-01T00:00:00Z").unwrap()
    }

    fn product(classification: &str, pii: bool) -> ProductFacts {
        ProductFacts { classification: classification.into(), contains_pii: pii }
    }

    fn flow(inputs: &[&str], outputs: &[&str], facts: &CatalogFacts) -> Vec<(String, String)> {
        let mut d = Diagnostics::new();
        check_flow(&Governance::default(), &strings(inputs), &strings(outputs), facts, now(), &mut d);
        summaries(&d)
    }

    fn catalog(complete: bool) -> CatalogFacts {
        CatalogFacts {
            products: BTreeMap::from([
                ("crm/customers".to_string(), product("confidential", true)),
                ("sales/orders".to_string(), product("internal", false)),
                ("sales/daily".to_string(), product("internal", false)),
                ("sales/daily-pii".to_string(), product("confidential", true)),
            ]),
            grants: BTreeMap::from([
                ("sales:crm/customers".to_string(), None),
                ("sales:crm/old".to_string(), Some("2026-05-01T00:00:00Z".to_string())),
                ("sales:crm/later".to_string(), Some("2027-01-01T00:00:00Z".to_string())),
            ]),
            complete,
        }
    }

    #[test]
    fn an_output_is_at_least_as_sensitive_as_its_inputs() {
        assert!(flow(&["sales/orders"], &["sales/daily"], &catalog(true)).is_empty());
        assert!(flow(&["sales:crm/customers"], &["sales/daily-pii"], &catalog(true)).is_empty());
        let found = flow(&["sales:crm/customers", "sales/orders"], &["sales/daily"], &catalog(true));
        assert_eq!(
            found,
            vec![
                ("outputs".into(), "Output less sensitive than its input".into()),
                ("outputs".into(), "Output drops the personal-data flag".into())
            ]
        );
    }

    #[test]
    fn personal_data_keeps_its_flag_even_at_equal_classification() {
        let mut facts = catalog(true);
        facts.products.insert("sales/daily".into(), product("confidential", false));
        assert_eq!(
            flow(&["sales:crm/customers"], &["sales/daily"], &facts),
            vec![("outputs".into(), "Output drops the personal-data flag".into())]
        );
    }

    #[test]
    fn expired_grants_fail_and_missing_ones_fail_only_when_the_catalog_must_be_complete() {
        let mut facts = catalog(false);
        facts.products.insert("crm/old".into(), product("internal", false));
        facts.products.insert("crm/later".into(), product("internal", false));
        assert_eq!(flow(&["sales:crm/old"], &["sales/daily"], &facts), vec![("inputs".into(), "Expired grant".into())]);
        assert!(flow(&["sales:crm/later"], &["sales/daily"], &facts).is_empty());
        assert!(flow(&["sales:crm/missing"], &["sales/new"], &catalog(false)).is_empty(), "at plan: checked at apply");
        assert_eq!(
            flow(&["sales:crm/missing"], &["sales/new"], &catalog(true)),
            vec![
                ("inputs".into(), "Grant not found".into()),
                ("inputs".into(), "Data product not found".into()),
                ("outputs".into(), "Data product not found".into())
            ]
        );
    }

    fn flows() -> Vec<Flow> {
        vec![
            Flow {
                pipeline: "sales/enrich".into(),
                reads: strings(&["crm/customers", "sales/orders"]),
                writes: strings(&["sales/enriched"]),
            },
            Flow {
                pipeline: "ops/report".into(),
                reads: strings(&["sales/enriched"]),
                writes: strings(&["ops/report"]),
            },
        ]
    }

    fn hops(v: &[Hop]) -> Vec<String> {
        v.iter().map(|h| format!("{} via {}", h.data_product, h.pipeline)).collect()
    }

    #[test]
    fn lineage_follows_a_chain_of_pipelines_both_ways() {
        let f = flows();
        assert_eq!(
            hops(&upstream("sales/enriched", &f)),
            vec!["crm/customers via sales/enrich", "sales/orders via sales/enrich"]
        );
        assert_eq!(hops(&downstream("sales/enriched", &f)), vec!["ops/report via ops/report"]);
        assert_eq!(
            hops(&upstream("ops/report", &f)),
            vec!["sales/enriched via ops/report", "crm/customers via sales/enrich", "sales/orders via sales/enrich"]
        );
        assert_eq!(
            hops(&downstream("crm/customers", &f)),
            vec!["sales/enriched via sales/enrich", "ops/report via ops/report"]
        );
        assert!(upstream("crm/customers", &f).is_empty());
    }

    #[test]
    fn a_cycle_ends() {
        let f = vec![
            Flow { pipeline: "a/p".into(), reads: strings(&["a/x"]), writes: strings(&["a/y"]) },
            Flow { pipeline: "a/q".into(), reads: strings(&["a/y"]), writes: strings(&["a/x"]) },
        ];
        assert_eq!(hops(&downstream("a/x", &f)), vec!["a/y via a/p", "a/x via a/q"]);
    }
}
