output "domain_role_arn" {
  description = "The sales domain's IAM role."
  value       = datamesh_domain.sales.role_arn
}

output "orders_bucket" {
  description = "Where the orders data product lives."
  value       = datamesh_data_product.orders.s3_uri
}

output "order_events_topic" {
  description = "The order events stream's Kafka topic."
  value       = datamesh_stream.order_events.topic
}
