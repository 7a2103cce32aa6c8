resource "datamesh_domain" "sales" {
  name  = "sales"
  owner = "sales-team@example.com"
}

resource "datamesh_data_product" "orders" {
  domain         = datamesh_domain.sales.name
  name           = "orders"
  description    = "Every order placed, one JSON document per order"
  classification = "confidential"
  contains_pii   = true
  retention_days = 365

  schema = jsonencode({
    type     = "object"
    required = ["order_id", "customer_email", "amount"]
    properties = {
      order_id       = { type = "string" }
      customer_email = { type = "string" }
      amount         = { type = "number" }
    }
  })

  tags = {
    cost_center = "sales-42"
  }

  # The S3 port (every product has one unless enabled = false) with its cost tiers.
  s3 {
    infrequent_access_after_days = 30
    archive_after_days           = 180
  }

  # The HDFS port: /datamesh/sales/orders, owned by the domain, mode 0750.
  hdfs {
    space_quota_bytes = 1099511627776 # 1 TiB of raw bytes, replication included
    namespace_quota   = 100000
  }

  # The Cassandra port: keyspace sales__orders, ALL PERMISSIONS for the domain's role.
  cassandra {
    replication = { eu-west = 3 }
  }
}
