output "domain_role_arn" {
  description = "The sales domain's IAM role; sales' pipelines assume it to write their products."
  value       = datamesh_domain.sales.role_arn
}

output "data_products" {
  description = "Every product sales publishes, by key: its ID, bucket, output port, topics by stream and grants by consumer."
  value = {
    for key, p in module.product : key => {
      id        = p.id
      bucket    = p.bucket
      s3_uri    = p.s3_uri
      topics    = p.topics
      grant_ids = p.grant_ids
    }
  }
}
