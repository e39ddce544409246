"""The cgroup layer's logic on fake cgroup trees: where a session's cgroups may go (root's hierarchy, a v2
subtree delegated to an ordinary user, or nowhere), and what ``doctor`` then says.

Real delegation (``systemd-run --user --scope -p Delegate=yes``) needs systemd; these tests build the files
such a scope shows and emulate the kernel's writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.runner import doctor
from grader.runner.isolation import cgroups

SCOPE = "/user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope"


def fake_v2(tmp_path: Path, controllers: str = "cpu memory pids") -> Path:
    """A cgroup v2 mount with this process's scope under it (files as the kernel shows them)."""
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    scope = tmp_path / SCOPE.lstrip("/")
    scope.mkdir(parents=True)
    (scope / "cgroup.controllers").write_text(controllers + "\n")
    (scope / "cgroup.subtree_control").write_text("\n")
    (scope / "cgroup.procs").write_text("101\n102\n")
    return scope


def test_own_v2_path_reads_the_unified_line():
    assert cgroups.own_v2_path(f"12:pids:/x\n0::{SCOPE}\n") == SCOPE
    assert cgroups.own_v2_path("4:memory:/\n3:pids:/\n") is None  # v1 only


def test_a_scope_owned_by_the_user_with_memory_and_pids_is_delegated(tmp_path):
    scope = fake_v2(tmp_path)
    uid = os.stat(scope).st_uid
    assert cgroups.delegated_base(str(tmp_path), f"0::{SCOPE}\n", uid) == str(scope)


@pytest.mark.parametrize("case", ["other owner", "no memory", "v1", "top", "no file"])
def test_nothing_is_delegated_otherwise(tmp_path, case):
    scope = fake_v2(tmp_path, "cpu pids" if case == "no memory" else "cpu memory pids")
    uid = os.stat(scope).st_uid + (1 if case == "other owner" else 0)
    if case == "v1":
        (tmp_path / "cgroup.controllers").unlink()
    if case == "no file":
        (scope / "cgroup.subtree_control").unlink()
    proc = "0::/\n" if case == "top" else f"0::{SCOPE}\n"
    assert cgroups.delegated_base(str(tmp_path), proc, uid) is None


def test_preparing_a_delegated_scope_moves_its_processes_to_a_leaf_then_enables_controllers(tmp_path, monkeypatch):
    scope = fake_v2(tmp_path)
    writes = []

    def write(folder, name, value):  # the kernel's side: a moved pid leaves its cgroup; "+c" enables c
        writes.append((os.path.relpath(folder, scope), name, value))
        path = Path(folder, name)
        if name == "cgroup.procs":
            for procs in scope.rglob("cgroup.procs"):
                procs.write_text("".join(f"{p}\n" for p in procs.read_text().split() if p != value))
            path.write_text(path.read_text() + value + "\n" if path.exists() else value + "\n")
        elif name == "cgroup.subtree_control":
            if (scope / "cgroup.procs").read_text().strip():
                raise OSError(16, "busy: the cgroup still holds processes")
            path.write_text(" ".join(sorted({*path.read_text().split(), value.lstrip("+")})))

    monkeypatch.setattr(cgroups, "_write", write)
    assert cgroups.prepare_delegated(str(scope), "dlgrade-rest")
    assert (scope / "dlgrade-rest" / "cgroup.procs").read_text().split() == ["101", "102"]
    assert set((scope / "cgroup.subtree_control").read_text().split()) == {"cpu", "memory", "pids"}
    assert [w[1] for w in writes] == ["cgroup.procs"] * 2 + ["cgroup.subtree_control"] * 3


def test_preparing_fails_cleanly_where_the_kernel_refuses(tmp_path, monkeypatch):
    scope = fake_v2(tmp_path)

    def refuse(folder, name, value):
        raise OSError(13, "permission denied")

    monkeypatch.setattr(cgroups, "_write", refuse)
    assert not cgroups.prepare_delegated(str(scope), "dlgrade-rest")


def test_sessions_cgroups_go_in_the_given_base_with_each_controllers_files(tmp_path):
    scope = fake_v2(tmp_path)
    group = cgroups.SessionCgroup("dlgrade-1-2", str(scope)).create(1024, 64, 1.0)
    folder = scope / "dlgrade-1-2"
    assert group.memory and group.pids and group.cpu and group.paths == [str(folder)]
    assert (folder / "memory.max").read_text() == str(1024 << 20) and (folder / "memory.swap.max").read_text() == "0"
    assert (folder / "cpu.max").read_text() == "100000 100000" and (folder / "cpu.weight").read_text() == "100"
    assert (folder / "pids.max").read_text() == "64"


def test_v1_hierarchies_get_shares_and_a_quota(tmp_path):
    for controller in ("memory", "pids", "cpu"):
        (tmp_path / controller).mkdir()
        (tmp_path / controller / "tasks").write_text("")
    group = cgroups.SessionCgroup("dlgrade-1-2", str(tmp_path)).create(3072, 64, 2.0)
    assert group.memory and group.cpu
    assert (tmp_path / "memory/dlgrade-1-2/memory.limit_in_bytes").read_text() == str(3072 << 20)
    assert (tmp_path / "cpu/dlgrade-1-2/cpu.cfs_quota_us").read_text() == "200000"
    assert (tmp_path / "cpu/dlgrade-1-2/cpu.shares").read_text() == "1024"


def test_oom_kills_reads_either_version(tmp_path):
    (tmp_path / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n")
    assert cgroups.oom_kills(str(tmp_path)) == 2
    (tmp_path / "memory.events").unlink()
    (tmp_path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 5\n")
    assert cgroups.oom_kills(str(tmp_path)) == 5
    assert cgroups.oom_kills(None) == 0


def test_doctor_states_the_figures_and_says_what_to_run_without_a_cgroup(monkeypatch):
    lines = doctor.memory_lines({"a1": 1024, "a2": 1024, "a4": 3072}, capped=True)
    assert lines[0].startswith("a1, a2: 1024 MiB per session") and "/tmp 128 MiB" in lines[0]
    assert "768 MiB" in lines[0] and lines[1].startswith("a4: 3072 MiB")
    monkeypatch.setattr(os, "getuid", lambda: 1000)
    lines = doctor.memory_lines({"a1": 1024}, capped=False)
    assert "not enforced here" in lines[-1] and "systemd-run --user --scope -p Delegate=yes" in lines[-1]
