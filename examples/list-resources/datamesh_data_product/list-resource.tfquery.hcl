# `terraform query` lists the data products of the sales domain from the catalog; with
# `-generate-config-out=products.tf` it writes their resources and identity-based import blocks.
list "datamesh_data_product" "sales" {
  provider         = datamesh
  include_resource = true

  config {
    domain = "sales"
  }
}
