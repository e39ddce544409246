"""The one-word summary of a session's isolation layers, as reports and ``dlgrade doctor`` show it."""

from __future__ import annotations

# The layers every report names, in order; ``level`` summarises them (see ``isolation_level``).
FULL_LAYERS = ("pid_namespace", "network_namespace", "ipc_namespace", "uts_namespace", "mount_namespace",
               "allowlist_root", "unprivileged_user", "no_new_privs", "no_capabilities", "seccomp",
               "memory_cgroup", "pids_cgroup", "cpu_cgroup")


def isolation_level(layers: dict) -> str:
    """"full": every layer held; "partial": the student cannot see the host's files or processes
    nor reach the network, as an unprivileged user, but a limit is per process only (no cgroup) or
    seccomp is missing; "minimal": anything less (rlimits, a process group, perhaps a separate uid)."""
    if all(layers.get(name) for name in FULL_LAYERS):
        return "full"
    core = ("pid_namespace", "network_namespace", "allowlist_root", "unprivileged_user", "no_capabilities")
    return "partial" if all(layers.get(name) for name in core) else "minimal"
