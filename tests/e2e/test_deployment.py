# SPDX-License-Identifier: Apache-2.0
"""Deployment artefacts: systemd units (verify, exposure scores), sysusers/tmpfiles, the
Kubernetes manifest against the "restricted" Pod Security Standard, and the collector's seccomp
profile equal to what the collector itself generates."""
import base64
import json
import re
import subprocess
import urllib.request

import pytest

import yaml

import harness

SYSTEMD = harness.ROOT / "systemd"
K8S = harness.ROOT / "deploy" / "kubernetes"
MAX_EXPOSURE = {"cleartap-loader": 5.0, "cleartap-collector": 2.0, "cleartap-export": 1.5}


@pytest.fixture(scope="module")
def units(tmp_path_factory):
    """The units with ExecStart pointing at the build (verify checks the binaries exist)."""
    d = tmp_path_factory.mktemp("units")
    for unit in list(SYSTEMD.glob("*.service")) + list(SYSTEMD.glob("*.socket")):
        text = unit.read_text()
        text = text.replace("/usr/sbin/cleartap-loader", str(harness.LOADER))
        text = text.replace("/usr/bin/cleartap-collector", str(harness.COLLECTOR))
        text = text.replace("/usr/bin/cleartap-export",
                            str(harness.BUILD / "exporter" / "cleartap-export"))
        (d / unit.name).write_text(text)
    return d


def test_units_verify(units):
    p = subprocess.run(["systemd-analyze", "verify", *sorted(str(u) for u in units.iterdir())],
                       capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr


@pytest.mark.parametrize("unit", sorted(MAX_EXPOSURE))
def test_unit_exposure(units, unit):
    p = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                        str(units / f"{unit}.service")], capture_output=True, text=True)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", p.stdout)
    assert m, p.stdout + p.stderr
    score = float(m.group(1))
    with open(harness.BUILD / "systemd-exposure.txt", "a") as out:
        out.write(f"{unit}.service exposure {score} (limit {MAX_EXPOSURE[unit]})\n")
    assert score <= MAX_EXPOSURE[unit], p.stdout


def test_sysusers_and_tmpfiles(tmp_path):
    (tmp_path / "etc").mkdir()
    subprocess.run(["systemd-sysusers", f"--root={tmp_path}",
                    str(SYSTEMD / "sysusers.d" / "cleartap.conf")], check=True)
    users = {line.split(":")[0]: line for line in (tmp_path / "etc/passwd").read_text().splitlines()}
    for user in ("cleartap", "cleartap-collector", "cleartap-broker", "cleartap-export"):
        assert user in users and users[user].endswith(":/:/usr/sbin/nologin"), users
    subprocess.run(["systemd-tmpfiles", f"--root={tmp_path}", "--create",
                    str(SYSTEMD / "tmpfiles.d" / "cleartap.conf")], check=True)
    assert oct((tmp_path / "run/cleartap").stat().st_mode & 0o7777) == "0o755"


def test_seccomp_profile_is_generated_from_the_allowlist():
    generated = subprocess.run([str(harness.COLLECTOR), "--print-seccomp-profile"],
                               capture_output=True, text=True, check=True).stdout
    assert (K8S / "seccomp" / "cleartap-collector.json").read_text() == generated, \
        "regenerate: cleartap-collector --print-seccomp-profile > deploy/kubernetes/seccomp/..."
    profile = json.loads(generated)
    assert profile["defaultAction"] == "SCMP_ACT_KILL_PROCESS"
    names = {n for rule in profile["syscalls"] for n in rule["names"]}
    assert not names & {"ptrace", "execveat", "init_module", "mount", "unshare", "setns"}
    # the rings and counters are mapped: the collector never calls bpf() (Linux 5.10 refuses
    # every command to it while kernel.unprivileged_bpf_disabled is set)
    assert "bpf" not in names


def manifest():
    docs = [d for d in yaml.safe_load_all((K8S / "cleartap.yaml").read_text()) if d]
    return next(d for d in docs if d["kind"] == "DaemonSet")


