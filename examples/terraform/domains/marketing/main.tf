# The marketing team's repository, with its own state: the marketing domain and its
# campaigns product, granted to sales. It finds the sales team's orders through the
# catalog (a data source), without access to sales' state or repository.
#
# Apply the sales root first (this root looks its orders up), then this one; sales then
# grants orders to this domain. See ../sales/main.tf for the whole order.

terraform {
  required_providers {
    datamesh = {
      source = "datamesh/datamesh"
    }
  }
}

# Endpoints come from the environment (the local stack's stack.env sets AWS_ENDPOINT_URL
# and DATAMESH_KAFKA_BOOTSTRAP_SERVERS).
provider "datamesh" {
  name_prefix  = var.name_prefix
  default_tags = { managed_by = "terraform" }

  aws {
    s3_force_path_style = true
  }

  kafka {
    default_replication_factor = 1 # the local stack has one broker; its address and SCRAM login come from stack.env
  }
}

resource "datamesh_domain" "marketing" {
  name        = var.domain
  owner       = "marketing-team@example.com"
  description = "Campaigns and attribution"
}

module "campaigns" {
  source = "../../modules/data-product"

  domain         = datamesh_domain.marketing.name
  name           = "campaigns"
  description    = "Every campaign with its daily spend and clicks"
  classification = "internal"
  tags           = { cost_center = "marketing-7" }

  streams = [
    { name = "clicks", partitions = 6, retention_ms = 86400000 }, # 1 day
  ]

  consumers = {
    (var.sales_domain) = {
      purpose    = "Report revenue per campaign"
      expires_at = "2030-01-01T00:00:00Z"
    }
  }
}

# Sales' orders, discovered through the catalog.
data "datamesh_data_product" "sales_orders" {
  domain = var.sales_domain
  name   = "orders"
}
