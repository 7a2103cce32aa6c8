terraform {
  required_providers {
    datamesh = {
      source = "datamesh/datamesh"
    }
  }
}

# Every block is optional: with no configuration the provider uses the standard AWS
# credential chain and the DATAMESH_* environment (DATAMESH_KAFKA_BOOTSTRAP_SERVERS,
# DATAMESH_HDFS_WEBHDFS_URL, DATAMESH_CASSANDRA_CONTACT_POINTS, ...).
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

  hdfs {
    webhdfs_url  = "https://namenode.example.com:9871"
    namenode_uri = "hdfs://namenode.example.com:8020"
    root         = "/datamesh"
  }

  cassandra {
    contact_points   = ["cassandra-1.example.com:9042", "cassandra-2.example.com:9042"]
    local_datacenter = "eu-west"
    username         = "datamesh_provider"
    password         = var.cassandra_password
    replication      = { eu-west = 3 }
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

variable "cassandra_password" {
  description = "The provider's password on the Cassandra cluster."
  type        = string
  sensitive   = true
}
