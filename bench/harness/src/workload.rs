//! The workloads of item 3 (apply) and item 4 (refresh), defined once: the Terraform
//! configurations (`datamesh` and a `terraform_data` twin with the same dependency graph), the
//! baseline and the refresh setup all come from here, so they can never disagree about names.

use std::fmt::Write;

/// Domains, products, and per product its streams and grants.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The provider's `name_prefix` (the catalog bucket is `<prefix>-catalog`).
    pub prefix: String,
    /// Domains (created before the timed apply).
    pub domains: usize,
    /// Data products, spread over the domains.
    pub products: usize,
    /// Streams per data product.
    pub streams_per_product: usize,
    /// Grants per data product, each to another domain.
    pub grants_per_product: usize,
    /// The provider's `kafka { manage_acls }`: off for the apply and refresh workloads, on for
    /// the peer comparison, whose grants make Kafka ACLs.
    pub manage_acls: bool,
}

/// One data product of the workload.
#[derive(Debug, Clone)]
pub struct ProductSpec {
    /// HCL label.
    pub label: String,
    /// Owning domain.
    pub domain: String,
    /// Product name.
    pub name: String,
    /// Stream names.
    pub streams: Vec<String>,
    /// Consumer domains.
    pub consumers: Vec<String>,
}

/// Retention every product sets (one lifecycle call each).
pub const RETENTION_DAYS: i64 = 30;
/// Classification every product has (grants need no expiry).
pub const CLASSIFICATION: &str = "internal";
/// Partitions of every stream.
pub const PARTITIONS: i32 = 1;
/// The grants' purpose.
pub const PURPOSE: &str = "benchmark";

impl Workload {
    /// The domain names.
    pub fn domain_names(&self) -> Vec<String> {
        (0..self.domains).map(|i| format!("bd{i:02}")).collect()
    }

    /// The products with their streams and grants.
    pub fn products(&self) -> Vec<ProductSpec> {
        let domains = self.domain_names();
        (0..self.products)
            .map(|j| {
                let d = j % self.domains;
                ProductSpec {
                    label: format!("p{j:03}"),
                    domain: domains[d].clone(),
                    name: format!("p{j:03}"),
                    streams: (0..self.streams_per_product).map(|k| format!("s{k}")).collect(),
                    consumers: (0..self.grants_per_product)
                        .map(|k| domains[(d + 1 + k) % self.domains].clone())
                        .collect(),
                }
            })
            .collect()
    }

    /// Resources in the timed apply.
    pub fn resource_count(&self) -> usize {
        self.products * (1 + self.streams_per_product + self.grants_per_product)
    }

