# terraform apply -invoke=action.datamesh_run_pipeline.daily  runs the batch again now.
action "datamesh_run_pipeline" "daily" {
  config {
    pipeline = "sales/daily-orders"
  }
}

# Or take a savepoint of a Flink pipeline after every change of it.
resource "terraform_data" "enrich_release" {
  input = "v2"

  lifecycle {
    action_trigger {
      events  = [after_update]
      actions = [action.datamesh_run_pipeline.savepoint]
    }
  }
}

action "datamesh_run_pipeline" "savepoint" {
  config {
    pipeline = "sales/enrich-customers"
  }
}
