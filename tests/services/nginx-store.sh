#!/bin/sh
# nginx (Debian package) as an HTTPS WebDAV store for the tests and benches.
#
#   eval "$(tests/services/nginx-store.sh start DIR [PORT])"
#   tests/services/nginx-store.sh stop DIR
#
# start: makes a CA and a server certificate with the openssl CLI (SAN
# 127.0.0.1, ::1, localhost), a random bearer token in DIR/token (mode 600),
# and runs nginx under DIR on 127.0.0.1:PORT (a free port when none is
# given).  The data lives in DIR/root/store/.  It prints shell assignments:
#   MLS_STORE  MLS_STORE_TOKEN_FILE  MLS_STORE_CA_FILE  STORE_DIR  STORE_PID
#   STORE_PORT  STORE_ROOT (the directory behind the URL)  STORE_HTTP_PORT
# With STORE_HTTP_PORT=N in the environment a plain-HTTP listener is added.
# stop: QUIT, then TERM, then KILL, to the PID in DIR/nginx.pid only.
#
# PUT publication: nginx receives the body into client_body_temp_path
# (DIR/root/.tmp, the same file system as the data) and renames the
# finished file over the key, so a reader never sees a half-written object;
# a PUT cut short leaves nothing behind.
set -eu

die() { echo "nginx-store: $*" >&2; exit 1; }

free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

alive() {	# a zombie is not alive (kill -0 succeeds on one)
	[ -r "/proc/$1/stat" ] || return 1
	_st=$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)
	[ "$_st" != Z ] && [ "$_st" != X ]
}

start() {
	dir=$1 port=${2:-}
	nginx=$(command -v nginx || echo /usr/sbin/nginx)
	[ -x "$nginx" ] || die "nginx: not installed (apt-get install nginx-light)"
	command -v openssl >/dev/null 2>&1 || die "openssl: not installed"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	mkdir -p "$dir/pki" "$dir/conf" "$dir/logs" "$dir/root/store" \
	    "$dir/root/.tmp/body" "$dir/tmp"
	pki=$dir/pki
	if [ ! -f "$pki/server.crt" ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		    -subj "/CN=mls test CA" -keyout "$pki/ca.key" \
		    -out "$pki/ca.crt" >/dev/null 2>&1 || die "openssl: CA"
		openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
		    -keyout "$pki/server.key" -out "$pki/server.csr" \
		    >/dev/null 2>&1 || die "openssl: server key"
		printf 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n' \
		    >"$pki/ext.cnf"
		openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.crt" \
		    -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
		    -extfile "$pki/ext.cnf" -out "$pki/server.crt" \
		    >/dev/null 2>&1 || die "openssl: server certificate"
	fi
	if [ ! -f "$dir/token" ]; then
		(umask 077; openssl rand -hex 24 >"$dir/token") ||
		    die "openssl: token"
	fi
	token=$(cat "$dir/token")
	[ -n "$port" ] || port=$(free_port)
	http_listen=
	[ -n "${STORE_HTTP_PORT:-}" ] &&
	    http_listen="listen 127.0.0.1:$STORE_HTTP_PORT;"
	# the token lives in this file (mode 600) and nowhere else
	(umask 077; cat >"$dir/conf/nginx.conf" <<EOF
daemon on;
user root;
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 512; }
http {
	access_log $dir/logs/access.log;
	client_body_temp_path $dir/root/.tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	default_type application/octet-stream;
	sendfile on;
	keepalive_requests 10000;
	client_max_body_size 0;
	map_hash_bucket_size 128;
	map \$http_authorization \$mls_auth_ok { "Bearer $token" 1; default 0; }
	server {
		listen 127.0.0.1:$port ssl;
		$http_listen
		ssl_certificate $pki/server.crt;
		ssl_certificate_key $pki/server.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		root $dir/root;
		location / { return 404; }
		location /store/ {
			if (\$mls_auth_ok = 0) {
				add_header WWW-Authenticate 'Bearer realm="mls"' always;
				return 401;
			}
			dav_methods PUT DELETE MKCOL COPY MOVE;
			create_full_put_path on;
			dav_access user:rw group:r all:r;
			min_delete_depth 2;
			autoindex on;
			autoindex_format json;
		}
	}
}
EOF
	) || die "cannot write the config"
	stop "$dir" >/dev/null 2>&1 || :
	"$nginx" -e "$dir/logs/error.log" -c "$dir/conf/nginx.conf" -p "$dir" \
	    >"$dir/logs/start.log" 2>&1 ||
	    die "nginx did not start: $(tail -n 3 "$dir/logs/start.log")"
	i=0
	while [ ! -s "$dir/nginx.pid" ] && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	[ -s "$dir/nginx.pid" ] || die "nginx did not write its pid file"
	# wait until it answers (401 without the token)
	i=0
	while [ $i -lt 50 ]; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$pki/ca.crt" \
		    "https://127.0.0.1:$port/store/" 2>/dev/null) || :
		[ "$code" = 401 ] && break
		sleep 0.1; i=$((i + 1))
	done
	[ "${code:-}" = 401 ] || die "nginx does not answer on port $port"
	cat <<EOF
MLS_STORE='https://127.0.0.1:$port/store/'
MLS_STORE_TOKEN_FILE='$dir/token'
MLS_STORE_CA_FILE='$pki/ca.crt'
STORE_DIR='$dir'
STORE_ROOT='$dir/root/store'
STORE_PORT=$port
STORE_HTTP_PORT=${STORE_HTTP_PORT:-}
STORE_PID=$(cat "$dir/nginx.pid")
export MLS_STORE MLS_STORE_TOKEN_FILE MLS_STORE_CA_FILE
EOF
}

stop() {
	dir=$1
	[ -s "$dir/nginx.pid" ] || return 0
	pid=$(cat "$dir/nginx.pid")
	case $pid in ''|*[!0-9]*) return 0 ;; esac
	for sig in QUIT TERM KILL; do
		alive "$pid" || break
		kill -"$sig" "$pid" 2>/dev/null || break
		i=0
		while alive "$pid" && [ $i -lt 30 ]; do
			sleep 0.1; i=$((i + 1))
		done
	done
	rm -f "$dir/nginx.pid"
}

case ${1:-} in
start) [ $# -ge 2 ] || die "usage: nginx-store.sh start DIR [PORT]"
	start "$2" "${3:-}" ;;
stop) [ $# -ge 2 ] || die "usage: nginx-store.sh stop DIR"
	stop "$2" ;;
*) die "usage: nginx-store.sh start|stop DIR [PORT]" ;;
esac