    fn provider_block(&self) -> String {
        format!(
            r#"terraform {{
  required_providers {{
    datamesh = {{ source = "datamesh/datamesh" }}
  }}
}}

# Endpoints and credentials come from the local stack's environment.
provider "datamesh" {{
  name_prefix    = "{p}"
  catalog_bucket = "{p}-catalog"
  aws {{
    s3_force_path_style = true
  }}
  kafka {{
    default_replication_factor = 1
    manage_acls                = {acls}
  }}
}}
"#,
            p = self.prefix,
            acls = self.manage_acls
        )
    }

    /// The domains, applied (untimed) before the timed apply.
    pub fn domains_hcl(&self) -> String {
        let mut s = self.provider_block();
        for d in self.domain_names() {
            let _ = write!(
                s,
                "\nresource \"datamesh_domain\" \"{d}\" {{\n  name  = \"{d}\"\n  owner = \"{d}@example.com\"\n}}\n"
            );
        }
        s
    }

    /// Products, streams and grants: the timed apply.
    pub fn apply_hcl(&self) -> String {
        self.provider_block() + &self.products_hcl(usize::MAX)
    }

    /// The refresh workload of item 4 (no grants): domains, products and the first `streams`
    /// streams in one configuration. The domains must exist before the products are applied.
    pub fn refresh_hcl(&self, streams: usize) -> String {
        self.domains_hcl() + &self.products_hcl(streams)
    }

    /// Products with their grants and, of their streams, the first `streams` of the workload.
    fn products_hcl(&self, streams: usize) -> String {
        let mut s = String::new();
        let mut left = streams;
        for p in self.products() {
            s += &product_hcl(&p);
            let id = format!("datamesh_data_product.{}.id", p.label);
            for st in p.streams.iter().take(left) {
                left -= 1;
                s += &stream_hcl(&p, st, &id);
            }
            s += &grants_hcl(&p, &id);
        }
        s
    }

    /// The peer comparison's setup (untimed): the domains and the data products, no streams.
    pub fn peer_setup_hcl(&self) -> String {
        self.domains_hcl() + &self.products().iter().map(product_hcl).collect::<String>()
    }

    /// The peer comparison's measured part on our side: every stream and grant, naming the
    /// products of [`Self::peer_setup_hcl`] (another state) by ID.
    pub fn peer_ours_hcl(&self) -> String {
        let mut s = self.provider_block();
        for p in self.products() {
            let id = format!("\"{}/{}\"", p.domain, p.name);
            for st in &p.streams {
                s += &stream_hcl(&p, st, &id);
            }
            s += &grants_hcl(&p, &id);
        }
        s
    }

    /// The same topics through the mongey/kafka provider: one `kafka_topic` per stream (the
    /// topic name ours makes), and per grant a `kafka_acl` READ on each of the product's topics
    /// for the consumer domain's principal. The broker's address and admin login come from
    /// `TF_VAR_kafka_bootstrap_servers`, `TF_VAR_kafka_username` and `TF_VAR_kafka_password`.
    pub fn peer_theirs_hcl(&self) -> String {
        let mut s = String::from(
            r#"terraform {
  required_providers {
    kafka = { source = "mongey/kafka" }
  }
}

variable "kafka_bootstrap_servers" { type = string }
variable "kafka_username" { type = string }
variable "kafka_password" {
  type      = string
  sensitive = true
}

provider "kafka" {
  bootstrap_servers = split(",", var.kafka_bootstrap_servers)
  sasl_username     = var.kafka_username
  sasl_password     = var.kafka_password
  sasl_mechanism    = "scram-sha512"
  tls_enabled       = false
  skip_tls_verify   = true
}
"#,
        );
        for p in self.products() {
            for st in &p.streams {
                let _ = write!(
                    s,
                    "\nresource \"kafka_topic\" \"{l}_{st}\" {{\n  name               = \"{d}.{n}.{st}\"\n  partitions         = {PARTITIONS}\n  replication_factor = 1\n}}\n",
                    l = p.label,
                    d = p.domain,
                    n = p.name
                );
                for (k, c) in p.consumers.iter().enumerate() {
                    let _ = write!(
                        s,
                        "\nresource \"kafka_acl\" \"{l}_{st}_g{k}\" {{\n  resource_name       = kafka_topic.{l}_{st}.name\n  resource_type       = \"Topic\"\n  acl_principal       = \"User:{c}\"\n  acl_host            = \"*\"\n  acl_operation       = \"Read\"\n  acl_permission_type = \"Allow\"\n}}\n",
                        l = p.label
                    );
                }
            }
        }
        s
    }

    /// The same graph of `terraform_data` resources: what Terraform alone costs.
    pub fn terraform_data_hcl(&self) -> String {
        let mut s = String::new();
        for p in self.products() {
            let _ = write!(
                s,
                "resource \"terraform_data\" \"{l}\" {{\n  input = {{ domain = \"{d}\", name = \"{n}\", classification = \"{CLASSIFICATION}\", retention_days = {RETENTION_DAYS} }}\n}}\n",
                l = p.label,
                d = p.domain,
                n = p.name
            );
            for st in &p.streams {
                let _ = write!(
                    s,
                    "resource \"terraform_data\" \"{l}_{st}\" {{\n  input = {{ data_product = terraform_data.{l}.id, name = \"{st}\", partitions = {PARTITIONS} }}\n}}\n",
                    l = p.label
                );
            }
            for (k, c) in p.consumers.iter().enumerate() {
                let _ = write!(
                    s,
                    "resource \"terraform_data\" \"{l}_g{k}\" {{\n  input = {{ consumer_domain = \"{c}\", data_product = terraform_data.{l}.id, purpose = \"{PURPOSE}\" }}\n}}\n",
                    l = p.label
                );
            }
        }
        s
    }
}

/// A data product's resource.
fn product_hcl(p: &ProductSpec) -> String {
    format!(
        "\nresource \"datamesh_data_product\" \"{l}\" {{\n  domain         = \"{d}\"\n  name           = \"{n}\"\n  classification = \"{CLASSIFICATION}\"\n  retention_days = {RETENTION_DAYS}\n}}\n",
        l = p.label,
        d = p.domain,
        n = p.name
    )
}

/// One stream of a product; `product` is the HCL expression of the product's ID.
fn stream_hcl(p: &ProductSpec, stream: &str, product: &str) -> String {
    format!(
        "\nresource \"datamesh_stream\" \"{l}_{stream}\" {{\n  data_product = {product}\n  name         = \"{stream}\"\n  partitions   = {PARTITIONS}\n}}\n",
        l = p.label
    )
}

/// A product's grants; `product` is the HCL expression of the product's ID.
fn grants_hcl(p: &ProductSpec, product: &str) -> String {
    let mut s = String::new();
    for (k, c) in p.consumers.iter().enumerate() {
        let _ = write!(
            s,
            "\nresource \"datamesh_access_grant\" \"{l}_g{k}\" {{\n  consumer_domain = \"{c}\"\n  data_product    = {product}\n  purpose         = \"{PURPOSE}\"\n}}\n",
            l = p.label
        );
    }
    s
}
