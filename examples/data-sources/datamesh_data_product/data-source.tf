# By ID, `<domain>/<name>`.
data "datamesh_data_product" "orders" {
  id = "sales/orders"
}

# Or by domain and name.
data "datamesh_data_product" "invoices" {
  domain = "sales"
  name   = "invoices"
}

output "orders_s3_uri" {
  value = data.datamesh_data_product.orders.s3_uri
}

output "invoices_classification" {
  value = data.datamesh_data_product.invoices.classification
}
