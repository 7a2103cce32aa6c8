resource "datamesh_domain" "sales" {
  name  = "sales"
  owner = "sales-team@example.com"
}

resource "datamesh_data_product" "orders" {
  domain         = datamesh_domain.sales.name
  name           = "orders"
  classification = "internal"
}

resource "datamesh_stream" "order_events" {
  data_product   = datamesh_data_product.orders.id
  name           = "order-events"
  partitions     = 6
  retention_ms   = 604800000 # 7 days
  cleanup_policy = "delete"

  config = {
    "max.message.bytes" = "2097152"
  }
}
