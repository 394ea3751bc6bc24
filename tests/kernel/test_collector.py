"""The collector around a command's process (kernel/collector.py): the process entry pauses it
for the imports, the top-level group's callback freezes what they made and resumes it; a
command run inside another process (CliRunner) leaves that process's collector alone."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from remediator.cli import main
from remediator.kernel import collector

# what the collector looks like when the command's process ends (atexit runs after it returned)
_AT_EXIT = """
import atexit, gc, sys
atexit.register(lambda: print("enabled", gc.isenabled(), "frozen", gc.get_freeze_count() > 0))
sys.argv = ["remediator", *sys.argv[1:]]
from remediator.__main__ import main
main()
"""


def test_pause_then_resume_freezes_what_exists_and_turns_the_collector_on(gc_state: None):
    gc.enable()
    collector.pause()
    assert not gc.isenabled()
    collector.resume()
    assert gc.isenabled() and gc.get_freeze_count() > 0
    gc.unfreeze()
    collector.resume()  # once only: nothing is frozen again
    assert gc.get_freeze_count() == 0


def test_a_collector_the_process_turned_off_itself_stays_off(gc_state: None):
    gc.disable()
    collector.pause()
    collector.resume()
    assert not gc.isenabled() and gc.get_freeze_count() == 0


def test_a_command_run_in_another_process_leaves_its_collector_alone(gc_state: None,
                                                                     tmp_path: Path):
    gc.enable()
    result = CliRunner().invoke(main, ["validate", "--repo", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_the_process_entry_runs_the_command_with_the_collector_on_and_the_imports_frozen(
        tmp_path: Path):
    (tmp_path / "web.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: b}\n")
    done = subprocess.run([sys.executable, "-c", _AT_EXIT, "validate", "--repo", str(tmp_path),
                           str(tmp_path / "web.yaml")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "enabled True frozen True"
