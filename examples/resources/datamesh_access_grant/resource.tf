resource "datamesh_domain" "sales" {
  name  = "sales"
  owner = "sales-team@example.com"
}

resource "datamesh_domain" "marketing" {
  name  = "marketing"
  owner = "marketing-team@example.com"
}

resource "datamesh_data_product" "orders" {
  domain         = datamesh_domain.sales.name
  name           = "orders"
  classification = "internal"
}

# Marketing reads the orders bucket and the orders topics. Add an RFC 3339
# `expires_at` (for example "2027-01-31T00:00:00Z") to have IAM end the access
# then; products of the most sensitive classification require one.
resource "datamesh_access_grant" "marketing_orders" {
  consumer_domain = datamesh_domain.marketing.name
  data_product    = datamesh_data_product.orders.id
  access          = "read"
  purpose         = "Campaign attribution: join orders with campaign clicks"
}
