# Every confidential product of the sales domain that belongs to cost center sales-42.
data "datamesh_data_products" "sales_confidential" {
  domain         = "sales"
  classification = "confidential"
  tag = {
    cost_center = "sales-42"
  }
}

output "sales_confidential_products" {
  value = { for p in data.datamesh_data_products.sales_confidential.data_products : p.id => p.s3_uri }
}
