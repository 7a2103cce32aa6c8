# moto: S3, IAM and STS on one endpoint. See scripts/lib/stack.sh for what a service file defines.
# shellcheck shell=bash

install_s3() { :; } # moto lives in the tools venv, which tools.sh always installs

probe_s3() {
    "$PY" - "$AWS_ENDPOINT_URL" <<'PY'
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(f"{sys.argv[1]}/moto-api/", timeout=2).read()
except urllib.error.HTTPError:
    pass  # an HTTP error status is still an answer
except Exception as e:
    sys.exit(f"moto: {type(e).__name__}: {e}")
PY
}

# One try of start_s3 on fresh ports (start_on_free_ports); its variables are start_s3's locals.
try_s3() {
    port="$(free_port)"
    spawn s3 "$TOOLS/venv/bin/moto_server" -H 127.0.0.1 -p "$port"
    export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
    rc=0; wait_for s3 "answer on 127.0.0.1:$port" probe_s3 || rc=$?
    return "$rc"
}

start_s3() {
    local port rc
    start_on_free_ports s3 "moto (S3/IAM/STS)" try_s3
    check_loopback s3
    stack_env AWS_ENDPOINT_URL "http://127.0.0.1:$port" \
        AWS_ACCESS_KEY_ID testing AWS_SECRET_ACCESS_KEY testing \
        AWS_REGION us-east-1 AWS_DEFAULT_REGION us-east-1 AWS_EC2_METADATA_DISABLED true
}
