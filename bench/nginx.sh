# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# The nginx the benchmarks load: 1 worker, keep-alive, TLS 1.2/1.3 on 127.0.0.1:PORT, a 1 KiB
# body at /1k, no access log. start_nginx DIR PORT; stop it with: kill "$(cat DIR/nginx.pid)".
start_nginx() {
	local work=$1 port=$2
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
		-days 1 -subj /CN=bench >/dev/null 2>&1
	mkdir -p "$work/www"
	head -c 1024 /dev/zero | tr '\0' x >"$work/www/1k"
	cat >"$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$port ssl;
		ssl_certificate $work/cert.pem;
		ssl_certificate_key $work/key.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		root $work/www;
	}
}
EOF
	nginx -c "$work/nginx.conf"
	until [[ -s $work/nginx.pid ]]; do sleep 0.05; done
}
