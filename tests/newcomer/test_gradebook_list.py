"""`dlgrade gradebook list` in an 80-column terminal: the seed and the isolation level are readable."""

from __future__ import annotations

import json

from click.testing import CliRunner

from grader.batch.api import machine
from grader.batch.gradebook import Gradebook
from grader.cli import main

ISOLATION = json.loads(
    '{"process_group": true, "user_namespace": false, "pid_namespace": true, "network_namespace": true, '
    '"ipc_namespace": true, "uts_namespace": true, "memory_cgroup": true, "pids_cgroup": true, '
    '"mount_namespace": true, "allowlist_root": true, "proc_private": true, "read_only_filesystem": true, '
    '"rlimits": ["cpu_s", "memory_mb"], "unprivileged_user": true, "no_new_privs": true, '
    '"no_capabilities": true, "seccomp": true, "level": "full"}')


def test_runs_fit_an_80_column_terminal_and_keep_every_layer(tmp_path):
    book = tmp_path / "gb.sqlite"
    gradebook = Gradebook(book)
    for seed in (442443611, 1958013362):
        gradebook.finish_run(gradebook.start_run("a4", "0.1.0", seed, "4.1", machine(), {}), "finished", ISOLATION)
    gradebook.close()
    listed = CliRunner().invoke(main, ["gradebook", "list", "--gradebook", str(book)], terminal_width=80)
    assert listed.exit_code == 0, listed.output
    assert "442443611" in listed.output and "1958013362" in listed.output  # a seed is to be copied, not guessed
    assert "full" in listed.output
    rows = [line for line in listed.output.splitlines() if line.startswith("│")]
    assert len(rows) <= 2 * 2, listed.output  # at most two lines a run, not one per isolation layer
    assert "seccomp" in listed.output and "pid_namespace" in listed.output  # the layers are still all there
