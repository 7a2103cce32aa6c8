terraform {
  required_providers {
    datamesh = {
      source = "datamesh/datamesh"
    }
  }
}

output "data_product_id" {
  value = provider::datamesh::data_product_id("sales", "orders")
}
