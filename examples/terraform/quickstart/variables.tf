variable "marketing_password" {
  description = "The marketing domain's Kafka password (write-only: never in state or plan). `make demo` makes one up."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "enrich_jar" {
  description = "The example Flink job's jar (examples/pipelines/flink-enrich): `make demo` builds it into the tools cache."
  type        = string
}

variable "kafka_bootstrap_servers" {
  description = "Where the pipeline's job finds Kafka (`make demo`: the local stack's broker)."
  type        = string
}

variable "kafka_security_protocol" {
  description = "How the job talks to Kafka."
  type        = string
  default     = "SASL_PLAINTEXT"
}
