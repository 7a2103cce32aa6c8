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
}
