//! `datamesh_pipeline` (a pipeline by ID: its attributes and engine state, read through the
//! resource's own `read`) and `datamesh_lineage` (what feeds a product and what it feeds, from
//! the catalog's pipeline records).

use crate::backends::Diagnose;
use async_trait::async_trait;

use super::lookups::read_through;
use crate::backends::catalog::Catalog;
use crate::lineage::{self, Flow, Hop};
use crate::naming;
use crate::provider::{Context, ProviderData};
use crate::resources::pipeline::{Pipeline, PipelineEntry};
use tfplugin::framework::{
    AttrPath, Attribute, Block, DataSource, Diagnostic, Diagnostics, Resource, Schema, Type, Value,
};

/// Checks the `data_product` attribute of a data source that takes one, when it is known.
pub(super) fn validate_data_product(config: &Value, diags: &mut Diagnostics) {
    if let Some(id) = config.get("data_product").as_str() {
        if let Err(msg) = naming::parse_data_product_id(id) {
            diags.attr_error(AttrPath::attr("data_product"), "Invalid data_product", msg);
        }
    }
}

/// Every pipeline record in the catalog: the lineage of the whole mesh.
pub(super) async fn pipeline_records(catalog: &Catalog) -> Result<Vec<PipelineEntry>, Diagnostic> {
    catalog.get_all::<PipelineEntry>("pipelines/").await.map_err(|e| e.diagnostic("the catalog's pipeline records"))
}

/// `data "datamesh_pipeline"`: a pipeline by ID.
pub(super) struct PipelineLookup;

#[async_trait]
impl DataSource<ProviderData> for PipelineLookup {
    fn type_name(&self) -> &'static str {
        "datamesh_pipeline"
    }

    fn schema(&self) -> Schema {
        Schema::for_data_source(
            &Pipeline.schema(),
            "Looks up a pipeline by ID: its engine, inputs, outputs and job, with the job's state as the engine reports it now.",
            &[Attribute::required("id", Type::String, "The pipeline's ID, `<domain>/<name>`.")],
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(id) = config.get("id").as_str() {
            if let Err(msg) = naming::parse_pipeline_id(id) {
                diags.attr_error(AttrPath::attr("id"), "Invalid id", msg);
            }
        }
    }

    async fn read(&self, ctx: &Context, config: &Value, diags: &mut Diagnostics) -> Value {
        let id = config.get("id").as_str().unwrap_or_default().to_string();
        read_through(&Pipeline, ctx, &id, "pipeline", AttrPath::attr("id"), diags).await
    }
}

/// `data "datamesh_lineage"`: upstream and downstream of a product.
pub(super) struct Lineage;

fn hops_type() -> Type {
    Type::list(Type::object([("pipeline", Type::String), ("data_product", Type::String)]))
}

fn hops_value(hops: &[Hop]) -> Value {
    Value::List(
        hops.iter()
            .map(|h| {
                Value::object([
                    ("pipeline", Value::string(&h.pipeline)),
                    ("data_product", Value::string(&h.data_product)),
                ])
            })
            .collect(),
    )
}

#[async_trait]
impl DataSource<ProviderData> for Lineage {
    fn type_name(&self) -> &'static str {
        "datamesh_lineage"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new(
            "The lineage of a data product, from the catalog's pipeline records: every product upstream of it (what feeds it, and what feeds that) and downstream, each with the pipeline in between, nearest first. A grant input counts as the product it grants.",
            vec![
                Attribute::required("data_product", Type::String, "The product's ID, `<domain>/<product>`."),
                Attribute::computed("upstream", hops_type(), "Products it is made from: `{ pipeline, data_product }`, nearest first."),
                Attribute::computed("downstream", hops_type(), "Products made from it: `{ pipeline, data_product }`, nearest first."),
            ],
        ))
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate_data_product(config, diags);
    }

    async fn read(&self, ctx: &Context, config: &Value, diags: &mut Diagnostics) -> Value {
        let product = config.get("data_product").as_str().unwrap_or_default().to_string();
        let Some(catalog) = diags.ok(ctx.provider.catalog().await) else { return Value::Null };
        let entries = match pipeline_records(&catalog).await {
            Ok(e) => e,
            Err(d) => {
                diags.0.push(d);
                return Value::Null;
            }
        };
        let mut flows: Vec<Flow> =
            entries.into_iter().map(|e| Flow { pipeline: e.id, reads: e.reads, writes: e.outputs }).collect();
        flows.sort_by(|a, b| a.pipeline.cmp(&b.pipeline));
        let mut out = config.clone();
        out.set("upstream", hops_value(&lineage::upstream(&product, &flows)));
        out.set("downstream", hops_value(&lineage::downstream(&product, &flows)));
        out
    }
}
