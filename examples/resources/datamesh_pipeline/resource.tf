variable "sales_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

# A Flink streaming job run by the sales domain: it reads the crm domain's stream through a
# grant and writes the sales domain's own stream, logged in to Kafka as "sales".
resource "datamesh_pipeline" "enrich" {
  domain      = "sales"
  name        = "enrich-customers"
  engine      = "flink"
  inputs      = ["sales:crm/customers"] # the grant's ID: datamesh_access_grant.x.id
  outputs     = ["sales/enriched"]
  artifact    = "${path.module}/jobs/flink-enrich.jar"
  entry_class = "datamesh.examples.StreamEnrich"
  args        = ["--input", "crm.customers.changes", "--output", "sales.enriched.counts", "--group", "sales.enrich"]

  config = {
    "datamesh.kafka.bootstrap.servers" = "kafka-1:9092"
    "datamesh.kafka.security.protocol" = "SASL_SSL"
    "datamesh.kafka.sasl.mechanism"    = "SCRAM-SHA-512"
    "datamesh.kafka.username"          = "sales"
  }
  secret_config_wo         = { "datamesh.kafka.password" = var.sales_password }
  secret_config_wo_version = 1

  flink {
    parallelism  = 2
    upgrade_mode = "savepoint" # a change of the job stops it with a savepoint and resumes from it
  }
}

# Short-lived credentials of the sales domain's role, for the Spark job's s3a client.
ephemeral "datamesh_consumer_credentials" "sales" {
  consumer_domain = "sales"
}

# A Spark batch run: reads the granted product's S3 port, writes an aggregate into its own.
resource "datamesh_pipeline" "daily" {
  domain      = "sales"
  name        = "daily-orders"
  engine      = "spark"
  inputs      = ["sales:crm/orders"]
  outputs     = ["sales/daily-orders"]
  artifact    = "s3://acme-artifacts/jobs/spark-aggregate.jar"
  entry_class = "datamesh.examples.BatchAggregate"
  args        = ["--input", "s3a://acme-crm-orders/", "--output", "s3a://acme-sales-daily-orders/daily/"]

  config = {
    "spark.hadoop.fs.s3a.aws.credentials.provider" = "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider"
  }
  secret_config_wo = {
    "spark.hadoop.fs.s3a.access.key"    = ephemeral.datamesh_consumer_credentials.sales.access_key_id
    "spark.hadoop.fs.s3a.secret.key"    = ephemeral.datamesh_consumer_credentials.sales.secret_access_key
    "spark.hadoop.fs.s3a.session.token" = ephemeral.datamesh_consumer_credentials.sales.session_token
  }
  secret_config_wo_version = 1

  spark {
    executor_memory = "2g"
    timeout_seconds = 3600
    triggers        = { day = "2026-12-01" } # a new value runs the batch again
  }
}
