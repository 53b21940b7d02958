# shellcheck shell=bash disable=SC2034  # sets variables its callers read
# Loopback servers for the integration and VM tests and the demo (source it; bash).
#
#   serve_start DIR STATE [HOST PORT [WRAP...]]
#                                    tests/integration/fault_server.py serving DIR on 127.0.0.1 (so
#                                    its /_f/SPEC/PATH fault URLs work too); STATE is a path prefix
#                                    for its files: STATE.port, STATE.log (one JSON line per
#                                    request, emptied first), STATE.err. Sets SERVE_PORT, SERVE_LOG
#                                    and SERVE_PID, and appends the pid to the caller's PIDS array,
#                                    which its cleanup kills. Returns 1, with the server's stderr
#                                    on stderr, if it did not start. HOST and PORT: another address
#                                    and port (default 127.0.0.1, 0: any free one), and WRAP a
#                                    command that runs the server (nsenter into a test's own
#                                    network namespace, whose addresses only its guests reach).
#   imds_start [OPTION...] DIR STATE [HOST PORT [WRAP...]]
#                                    tests/lib/fake_metadata.py answering from DIR (OPTIONs are its
#                                    own, e.g. --one-service), the same way: STATE.port, STATE.log
#                                    (its "METHOD PATH FLAVOR" lines, emptied first), STATE.err. Sets
#                                    IMDS_PORT and appends the pid to PIDS. It exits when its stdin
#                                    closes: a pipe from a tail that ends with this shell.
#   wait_nonempty FILE [TRIES]       waits (TRIES x 50 ms, default 100) for FILE to be non-empty:
#                                    how each helper server tells its port
#   sha256_of FILE                   FILE's SHA-256, hex
#   pinned_ref BASE_URL DIR PATH     BASE_URL/PATH#sha256=<hash of DIR/PATH>: a reference pinned by
#                                    the manifest's hash, as users write them
#   free_port                        a TCP port on 127.0.0.1 that was free a moment ago (nothing
#                                    listens on it: connections to it are refused)
#
# Nothing here listens beyond loopback, or beyond a network namespace of the test's own: guests reach
# these servers through QEMU's guestfwd rules to 127.0.0.1 (qemu.sh), or on tap links in that namespace.
TESTS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

wait_nonempty() {
  local i
  for ((i = 0; i < ${2:-100}; i++)); do
    [[ -s $1 ]] && return 0
    sleep 0.05
  done
  [[ -s $1 ]]
}

serve_start() {
  local dir=$1 state=$2 host=${3:-127.0.0.1} port=${4:-0}
  SERVE_LOG=$state.log
  : >"$SERVE_LOG"
  rm -f "$state.port"
  "${@:5}" python3 "$TESTS_LIB/../integration/fault_server.py" --root "$dir" --host "$host" --port "$port" \
    --port-file "$state.port" --log "$SERVE_LOG" 2>"$state.err" &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  if ! wait_nonempty "$state.port"; then
    echo "the file server for $dir did not start: $(cat "$state.err")" >&2
    return 1
  fi
  SERVE_PORT=$(cat "$state.port")
}

imds_start() {
  local options=()
  while [[ $1 == --* ]]; do options+=("$1") && shift; done
  local dir=$1 state=$2 host=${3:-127.0.0.1} port=${4:-0}
  : >"$state.log"
  rm -f "$state.port"
  "${@:5}" python3 "$TESTS_LIB/fake_metadata.py" "$dir" --host "$host" --port "$port" --log "$state.log" \
    "${options[@]}" < <(tail --pid=$$ -f /dev/null) >"$state.port" 2>"$state.err" &
  PIDS+=($!)
  if ! wait_nonempty "$state.port"; then
    echo "the fake metadata service for $dir did not start: $(cat "$state.err")" >&2
    return 1
  fi
  IMDS_PORT=$(cat "$state.port")
}

sha256_of() { sha256sum <"$1" | cut -d' ' -f1; }

pinned_ref() { echo "$1/$3#sha256=$(sha256_of "$2/$3")"; }

free_port() { python3 "$TESTS_LIB/free_port.py"; }
