terraform {
  required_providers {
    datamesh = {
      source = "datamesh/datamesh"
    }
  }
}

# Every block is optional: with no configuration the provider uses the standard AWS
# credential chain and DATAMESH_KAFKA_BOOTSTRAP_SERVERS.
provider "datamesh" {
  name_prefix  = "acme"
  default_tags = { managed_by = "terraform" }

  aws {
    region = "eu-west-1"
  }

  kafka {
    bootstrap_servers = ["kafka-1.example.com:9096", "kafka-2.example.com:9096"]
    security_protocol = "SASL_SSL"
    sasl_mechanism    = "SCRAM-SHA-512"
    sasl_username     = "datamesh-provider"
    sasl_password     = var.kafka_password
  }

  governance {
    required_tags      = ["cost_center"]
    max_retention_days = 3650
  }
}

variable "kafka_password" {
  description = "The provider's SASL password on the Kafka cluster."
  type        = string
  sensitive   = true
}
