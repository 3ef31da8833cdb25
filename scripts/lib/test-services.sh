# Starts the local services the S3/SSM tests and the benchmark talk to, on free loopback ports:
# SeaweedFS (`weed mini`, S3 with SigV4 enforced because its admin keys are in its environment)
# and moto_server (SSM's JSON 1.1 protocol). Source this file, then call start_test_services;
# it exports the endpoints for the tests and registers stop_test_services to run on exit.
#
# Needs: .tools/venv on PATH (scripts/install-tools), python3.

services_dir=""
weed_pid=""
moto_pid=""

# The keys SeaweedFS enforces; tests sign with them, and with wrong ones for the negative cases.
export LONGHORN_DR_TEST_S3_ACCESS_KEY="AKIDLONGHORNDRTEST"
export LONGHORN_DR_TEST_S3_SECRET_KEY="longhorn-dr-test-secret"

stop_test_services() {
  # Stop only what this script started, by process id.
  [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null && wait "$moto_pid" 2>/dev/null
  [ -n "$weed_pid" ] && kill "$weed_pid" 2>/dev/null && wait "$weed_pid" 2>/dev/null
  moto_pid=""; weed_pid=""
  [ -n "$services_dir" ] && rm -rf "$services_dir"
  services_dir=""
}

# wait_for NAME PID URL LOG: polls URL until it answers (any HTTP status), or fails loudly.
wait_for() {
  local name=$1 pid=$2 url=$3 log=$4
  for _ in $(seq 1 150); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "test services: $name exited during start-up; its log ($log):" >&2
      tail -30 "$log" >&2
      return 1
    fi
    if curl -s -o /dev/null --max-time 1 "$url"; then return 0; fi
    sleep 0.2
  done
  echo "test services: $name did not answer at $url within 30 s; its log ($log):" >&2
  tail -30 "$log" >&2
  return 1
}

start_test_services() {
  local log_dir=$1
  mkdir -p "$log_dir"
  services_dir=$(mktemp -d "${TMPDIR:-/tmp}/longhorn-dr-services.XXXXXX")
  trap stop_test_services EXIT
  command -v weed >/dev/null || { echo "test services: weed is missing; run scripts/install-tools" >&2; return 1; }
  command -v moto_server >/dev/null || { echo "test services: moto_server is missing; run scripts/install-tools" >&2; return 1; }

  # weed mini listens on many ports; give every one a free port so nothing clashes with another run.
  local ports
  mapfile -t ports < <(python3 "$(dirname "${BASH_SOURCE[0]}")/free-ports.py" 17)
  local s3_port=${ports[0]}
  mkdir -p "$services_dir/weed"
  AWS_ACCESS_KEY_ID="$LONGHORN_DR_TEST_S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$LONGHORN_DR_TEST_S3_SECRET_KEY" \
    weed mini -dir="$services_dir/weed" -ip=127.0.0.1 -ip.bind=127.0.0.1 -admin.ui=false -webdav=false \
      -s3.port="$s3_port" -s3.port.grpc="${ports[1]}" -master.port="${ports[2]}" -master.port.grpc="${ports[3]}" \
      -volume.port="${ports[4]}" -volume.port.grpc="${ports[5]}" -filer.port="${ports[6]}" -filer.port.grpc="${ports[7]}" \
      -admin.port="${ports[8]}" -admin.port.grpc="${ports[9]}" -debug.port="${ports[10]}" -s3.debug.port="${ports[11]}" \
      -s3.port.iceberg="${ports[12]}" -webdav.port="${ports[13]}" -s3.port.lance="${ports[14]}" -metricsPort="${ports[15]}" \
      -s3.metricsPort="${ports[16]}" \
      >"$log_dir/weed.log" 2>&1 &
  weed_pid=$!
  wait_for "SeaweedFS" "$weed_pid" "http://127.0.0.1:$s3_port/" "$log_dir/weed.log" || return 1
  # The S3 port answers before the filer behind it is ready; wait until an authenticated-looking
  # request gets an S3 XML answer rather than a connection error or a 5xx.
  local code="" tries
  for tries in $(seq 1 300); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$s3_port/longhorn-dr-probe" || true)
    case "$code" in 403|404|200) break ;; esac
    sleep 0.2
  done
  case "$code" in 403|404|200) ;; *)
    echo "SeaweedFS's S3 API did not answer with S3 XML after $tries tries (last: HTTP ${code:-none}); its log: $log_dir/weed.log" >&2
    return 1 ;;
  esac
  export LONGHORN_DR_TEST_S3_ENDPOINT="http://127.0.0.1:$s3_port"

  local moto_port
  moto_port=$(python3 "$(dirname "${BASH_SOURCE[0]}")/free-ports.py" 1)
  moto_server -H 127.0.0.1 -p "$moto_port" >"$log_dir/moto.log" 2>&1 &
  moto_pid=$!
  wait_for "moto_server" "$moto_pid" "http://127.0.0.1:$moto_port/moto-api/" "$log_dir/moto.log" || return 1
  export LONGHORN_DR_TEST_SSM_ENDPOINT="http://127.0.0.1:$moto_port"
  echo "test services: SeaweedFS S3 at $LONGHORN_DR_TEST_S3_ENDPOINT (pid $weed_pid), moto SSM at $LONGHORN_DR_TEST_SSM_ENDPOINT (pid $moto_pid)"
}
