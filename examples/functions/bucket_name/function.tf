terraform {
  required_providers {
    datamesh = {
      source = "datamesh/datamesh"
    }
  }
}

output "bucket_name" {
  value = provider::datamesh::bucket_name("acme", "sales", "orders")
}
