# A domain is imported by its name.
terraform import datamesh_domain.sales sales
