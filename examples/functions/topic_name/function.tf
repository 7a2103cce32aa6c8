terraform {
  required_providers {
    datamesh = {
      source = "datamesh/datamesh"
    }
  }
}

output "topic_name" {
  value = provider::datamesh::topic_name("sales", "orders", "order-events")
}
