# What feeds sales/enriched, and what is made from it, through which pipelines.
data "datamesh_lineage" "enriched" {
  data_product = "sales/enriched"
}

output "made_from" {
  value = [for hop in data.datamesh_lineage.enriched.upstream : "${hop.data_product} (via ${hop.pipeline})"]
}

output "feeds" {
  value = [for hop in data.datamesh_lineage.enriched.downstream : "${hop.data_product} (via ${hop.pipeline})"]
}
