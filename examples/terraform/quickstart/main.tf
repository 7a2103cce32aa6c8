terraform {
  required_providers {
    datamesh = {
      source = "datamesh/datamesh"
    }
  }
}

# Endpoints come from the environment (`make demo` sources the local stack's stack.env:
# AWS_ENDPOINT_URL, DATAMESH_KAFKA_BOOTSTRAP_SERVERS).
provider "datamesh" {
  name_prefix  = "quickstart"
  default_tags = { managed_by = "terraform" }

  aws {
    s3_force_path_style = true
  }

  kafka {
    default_replication_factor = 1 # the local stack has one broker; its address and SCRAM login come from stack.env
  }

  governance {
    required_tags = ["cost_center"]
  }
}

resource "datamesh_domain" "sales" {
  name        = "sales"
  owner       = "sales-team@example.com"
  description = "Orders, invoices and customers"
}

resource "datamesh_data_product" "orders" {
  domain         = datamesh_domain.sales.name
  name           = "orders"
  description    = "Every order placed, one JSON document per order"
  classification = "internal"
  retention_days = 365
  schema = jsonencode({
    type = "object"
    properties = {
      order_id = { type = "string" }
      amount   = { type = "number" }
    }
  })
  tags = { cost_center = "sales-42" }
}

resource "datamesh_stream" "order_events" {
  data_product = datamesh_data_product.orders.id
  name         = "order-events"
  partitions   = 3
  retention_ms = 604800000
}

resource "datamesh_domain" "marketing" {
  name        = "marketing"
  owner       = "marketing-team@example.com"
  description = "Campaigns and attribution"
}

resource "datamesh_access_grant" "marketing_reads_orders" {
  consumer_domain = datamesh_domain.marketing.name
  data_product    = datamesh_data_product.orders.id
  access          = "read"
  purpose         = "Attribute revenue to campaigns"
  expires_at      = "2030-01-01T00:00:00Z"
}
