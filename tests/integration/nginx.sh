#!/usr/bin/env bash
# Run a private nginx on loopback for bootrino's integration tests and benchmarks.
#
# Usage: nginx.sh start STATEDIR ROOTDIR
#        nginx.sh stop  STATEDIR [ROOTDIR]
#
# start: installs Debian's nginx if it is missing (without letting the package start the
# system service), makes the test certificates (certs.sh STATEDIR/certs), picks five free
# loopback ports and runs nginx as the invoking user with its config, pid, logs and temp
# paths all under STATEDIR, serving ROOTDIR read-only (sendfile on, Range supported):
#   HTTP_PORT               plain HTTP
#   HTTPS_PORT              TLS, certificate "good" (signed by CA_FILE, SAN localhost,
#                           127.0.0.1, ::1)
#   HTTPS_EXPIRED_PORT      TLS, "expired" (signed by CA_FILE, right names, expired 2020)
#   HTTPS_WRONGHOST_PORT    TLS, "wronghost" (signed by CA_FILE, SAN DNS:wrong.example only)
#   HTTPS_SELFSIGNED_PORT   TLS, "selfsigned" (right names, not signed by CA_FILE)
# Every port listens on 127.0.0.1, and also on [::1] when IPV6=1. HTTP/1.1 only (no h2).
# When nginx is up it writes STATEDIR/ports.env (sourceable KEY=VALUE lines: the five ports,
# CA_FILE, CERT_DIR, HOST=127.0.0.1, IPV6=0|1, NGINX_PID) and prints its path.
# Access log (with the Range header and the TLS version and cipher suite, "tls=-/-" for plain HTTP):
# STATEDIR/access.log; errors: STATEDIR/error.log.
# stop: stops that nginx (SIGTERM, then SIGKILL after 5 s) and removes ports.env.
# Environment for start: LIMIT_RATE (e.g. 50m), nginx's limit_rate: the most one connection may
# be sent per second, as CDNs and object stores cap it (bench/fetch_capped.sh); unset: no limit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "nginx.sh: $*" >&2; exit 1; }