def restricted_violations(pod, container):
    """The container-level rules of the Pod Security Standards "restricted" profile (v1.30),
    applied to one container, plus the volumes it mounts."""
    v = []
    sc = container.get("securityContext", {})
    pod_sc = pod.get("securityContext", {})
    if sc.get("privileged"):
        v.append("privileged")
    if sc.get("allowPrivilegeEscalation") is not False:
        v.append("allowPrivilegeEscalation must be false")
    caps = sc.get("capabilities", {})
    if "ALL" not in caps.get("drop", []):
        v.append("capabilities.drop must include ALL")
    if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
        v.append("capabilities.add beyond NET_BIND_SERVICE")
    if not sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")):
        v.append("runAsNonRoot must be true")
    if sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
        v.append("runAsUser 0")
    seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {}))
    if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
        v.append("seccompProfile must be RuntimeDefault or Localhost")
    if any(p.get("hostPort") for p in container.get("ports", [])):
        v.append("hostPort")
    if sc.get("procMount", "Default") != "Default":
        v.append("procMount")
    if sc.get("windowsOptions", {}).get("hostProcess"):
        v.append("hostProcess")
    if sc.get("seLinuxOptions", {}).get("type") not in (None, "", "container_t", "container_init_t",
                                                        "container_kvm_t"):
        v.append("seLinuxOptions.type")
    allowed = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
               "persistentVolumeClaim", "projected", "secret"}
    volumes = {vol["name"]: vol for vol in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        kinds = set(volumes[mount["name"]]) - {"name"}
        if not kinds <= allowed:
            v.append(f"volume {mount['name']} is {kinds}")
    return v


def test_collector_container_is_restricted():
    pod = manifest()["spec"]["template"]["spec"]
    collector = next(c for c in pod["containers"] if c["name"] == "collector")
    assert restricted_violations(pod, collector) == []
    assert collector["securityContext"]["readOnlyRootFilesystem"] is True
    assert collector["securityContext"]["seccompProfile"]["localhostProfile"] == \
        "cleartap/collector.json"
    # The checker is not vacuous: the loader container is (rightly) not restricted.
    loader = next(c for c in pod["containers"] if c["name"] == "loader")
    assert set(restricted_violations(pod, loader)) >= {"capabilities.add beyond NET_BIND_SERVICE",
                                                       "runAsNonRoot must be true"}
    assert not pod.get("hostPID") and not pod.get("hostNetwork")


def test_collector_unit_reads_the_shipped_config():
    """The unit starts the collector with --config and reloads it with SIGHUP; the shipped file
    is one the collector's own parser accepts, with the sockets the other units make."""
    unit = (SYSTEMD / "cleartap-collector.service").read_text()
    assert re.search(r"^ExecStart=/usr/bin/cleartap-collector --config "
                     r"/etc/cleartap/collector.yaml$", unit, re.M)
    assert re.search(r"^ExecReload=/bin/kill -HUP \$MAINPID$", unit, re.M)
    config = yaml.safe_load((SYSTEMD / "collector.yaml").read_text())
    loader_socket = re.search(r"^ListenStream=(.*)$",
                              (SYSTEMD / "cleartap-loader.socket").read_text(), re.M).group(1)
    assert config["socket"] == loader_socket and config["metrics-listen"] == "systemd"
    p = subprocess.run([str(harness.COLLECTOR), "--config", str(SYSTEMD / "collector.yaml"),
                        "--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr


def test_export_container_is_restricted_and_wired_to_the_collector():
    pod = manifest()["spec"]["template"]["spec"]
    export = next(c for c in pod["containers"] if c["name"] == "export")
    collector = next(c for c in pod["containers"] if c["name"] == "collector")
    assert restricted_violations(pod, export) == []
    assert export["securityContext"]["readOnlyRootFilesystem"] is True
    docs = [d for d in yaml.safe_load_all((K8S / "cleartap.yaml").read_text()) if d]
    [config_map] = [d for d in docs if d["kind"] == "ConfigMap"]
    proto = yaml.safe_load(config_map["data"]["collector.yaml"])["proto"]
    assert f"--listen={proto}" in export["command"]
    assert f"--allow-user={collector['securityContext']['runAsUser']}" in export["command"]
    # the socket's directory is one volume both containers mount there
    sock_dir = proto.removeprefix("unix:").rsplit("/", 1)[0]
    mounts = [{m["name"] for m in c["volumeMounts"] if m["mountPath"] == sock_dir}
              for c in (export, collector)]
    assert mounts[0] == mounts[1] and len(mounts[0]) == 1
    # the exporter takes the flags the manifest gives it
    p = subprocess.run([str(harness.BUILD / "exporter" / "cleartap-export"), *export["command"][1:],
                        "--resource=host.name=node-1", "--help"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 0, p.stderr


def test_loader_container_gets_only_the_measured_capabilities():
    from test_loader_privileges import NEEDED
    pod = manifest()["spec"]["template"]["spec"]
    loader = next(c for c in pod["containers"] if c["name"] == "loader")
    caps = loader["securityContext"]["capabilities"]
    assert caps["drop"] == ["ALL"]
    assert {c.lower() for c in caps["add"]} == set(NEEDED)
    unit = (SYSTEMD / "cleartap-loader.service").read_text()
    # the unit adds CAP_SYS_ADMIN for Debian's own kernels before 6.6 (perf_event_paranoid=3);
    # the loader drops it at once elsewhere (test_loader_privileges)
    for key in ("CapabilityBoundingSet", "AmbientCapabilities"):
        listed = re.search(rf"^{key}=(.*)$", unit, re.M).group(1).split()
        assert {c.lower().removeprefix("cap_") for c in listed} == {*NEEDED, "sys_admin"}, key


def test_seccomp_profile_runs_the_collector_as_a_runtime_applies_it(cleartap, tls_cert):
    """The drift test above compares the file with its generator; this one compares it with
    reality: installed before execve, as runc/crun do, so ld.so and libc start-up run under it,
    through a real capture."""
    from test_capture import run_python_pair
    cleartap.start_loader()
    launcher = ["/usr/bin/python3", str(harness.PEERS / "oci_seccomp_exec.py"),
                str(K8S / "seccomp" / "cleartap-collector.json")]
    metrics_port = harness.free_port()
    collector = cleartap.start_collector("--metrics-listen", f"127.0.0.1:{metrics_port}",
                                         launcher=launcher)
    status = open(f"/proc/{collector.pid}/status").read()
    # the runtime's filter and the collector's own lock-down, stacked
    assert re.search(r"^Seccomp_filters:\s+2$", status, re.M), status
    client, server = run_python_pair(cleartap, tls_cert, 1000, 2000, "oci-seccomp")
    # the metrics endpoint too: its socket made under the profile, a scrape served under both
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
        assert b"cleartap_kernel_calls_total " in r.read()
    records = cleartap.stop_collector(collector)  # exited 0: nothing was killed on the way
    assert harness.stream(records, client["pid"], "DIRECTION_WRITE") == \
        base64.b64decode(client["sent"])
    assert harness.stream(records, server["pid"], "DIRECTION_WRITE") == \
        base64.b64decode(server["sent"])


def test_configmap_is_a_valid_collector_config(tmp_path):
    """The manifest's ConfigMap is what the collector reads with --config: every option in it
    is checked by the collector's own parser (--help after it exits 0 only if all are valid),
    and the container runs with it."""
    docs = [d for d in yaml.safe_load_all((K8S / "cleartap.yaml").read_text()) if d]
    [config_map] = [d for d in docs if d["kind"] == "ConfigMap"]
    config = tmp_path / "collector.yaml"
    config.write_text(config_map["data"]["collector.yaml"])
    p = subprocess.run([str(harness.COLLECTOR), "--config", str(config), "--help"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(config_map["data"]["collector.yaml"] + "memory-limit: lots\n")
    p = subprocess.run([str(harness.COLLECTOR), "--config", str(bad), "--help"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "invalid --memory-limit" in p.stderr  # the check is real
    pod = manifest()["spec"]["template"]["spec"]
    collector = next(c for c in pod["containers"] if c["name"] == "collector")
    assert collector["command"][1:] == ["--config=/etc/cleartap/collector.yaml"]
    [mount] = [m for m in collector["volumeMounts"] if m["mountPath"] == "/etc/cleartap"]
    [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]
