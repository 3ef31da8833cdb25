# Waits shared by the end-to-end scripts, with bounds meant for a busy machine (CI runs them on
# two cores beside each other's servers). Each fails loudly: a wait that runs out says so.

# wait_for_serve LOG PID [SECONDS]: until `sim serve` (PID) has printed its kubeconfig line to
# LOG. Fails, printing LOG, when the server exits first or has not listened within SECONDS (90).
wait_for_serve() {
  local log=$1 pid=$2 limit=${3:-90}
  local deadline=$(($(date +%s) + limit))
  until grep -q '^kubeconfig:' "$log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "sim serve (pid $pid) exited before it listened:"
      cat "$log"
      return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "sim serve (pid $pid) did not listen within $limit s:"
      cat "$log"
      return 1
    fi
    sleep 0.1
  done
}

# wait_until SECONDS COMMAND...: runs COMMAND until it succeeds; 1 when it has not within SECONDS.
wait_until() {
  local limit=$1
  shift
  local deadline=$(($(date +%s) + limit))
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# wait_gone PID [SECONDS]: until process PID has ended; 1 when it still runs after SECONDS (60).
wait_gone() {
  local pid=$1 limit=${2:-60}
  wait_until "$limit" _lhdr_gone "$pid"
}
_lhdr_gone() { ! kill -0 "$1" 2>/dev/null; }
