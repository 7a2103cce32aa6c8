//! The mesh as the drawings see it: the catalog's records grouped by domain, in a stable order,
//! with a placeholder for every product or domain a record names that the catalog does not
//! hold (or that the domain filter left out), so every arrow has both ends.

use std::collections::{BTreeMap, BTreeSet};

use crate::naming;
use crate::provider::config::DEFAULT_CLASSIFICATIONS;
use crate::resources::access_grant::GrantEntry;
use crate::resources::data_product::ProductEntry;
use crate::resources::domain::DomainEntry;
use crate::resources::pipeline::PipelineEntry;
use crate::resources::stream::StreamEntry;

/// What the catalog holds, as read: one list per kind of record.
#[derive(Debug, Clone, Default)]
pub struct Entries {
    /// `domains/<domain>.json`.
    pub domains: Vec<DomainEntry>,
    /// `data-products/<domain>/<product>.json`.
    pub products: Vec<ProductEntry>,
    /// `streams/<domain>/<product>/<stream>.json`.
    pub streams: Vec<StreamEntry>,
    /// `grants/<consumer>/<domain>/<product>.json`.
    pub grants: Vec<GrantEntry>,
    /// `pipelines/<domain>/<pipeline>.json`.
    pub pipelines: Vec<PipelineEntry>,
}

/// The whole drawing's content.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mesh {
    /// The drawing's title.
    pub title: String,
    /// Every domain, by name.
    pub domains: Vec<Domain>,
    /// Every grant, by ID.
    pub grants: Vec<Grant>,
}

/// A domain and what it owns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Domain {
    /// The domain's name.
    pub name: String,
    /// The owning team.
    pub owner: Option<String>,
    /// User text.
    pub description: Option<String>,
    /// User tags.
    pub tags: BTreeMap<String, String>,
    /// False for a placeholder: a domain named by a record but not in the drawing's catalog.
    pub in_catalog: bool,
    /// Its data products, by name.
    pub products: Vec<Product>,
    /// Its pipelines, by name.
    pub pipelines: Vec<Pipeline>,
}

/// A data product with its ports and streams.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Product {
    /// `<domain>/<product>`.
    pub id: String,
    /// The product's name.
    pub name: String,
    /// User text.
    pub description: Option<String>,
    /// The owning team.
    pub owner: Option<String>,
    /// Its classification; None for a placeholder.
    pub classification: Option<String>,
    /// Holds personal data.
    pub contains_pii: bool,
    /// User tags.
    pub tags: BTreeMap<String, String>,
    /// Output ports: `(kind, location)`, e.g. `("s3", "s3://bucket/")`.
    pub ports: Vec<(String, String)>,
    /// Its streams, by name.
    pub streams: Vec<Stream>,
    /// False for a placeholder.
    pub in_catalog: bool,
}

/// A stream of a product.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stream {
    /// `<domain>/<product>/<stream>`.
    pub id: String,
    /// The stream's name.
    pub name: String,
    /// The Kafka topic.
    pub topic: String,
    /// Partition count.
    pub partitions: i64,
}

/// A pipeline: what it reads and writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pipeline {
    /// `<domain>/<pipeline>`.
    pub id: String,
    /// The pipeline's name.
    pub name: String,
    /// `flink` or `spark`.
    pub engine: String,
    /// The engine's state, as last seen.
    pub state: Option<String>,
    /// Products it reads (a grant counts as the product it grants), sorted.
    pub reads: Vec<String>,
    /// Products it writes, sorted.
    pub outputs: Vec<String>,
}

/// A grant: a consumer domain may read a product.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grant {
    /// `<consumer>:<domain>/<product>`.
    pub id: String,
    /// Who gets access.
    pub consumer: String,
    /// The product, `<domain>/<product>`.
    pub product: String,
    /// `read` or `read_write`.
    pub access: String,
    /// Why (user text).
    pub purpose: String,
    /// Until when.
    pub expires_at: Option<String>,
}

/// Which domains a drawing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only domains whose name starts with this.
    pub domain_prefix: Option<String>,
}

impl Filter {
    fn keeps(&self, domain: &str) -> bool {
        self.domain_prefix.as_deref().is_none_or(|p| domain.starts_with(p))
    }
}

