# SPDX-License-Identifier: Apache-2.0
"""Runs a program under an OCI seccomp profile installed the way a container runtime (runc,
crun) installs it: the filter is loaded last, right before execve, so the dynamic loader and
libc start-up of the program run under it too.

    oci_seccomp_exec.py PROFILE.json PROGRAM [ARGS...]"""
import json
import os
import sys

import seccomp

ACTIONS = {"SCMP_ACT_ALLOW": seccomp.ALLOW, "SCMP_ACT_KILL_PROCESS": seccomp.KILL_PROCESS,
           "SCMP_ACT_KILL": seccomp.KILL, "SCMP_ACT_LOG": seccomp.LOG}
OPS = {"SCMP_CMP_EQ": seccomp.EQ, "SCMP_CMP_NE": seccomp.NE,
       "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ}


def load(path):
    profile = json.load(open(path))
    f = seccomp.SyscallFilter(defaction=ACTIONS[profile["defaultAction"]])
    for rule in profile["syscalls"]:
        action = ACTIONS[rule["action"]] if rule["action"] in ACTIONS else \
            seccomp.ERRNO(rule.get("errnoRet", 1))
        args = []
        for a in rule.get("args", []):
            if a["op"] == "SCMP_CMP_MASKED_EQ":  # OCI: value is the mask, valueTwo the datum
                args.append(seccomp.Arg(a["index"], seccomp.MASKED_EQ, a["value"],
                                        a.get("valueTwo", 0)))
            else:
                args.append(seccomp.Arg(a["index"], OPS[a["op"]], a["value"]))
        for name in rule["names"]:
            f.add_rule(action, name, *args)
    return f


if __name__ == "__main__":
    seccomp_filter = load(sys.argv[1])
    sys.stdout.flush()
    seccomp_filter.load()  # no_new_privs too, as runtimes set it for unprivileged processes
    os.execv(sys.argv[2], sys.argv[2:])
