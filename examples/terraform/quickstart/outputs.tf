output "sales_role_arn" {
  description = "The sales domain's IAM role."
  value       = datamesh_domain.sales.role_arn
}

output "marketing_role_arn" {
  description = "The marketing domain's IAM role, which the grant lets read orders."
  value       = datamesh_domain.marketing.role_arn
}

output "orders_bucket_arn" {
  description = "The orders data product's bucket."
  value       = datamesh_data_product.orders.bucket_arn
}

output "orders_s3_uri" {
  description = "Where consumers read the orders data product."
  value       = datamesh_data_product.orders.s3_uri
}

output "order_events_topic" {
  description = "The order events stream's Kafka topic."
  value       = datamesh_stream.order_events.topic
}

output "grant_policy" {
  description = "The inline policy the grant put on the marketing role."
  value       = datamesh_access_grant.marketing_reads_orders.policy_name
}

output "campaign_orders_topic" {
  description = "Marketing's stream, written by its pipeline."
  value       = datamesh_stream.campaign_orders.topic
}

output "pipeline_job" {
  description = "The pipeline's Flink job and its state."
  value       = "${datamesh_pipeline.attribute_orders.job_id} (${datamesh_pipeline.attribute_orders.state})"
}
