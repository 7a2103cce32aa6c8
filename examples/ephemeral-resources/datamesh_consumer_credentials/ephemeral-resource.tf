# Short-lived credentials of the marketing domain's role. Nothing of them is stored in state
# or plan files; pass them to whatever reads the granted data, e.g. a provisioner.
ephemeral "datamesh_consumer_credentials" "marketing" {
  consumer_domain  = "marketing"
  duration_seconds = 900
}

resource "terraform_data" "nightly_export" {
  provisioner "local-exec" {
    command = "./export-orders.sh"
    environment = {
      AWS_ACCESS_KEY_ID     = ephemeral.datamesh_consumer_credentials.marketing.access_key_id
      AWS_SECRET_ACCESS_KEY = ephemeral.datamesh_consumer_credentials.marketing.secret_access_key
      AWS_SESSION_TOKEN     = ephemeral.datamesh_consumer_credentials.marketing.session_token
    }
  }
}