find_nginx() {
  NGINX=${NGINX:-$(command -v nginx || true)}
  [[ -n $NGINX ]] || { [[ -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx; } || true
  [[ -n $NGINX && -x $NGINX ]]
}

install_nginx() {
  find_nginx && return 0
  [[ $(id -u) == 0 ]] || die "nginx is not installed and we are not root to install it"
  echo "nginx.sh: installing Debian package nginx" >&2
  # Keep the package's postinst from starting the system service (port 80): invoke-rc.d
  # consults policy-rc.d, and 101 means "action forbidden".
  local policy=/usr/sbin/policy-rc.d made_policy=
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && made_policy=1
  fi
  local apt=(apt-get -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 install nginx)
  export DEBIAN_FRONTEND=noninteractive
  "${apt[@]}" >&2 || { apt-get -q -o DPkg::Lock::Timeout=600 update >&2 && "${apt[@]}" >&2; } || {
    [[ -n $made_policy ]] && rm -f "$policy"
    die "apt-get install nginx failed"
  }
  [[ -n $made_policy ]] && rm -f "$policy"
  # If a system nginx got started anyway, stop it: tests must only talk to ours.
  if [[ -s /run/nginx.pid ]] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
    invoke-rc.d nginx stop >&2 2>&1 || kill "$(cat /run/nginx.pid)" || true
  fi
  find_nginx || die "nginx still not found after install"
}

# Prints "IPV6 P1 P2 P3 P4 P5": five distinct ports free on 127.0.0.1 (and on ::1 if usable).
pick_ports() {
  python3 - <<'EOF'
import socket
def v6ok():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False
v6, held, ports = v6ok(), [], []
while len(ports) < 5:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
    p = s.getsockname()[1]
    if v6:
        try:
            s6 = socket.socket(socket.AF_INET6)
            s6.bind(("::1", p))
            held.append(s6)
        except OSError:
            continue
    ports.append(p)
print(int(v6), *ports)
EOF
}

pid_alive() {  # a zombie (exited, not yet reaped by init) counts as gone
  local state  # one read: the process may be reaped between two looks
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [[ -n $state && $state != Z ]]
}
is_nginx() { pid_alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q nginx; }

stop() {
  local state=$1 pid i
  rm -f "$state/ports.env"
  [[ -s $state/nginx.pid ]] || return 0
  pid=$(cat "$state/nginx.pid")
  if is_nginx "$pid"; then  # not a stale pid file whose number was reused
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do pid_alive "$pid" || break; sleep 0.1; done
    if pid_alive "$pid"; then
      pkill -KILL -P "$pid" 2>/dev/null || true  # its workers, by parent id
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$state/nginx.pid"
}

write_conf() {  # STATE ROOT IPV6 HTTP_PORT GOOD_PORT EXPIRED_PORT WRONGHOST_PORT SELFSIGNED_PORT
  local state=$1 root=$2 v6=$3; shift 3
  local certs=$state/certs kinds=(http good expired wronghost selfsigned) i
  {
    [[ $(id -u) == 0 ]] && echo "user root;"
    cat <<EOF
worker_processes auto;
daemon on;
pid "$state/nginx.pid";
error_log "$state/error.log" warn;
events { worker_connections 1024; }
http {
  default_type application/octet-stream;
  log_format bootrino '\$remote_addr:\$server_port [\$time_local] "\$request" \$status '
                      '\$body_bytes_sent range="\$http_range" \$request_time tls=\$ssl_protocol/\$ssl_cipher';
  access_log "$state/access.log" bootrino;
  client_body_temp_path "$state/tmp/client_body";
  proxy_temp_path "$state/tmp/proxy";
  fastcgi_temp_path "$state/tmp/fastcgi";
  uwsgi_temp_path "$state/tmp/uwsgi";
  scgi_temp_path "$state/tmp/scgi";
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  server_tokens off;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:bootrino_ssl:1m;
EOF
    if [[ -n ${LIMIT_RATE:-} ]]; then echo "  limit_rate $LIMIT_RATE;"; fi
    local ports=("$@") ssl
    for i in 0 1 2 3 4; do
      ssl=""
      [[ $i -gt 0 ]] && ssl=" ssl"
      echo "  server {  # ${kinds[$i]}"
      echo "    listen 127.0.0.1:${ports[$i]}$ssl;"
      [[ $v6 == 1 ]] && echo "    listen [::1]:${ports[$i]}$ssl;"
      if [[ -n $ssl ]]; then
        echo "    ssl_certificate \"$certs/${kinds[$i]}.crt\";"
        echo "    ssl_certificate_key \"$certs/${kinds[$i]}.key\";"
      fi
      echo "    root \"$root\";"
      echo "    location / { try_files \$uri =404; }"
      # /to-http/PATH redirects to the plain-HTTP port: clients must refuse https -> http.
      echo "    location /to-http/ { rewrite ^/to-http/(.*)\$ http://127.0.0.1:${ports[0]}/\$1 redirect; }"
      # /to-https/PATH redirects to the good HTTPS port.
      echo "    location /to-https/ { rewrite ^/to-https/(.*)\$ https://localhost:${ports[1]}/\$1 redirect; }"
      echo "  }"
    done
    echo "}"
  } > "$state/nginx.conf"
}

wait_listening() {  # PORT...
  local p i
  for p in "$@"; do
    for ((i = 0; i < 50; i++)); do
      (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue 2
      sleep 0.1
    done
    return 1
  done
}

start() {
  local state root attempt v6 ports
  mkdir -p "$1"
  state=$(cd "$1" && pwd)
  root=$(cd "$2" && pwd) || die "no such ROOTDIR: $2"
  install_nginx
  stop "$state"
  bash "$here/certs.sh" "$state/certs"
  mkdir -p "$state/tmp"
  for attempt in 1 2 3; do  # a picked port can be taken before nginx binds it: retry
    read -r v6 ports < <(pick_ports)
    # shellcheck disable=SC2086
    write_conf "$state" "$root" "$v6" $ports
    # shellcheck disable=SC2086
    if "$NGINX" -p "$state" -c "$state/nginx.conf" -e "$state/error.log" 2>"$state/start.err" &&
       wait_listening $ports; then
      set -- $ports
      cat > "$state/ports.env.tmp" <<EOF
HOST=127.0.0.1
IPV6=$v6
HTTP_PORT=$1
HTTPS_PORT=$2
HTTPS_EXPIRED_PORT=$3
HTTPS_WRONGHOST_PORT=$4
HTTPS_SELFSIGNED_PORT=$5
NGINX_PID=$(cat "$state/nginx.pid")
EOF
      # paths as printf %q: plain unless they hold characters the shell would split on
      printf 'CA_FILE=%q\nCERT_DIR=%q\n' "$state/certs/ca.crt" "$state/certs" >>"$state/ports.env.tmp"
      mv -f "$state/ports.env.tmp" "$state/ports.env"
      echo "$state/ports.env"
      return 0
    fi
    stop "$state"
    echo "nginx.sh: start attempt $attempt failed:" >&2
    tail -n 5 "$state/start.err" "$state/error.log" 2>/dev/null >&2 || true
  done
  die "could not start nginx"
}

case ${1:-} in
  start) [[ $# == 3 ]] || die "usage: nginx.sh start STATEDIR ROOTDIR"; start "$2" "$3" ;;
  stop) [[ $# -ge 2 ]] || die "usage: nginx.sh stop STATEDIR"; stop "$(cd "$2" 2>/dev/null && pwd || echo "$2")" ;;
  *) die "usage: nginx.sh start STATEDIR ROOTDIR | nginx.sh stop STATEDIR" ;;
esac
