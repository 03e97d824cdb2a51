# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shared by the benchmark scripts (after scripts/lib.sh).
#
# The nginx they load: 1 worker, keep-alive, TLS 1.2/1.3 on 127.0.0.1:PORT, a 1 KiB body at
# /1k, no access log. start_nginx DIR PORT; stop it with: kill "$(cat DIR/nginx.pid)".
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

# cleartap as the systemd units run it: the loader (pins under $pin_dir, socket in $work) and
# the collector as cleartap-collector with nothing. start_cleartap OUT [LOADER ARGS...] [--
# COLLECTOR ARGS...]: the collector's stdout goes to OUT; sets $loader and $collector.
start_cleartap() {
	local out=$1 loader_args=() collector_args=()
	shift
	while (($#)) && [[ $1 != -- ]]; do
		loader_args+=("$1")
		shift
	done
	(($#)) && shift
	collector_args=("$@")
	"$CLEARTAP_BUILD/loader/cleartap-loader" --pin-dir "$pin_dir" --socket "$work/sock" \
		--allow-uid cleartap-collector "${loader_args[@]}" 2>"$work/loader.log" &
	loader=$!
	until grep -qs "serving descriptors" "$work/loader.log"; do sleep 0.05; done
	setpriv --reuid="$(id -u cleartap-collector)" --regid="$(id -g cleartap-collector)" \
		--clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs \
		"$CLEARTAP_BUILD/collector/cleartap-collector" --socket "$work/sock" \
		--stats-interval 0 "${collector_args[@]}" >"$out" 2>"$work/collector.log" &
	collector=$!
	until grep -qs receiving "$work/collector.log"; do sleep 0.05; done
}

# Stop both (the collector first: it drains and reports) and remove every pin.
stop_cleartap() {
	kill -INT "$collector"
	wait "$collector" || true
	collector=
	kill -TERM "$loader"
	wait "$loader" || true
	loader=
	"$CLEARTAP_BUILD/loader/cleartap-loader" --unload --pin-dir "$pin_dir" >/dev/null 2>&1
}

# The EXIT trap of a benchmark: nothing it started stays, no pin stays.
bench_cleanup() {
	[[ -n ${collector:-} ]] && kill -INT "$collector" 2>/dev/null
	[[ -n ${loader:-} ]] && kill -TERM "$loader" 2>/dev/null
	wait 2>/dev/null || true
	[[ -f $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
	"$CLEARTAP_BUILD/loader/cleartap-loader" --unload --pin-dir "$pin_dir" >/dev/null 2>&1 || true
	rm -rf "$work"
}

# Run a command while bench/empty_probe MODE holds its empty probes on LIBSSL:
# with_empty_probe MODE LIBSSL COMMAND... (the probes go when the command ends).
with_empty_probe() {
	local mode=$1 libssl=$2 line
	shift 2
	coproc EMPTYP { exec "$CLEARTAP_BUILD/bench/empty_probe" "$mode" "$libssl"; }
	read -r line <&"${EMPTYP[0]}"
	[[ $line == attached ]] || { echo "empty probe failed" >&2; exit 1; }
	"$@"
	exec {EMPTYP[1]}>&-
	wait "$EMPTYP_PID"
}
