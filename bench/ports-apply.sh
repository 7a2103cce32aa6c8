#!/usr/bin/env bash
# Times `terraform apply` of one data product with all three ports (S3, HDFS, Cassandra)
# against the same with its S3 port only, the domain made before; 5 runs each, fresh product
# names, every product destroyed between runs (untimed). Needs a sourced stack.env with s3,
# kafka, hdfs and cassandra up, and the provider built (`cargo build`; PROVIDER_DIR to use
# another build). Prints one line per run.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$repo/$target" ;; esac
provider_dir="${PROVIDER_DIR:-$target/debug}"
dir=$(mktemp -d)
cat >"$dir/cli.tfrc" <<CFG
provider_installation {
  dev_overrides { "datamesh/datamesh" = "$provider_dir" }
  direct {}
}
CFG
export TF_CLI_CONFIG_FILE="$dir/cli.tfrc"
p="tm$RANDOM"
write() {
  cat >"$dir/main.tf" <<HCL
terraform {
  required_providers {
    datamesh = { source = "datamesh/datamesh" }
  }
}
provider "datamesh" {
  name_prefix = "$p"
  aws { s3_force_path_style = true }
  kafka { default_replication_factor = 1 }
  cassandra { replication = { datacenter1 = 1 } }
}
resource "datamesh_domain" "d" {
  name  = "$p-sales"
  owner = "sales@example.com"
}
$1
HCL
}
cd "$dir"
write ""
"$DATAMESH_TERRAFORM" apply -auto-approve -no-color >/dev/null
timed() { # label, product block
  write "$2"
  local s e
  s=$(date +%s.%N)
  "$DATAMESH_TERRAFORM" apply -auto-approve -no-color >/dev/null
  e=$(date +%s.%N)
  echo "$1: $(echo "$e - $s" | bc) s"
  write ""
  "$DATAMESH_TERRAFORM" apply -auto-approve -no-color >/dev/null
}
product() { # name, ports
  printf 'resource "datamesh_data_product" "p" {\n  domain = datamesh_domain.d.name\n  name = "%s"\n  classification = "internal"\n  force_destroy = true\n%s\n}\n' "$1" "$2"
}
for i in 1 2 3 4 5; do
  timed "all three ports" "$(product "orders$i" "  hdfs {}
  cassandra {}")"
  timed "S3 only" "$(product "plain$i" "")"
done
write ""
"$DATAMESH_TERRAFORM" destroy -auto-approve -no-color >/dev/null
rm -rf "$dir"
