resource "datamesh_domain" "sales" {
  name        = "sales"
  owner       = "sales-team@example.com"
  description = "Orders, invoices and customers"

  # Who may assume the domain's IAM role; by default the account root of the
  # provider's credentials.
  trusted_principal_arns = ["arn:aws:iam::123456789012:role/sales-pipelines"]

  tags = {
    cost_center = "sales-42"
  }

  # A Kafka client quota on user "sales": per broker, 1 MiB/s produced and 2 MiB/s fetched.
  kafka_quota {
    producer_byte_rate = 1048576
    consumer_byte_rate = 2097152
  }
}