/// The domain part of a `<domain>/<product>` ID; the whole ID when it has no `/`.
fn domain_of(product_id: &str) -> &str {
    product_id.split_once('/').map_or(product_id, |(d, _)| d)
}

impl Mesh {
    /// Groups what the catalog holds into domains, keeping the domains `filter` selects, and
    /// adds placeholders for what the kept records name but the selection lacks.
    pub fn from_entries(title: &str, entries: Entries, filter: &Filter) -> Mesh {
        let mut domains: BTreeMap<String, Domain> = BTreeMap::new();
        for d in entries.domains.into_iter().filter(|d| filter.keeps(&d.name)) {
            domains.insert(
                d.name.clone(),
                Domain {
                    name: d.name,
                    owner: Some(d.owner),
                    description: d.description,
                    tags: d.tags,
                    in_catalog: true,
                    ..Domain::default()
                },
            );
        }
        let mut products: BTreeMap<String, (String, Product)> = BTreeMap::new();
        for p in entries.products.into_iter().filter(|p| filter.keeps(&p.domain)) {
            let ports = p.ports().into_iter().map(|port| (port.kind, port.location)).collect();
            let product = Product {
                id: p.id.clone(),
                name: p.name,
                description: p.description,
                owner: Some(p.owner),
                classification: Some(p.classification),
                contains_pii: p.contains_pii,
                tags: p.tags,
                ports,
                streams: Vec::new(),
                in_catalog: true,
            };
            products.insert(p.id, (p.domain, product));
        }
        let mut streams = entries.streams;
        streams.retain(|s| filter.keeps(domain_of(&s.data_product)));
        streams.sort_by(|a, b| (&a.data_product, &a.name).cmp(&(&b.data_product, &b.name)));
        for s in streams {
            let id = format!("{}/{}", s.data_product, s.name);
            let stream = Stream { id, name: s.name, topic: s.topic, partitions: s.partitions };
            placeholder_product(&mut products, &s.data_product).streams.push(stream);
        }

        let mut pipelines: Vec<(String, Pipeline)> = entries
            .pipelines
            .into_iter()
            .filter(|p| filter.keeps(&p.domain))
            .map(|p| {
                let sorted = |v: Vec<String>| v.into_iter().collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>();
                let pipeline = Pipeline {
                    id: p.id,
                    name: p.name,
                    engine: p.engine,
                    state: p.state,
                    reads: sorted(p.reads),
                    outputs: sorted(p.outputs),
                };
                (p.domain, pipeline)
            })
            .collect();
        pipelines.sort_by(|a, b| a.1.id.cmp(&b.1.id));
        for (_, p) in &pipelines {
            for product in p.reads.iter().chain(&p.outputs) {
                placeholder_product(&mut products, product);
            }
        }

        let mut grants: Vec<Grant> = entries
            .grants
            .into_iter()
            .filter(|g| filter.keeps(&g.consumer_domain) || filter.keeps(domain_of(&g.data_product)))
            .map(|g| Grant {
                id: g.id,
                consumer: g.consumer_domain,
                product: g.data_product,
                access: g.access,
                purpose: g.purpose,
                expires_at: g.expires_at,
            })
            .collect();
        grants.sort_by(|a, b| a.id.cmp(&b.id));
        for g in &grants {
            placeholder_product(&mut products, &g.product);
            placeholder_domain(&mut domains, &g.consumer);
        }

        for (domain, product) in products.into_values() {
            placeholder_domain(&mut domains, &domain).products.push(product);
        }
        for (domain, pipeline) in pipelines {
            placeholder_domain(&mut domains, &domain).pipelines.push(pipeline);
        }
        let mut domains: Vec<Domain> = domains.into_values().collect();
        for d in &mut domains {
            d.products.sort_by(|a, b| a.name.cmp(&b.name));
            d.pipelines.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Mesh { title: title.to_string(), domains, grants }
    }

    /// Every product, wherever it is.
    pub fn products(&self) -> impl Iterator<Item = &Product> {
        self.domains.iter().flat_map(|d| &d.products)
    }

    /// Every pipeline, wherever it is.
    pub fn pipelines(&self) -> impl Iterator<Item = &Pipeline> {
        self.domains.iter().flat_map(|d| &d.pipelines)
    }

    /// The classifications the mesh's products carry, least sensitive first as far as the
    /// provider's default order knows them, the others after in name order.
    pub fn classifications(&self) -> Vec<String> {
        let present: BTreeSet<&str> = self.products().filter_map(|p| p.classification.as_deref()).collect();
        let mut out: Vec<String> =
            DEFAULT_CLASSIFICATIONS.iter().filter(|c| present.contains(*c)).map(|c| c.to_string()).collect();
        out.extend(present.iter().filter(|c| !DEFAULT_CLASSIFICATIONS.contains(c)).map(|c| c.to_string()));
        out
    }

    /// The classification of a product ID, if the mesh knows it.
    pub fn classification_of(&self, product_id: &str) -> Option<&str> {
        self.products().find(|p| p.id == product_id).and_then(|p| p.classification.as_deref())
    }
}

/// The product with this ID, made a placeholder in its domain when nothing read it yet.
fn placeholder_product<'a>(products: &'a mut BTreeMap<String, (String, Product)>, id: &str) -> &'a mut Product {
    let (domain, name) = naming::parse_data_product_id(id)
        .unwrap_or_else(|_| (domain_of(id).to_string(), id.rsplit('/').next().unwrap_or(id).to_string()));
    &mut products
        .entry(id.to_string())
        .or_insert_with(|| (domain, Product { id: id.to_string(), name, ..Product::default() }))
        .1
}

