output "id" {
  description = "The data product's ID, <domain>/<name>: what streams, grants and data sources refer to."
  value       = datamesh_data_product.this.id
}

output "bucket" {
  description = "The product's S3 bucket."
  value       = datamesh_data_product.this.bucket
}

output "s3_uri" {
  description = "The product's output port, s3://<bucket>/: where consumers read it."
  value       = datamesh_data_product.this.s3_uri
}

output "topics" {
  description = "The product's Kafka topics, by stream name."
  value       = { for name, s in datamesh_stream.this : name => s.topic }
}

output "grant_ids" {
  description = "The access grants' IDs, <consumer>:<domain>/<name>, by consumer domain."
  value       = { for consumer, g in datamesh_access_grant.this : consumer => g.id }
}
