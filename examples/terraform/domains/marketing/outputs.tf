output "domain_role_arn" {
  description = "The marketing domain's IAM role; once sales grants orders, it may read them."
  value       = datamesh_domain.marketing.role_arn
}

output "campaigns" {
  description = "The campaigns product: its ID, output port, topics by stream and grants by consumer."
  value = {
    id        = module.campaigns.id
    s3_uri    = module.campaigns.s3_uri
    topics    = module.campaigns.topics
    grant_ids = module.campaigns.grant_ids
  }
}

output "sales_orders_bucket" {
  description = "The sales team's orders bucket, found in the catalog."
  value       = data.datamesh_data_product.sales_orders.bucket
}

output "sales_orders_s3_uri" {
  description = "Where marketing's jobs read sales' orders."
  value       = data.datamesh_data_product.sales_orders.s3_uri
}
