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
}
