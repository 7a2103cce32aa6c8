# A pipeline is imported by its ID, <domain>/<name>; its job is found on the engine by name.
terraform import datamesh_pipeline.enrich sales/enrich-customers
