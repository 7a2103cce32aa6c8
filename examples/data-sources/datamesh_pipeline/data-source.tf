data "datamesh_pipeline" "enrich" {
  id = "sales/enrich-customers"
}

output "enrich_state" {
  value = data.datamesh_pipeline.enrich.state # RUNNING, FINISHED, FAILED, ...
}
