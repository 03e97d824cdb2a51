# SPDX-License-Identifier: Apache-2.0
# Shared by scripts/run, scripts/test and bench/: install what is missing, build.
# shellcheck shell=bash

CLEARTAP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLEARTAP_BUILD=${CLEARTAP_BUILD:-$CLEARTAP_ROOT/build}

BUILD_PACKAGES=(gcc clang llvm bpftool pkg-config meson ninja-build libbpf-dev libelf-dev
	zlib1g-dev libcap-dev libseccomp-dev libprotobuf-c-dev protobuf-c-compiler libuv1-dev
	libnghttp2-dev libzydis-dev libssl-dev libclang-rt-14-dev libyaml-dev libcurl4-openssl-dev)
TEST_PACKAGES=(python3 python3-pytest python3-protobuf python3-yaml protobuf-compiler curl openssl
	util-linux systemd nginx-light nghttp2-client nghttp2-server gnutls-bin binutils python3-seccomp strace runc
	golang-go golang-google-grpc-dev prometheus nodejs python3-grpcio)
# tests/kernels/run: Debian's kernels booted under qemu with a busybox initramfs, and a
# debootstrap'd Debian 12 booted with systemd
KERNEL_PACKAGES=(qemu-system-x86 busybox-static cpio kmod xz-utils dpkg debian-archive-keyring debootstrap)

# Install the Debian packages of the given lists that are not installed yet.
ensure_packages() {
	local missing=() pkg
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$pkg")
	done
	((${#missing[@]})) || return 0
	echo "cleartap: installing ${missing[*]}" >&2
	if [[ $(id -u) -ne 0 ]]; then
		echo "cleartap: missing packages and not root: apt-get install ${missing[*]}" >&2
		return 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null
}

# The loader's user after start-up and the collector's user (systemd/sysusers.d/cleartap.conf).
ensure_users() {
	local user
	for user in cleartap cleartap-collector cleartap-broker; do
		id -u "$user" >/dev/null 2>&1 && continue
		if command -v systemd-sysusers >/dev/null; then
			systemd-sysusers "$CLEARTAP_ROOT/systemd/sysusers.d/cleartap.conf" && continue
		fi
		useradd --system --user-group --no-create-home --home-dir / \
			--shell /usr/sbin/nologin "$user"
	done
}

build_cleartap() {
	if [[ ! -f $CLEARTAP_BUILD/build.ninja ]]; then
		# --prefix=/usr: the systemd units name /usr/bin and /usr/sbin (tests/kernels/run installs
		# this build into a Debian guest with `meson install`)
		meson setup --prefix=/usr "$CLEARTAP_BUILD" "$CLEARTAP_ROOT" >/dev/null
	fi
	meson compile -C "$CLEARTAP_BUILD" >/dev/null || meson compile -C "$CLEARTAP_BUILD"
}
