terraform {
  required_providers {
    datamesh = {
      source = "datamesh/datamesh"
    }
  }
}

# Endpoints come from the environment (`make demo` sources the local stack's stack.env:
# AWS_ENDPOINT_URL, DATAMESH_KAFKA_BOOTSTRAP_SERVERS, DATAMESH_FLINK_REST_URL).
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

  # The domain's Kafka login (SCRAM): its pipeline reads and writes as "marketing".
  password_wo         = var.marketing_password
  password_wo_version = 1
}

resource "datamesh_access_grant" "marketing_reads_orders" {
  consumer_domain = datamesh_domain.marketing.name
  data_product    = datamesh_data_product.orders.id
  access          = "read"
  purpose         = "Attribute revenue to campaigns"
  expires_at      = "2030-01-01T00:00:00Z"
}

# Marketing's own product: orders attributed to its campaigns, as a stream.
resource "datamesh_data_product" "attribution" {
  domain         = datamesh_domain.marketing.name
  name           = "attribution"
  description    = "Orders with the campaign they are attributed to, and each customer's running order count"
  classification = "internal"
  tags           = { cost_center = "marketing-7" }
}

resource "datamesh_stream" "campaign_orders" {
  data_product = datamesh_data_product.attribution.id
  name         = "campaign-orders"
  partitions   = 1
}

# A Flink job run by marketing: it reads sales' order events through the grant (the governance
# checks at plan time that marketing may read them, and that the output is marketing's own and
# at least as sensitive) and writes each order, tagged and counted per customer, to
# marketing's stream.
resource "datamesh_pipeline" "attribute_orders" {
  domain      = datamesh_domain.marketing.name
  name        = "attribute-orders"
  engine      = "flink"
  inputs      = [datamesh_access_grant.marketing_reads_orders.id]
  outputs     = [datamesh_data_product.attribution.id]
  artifact    = var.enrich_jar
  entry_class = "datamesh.examples.StreamEnrich"
  args = [
    "--input", datamesh_stream.order_events.topic,
    "--output", datamesh_stream.campaign_orders.topic,
    "--group", "${datamesh_domain.marketing.name}.attribute-orders",
    "--tag", "campaign-q4",
  ]

  config = {
    "datamesh.kafka.bootstrap.servers" = var.kafka_bootstrap_servers
    "datamesh.kafka.security.protocol" = var.kafka_security_protocol
    "datamesh.kafka.sasl.mechanism"    = "SCRAM-SHA-512"
    "datamesh.kafka.username"          = datamesh_domain.marketing.name
  }
  secret_config_wo         = { "datamesh.kafka.password" = var.marketing_password }
  secret_config_wo_version = 1
}