/// The domain with this name, made a placeholder when nothing read it yet.
fn placeholder_domain<'a>(domains: &'a mut BTreeMap<String, Domain>, name: &str) -> &'a mut Domain {
    domains.entry(name.to_string()).or_insert_with(|| Domain { name: name.to_string(), ..Domain::default() })
}

/// The colour of a classification: the provider's four defaults in a fixed, familiar order
/// (green to red), others from a second palette by name, grey for none.
pub fn classification_colour(classification: Option<&str>) -> &'static str {
    const OTHERS: [&str; 4] = ["#6a1b9a", "#00838f", "#795548", "#ad1457"];
    match classification {
        Some("public") => "#2e7d32",
        Some("internal") => "#1565c0",
        Some("confidential") => "#ef6c00",
        Some("restricted") => "#c62828",
        None => "#9e9e9e",
        Some(other) => {
            let sum = other.bytes().fold(0usize, |acc, b| acc.wrapping_mul(31).wrapping_add(usize::from(b)));
            OTHERS[sum % OTHERS.len()]
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::resources::data_product::PortEntry;

    pub(crate) fn domain(name: &str) -> DomainEntry {
        DomainEntry {
            name: name.into(),
            owner: format!("{name}@example.com"),
            description: None,
            kafka_principal: format!("User:{name}"),
            trusted_principal_arns: Vec::new(),
            tags: BTreeMap::new(),
            role_name: format!("r-{name}"),
            role_arn: format!("arn:aws:iam::000000000000:role/r-{name}"),
            created_at: None,
        }
    }

    pub(crate) fn product(domain: &str, name: &str, classification: &str) -> ProductEntry {
        let bucket = format!("b-{domain}-{name}");
        ProductEntry {
            id: format!("{domain}/{name}"),
            domain: domain.into(),
            name: name.into(),
            description: None,
            owner: "team@example.com".into(),
            classification: classification.into(),
            contains_pii: false,
            retention_days: None,
            versioning: true,
            schema: None,
            tags: BTreeMap::new(),
            bucket: Some(bucket.clone()),
            s3_uri: Some(format!("s3://{bucket}/")),
            hdfs_path: None,
            hdfs_uri: None,
            cassandra_keyspace: None,
            port_list: vec![PortEntry { kind: "s3".into(), location: format!("s3://{bucket}/") }],
            created_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    pub(crate) fn stream(product: &str, name: &str) -> StreamEntry {
        StreamEntry {
            topic: format!("{}.{name}", product.replace('/', ".")),
            data_product: product.into(),
            name: name.into(),
            partitions: 3,
            replication_factor: 1,
            configs: BTreeMap::new(),
            created_at: None,
        }
    }

    pub(crate) fn grant(consumer: &str, product: &str) -> GrantEntry {
        GrantEntry {
            id: format!("{consumer}:{product}"),
            consumer_domain: consumer.into(),
            data_product: product.into(),
            access: "read".into(),
            purpose: "analytics".into(),
            expires_at: None,
            policy_name: "p".into(),
            kafka_acls: Vec::new(),
            granted_by: None,
            granted_at: None,
        }
    }

    pub(crate) fn pipeline(domain: &str, name: &str, reads: &[&str], outputs: &[&str]) -> PipelineEntry {
        PipelineEntry {
            id: format!("{domain}/{name}"),
            domain: domain.into(),
            name: name.into(),
            engine: "flink".into(),
            reads: reads.iter().map(|s| s.to_string()).collect(),
            outputs: outputs.iter().map(|s| s.to_string()).collect(),
            state: Some("RUNNING".into()),
            ..PipelineEntry::default()
        }
    }

    /// Two domains: crm's customers (with a stream) granted to sales, whose pipeline makes
    /// its own enriched product from them.
    pub(crate) fn sample() -> Entries {
        Entries {
            domains: vec![domain("sales"), domain("crm")],
            products: vec![product("sales", "enriched", "confidential"), product("crm", "customers", "internal")],
            streams: vec![stream("crm/customers", "changes")],
            grants: vec![grant("sales", "crm/customers")],
            pipelines: vec![pipeline("sales", "enrich", &["crm/customers"], &["sales/enriched"])],
        }
    }

    #[test]
    fn records_are_grouped_by_domain_in_name_order() {
        let mesh = Mesh::from_entries("t", sample(), &Filter::default());
        let names: Vec<&str> = mesh.domains.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["crm", "sales"]);
        assert_eq!(mesh.domains[0].products[0].streams[0].id, "crm/customers/changes");
        assert_eq!(mesh.domains[1].pipelines[0].reads, ["crm/customers"]);
        assert_eq!(mesh.domains[0].products[0].ports, [("s3".to_string(), "s3://b-crm-customers/".to_string())]);
        assert!(mesh.domains.iter().all(|d| d.in_catalog));
        assert_eq!(mesh.classifications(), ["internal", "confidential"]);
    }

    #[test]
    fn what_a_record_names_but_the_catalog_lacks_becomes_a_placeholder() {
        let mut entries = sample();
        entries.pipelines.push(pipeline("sales", "odd", &["ghost/thing"], &["sales/enriched"]));
        entries.streams.push(stream("lost/product", "s"));
        let mesh = Mesh::from_entries("t", entries, &Filter::default());
        let ghost = mesh.domains.iter().find(|d| d.name == "ghost").expect("placeholder domain");
        assert!(!ghost.in_catalog);
        assert_eq!(ghost.products[0].id, "ghost/thing");
        assert_eq!(ghost.products[0].classification, None);
        let lost = mesh.domains.iter().find(|d| d.name == "lost").expect("placeholder domain");
        assert_eq!(lost.products[0].streams[0].name, "s");
    }

    #[test]
    fn the_filter_keeps_its_domains_and_placeholders_for_what_they_name() {
        let mut entries = sample();
        entries.domains.push(domain("other"));
        entries.products.push(product("other", "x", "public"));
        let filter = Filter { domain_prefix: Some("sal".into()) };
        let mesh = Mesh::from_entries("t", entries, &filter);
        let names: Vec<(&str, bool)> = mesh.domains.iter().map(|d| (d.name.as_str(), d.in_catalog)).collect();
        assert_eq!(names, [("crm", false), ("sales", true)], "crm only as what sales' pipeline and grant name");
        assert_eq!(mesh.grants.len(), 1);
    }

    #[test]
    fn classifications_have_distinct_colours_and_others_get_one_too() {
        let defaults: BTreeSet<&str> = DEFAULT_CLASSIFICATIONS.iter().map(|c| classification_colour(Some(c))).collect();
        assert_eq!(defaults.len(), 4);
        assert!(!defaults.contains(classification_colour(None)));
        assert_eq!(classification_colour(Some("secret")), classification_colour(Some("secret")));
    }
}
