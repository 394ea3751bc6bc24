"""What a failed kustomize build says: kubectl logs kustomize's error through klog, on one line
(`err="..."`) or, when the error spans lines (a failed remote fetch quoting git), as `err=<`, the
tab-indented lines and ` >`. The reason is the error itself, never the closing ` >`
(validate printed `kustomize build of loadHttp failed:  >`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediator.render import kustomize

MULTILINE = (
    'E1205 23:39:01.551327   13604 run.go:72] "command failed" err=<\n'
    "\taccumulating resources: accumulation err='accumulating resources from "
    "'https://example.invalid/app.yaml': no such host': failed to run 'git fetch': "
    "fatal: unable to access 'https://example.invalid/'\n"
    "\t: exit status 128\n"
    " >\n")
ONE_LINE = ('E1205 23:39:01.631180   13618 run.go:72] "command failed" err="evalsymlink failure '
            "on '/r/app/config.yaml' : lstat /r/app/config.yaml: no such file or directory\"\n")


def test_a_multi_line_klog_error_is_joined():
    reason = kustomize.failure_reason(MULTILINE, 1)
    assert reason.startswith("accumulating resources: accumulation err=")
    assert "fatal: unable to access 'https://example.invalid/'" in reason
    assert reason.endswith(": exit status 128") and "\n" not in reason


@pytest.mark.parametrize(("stderr", "expected"), [
    (ONE_LINE, "evalsymlink failure on '/r/app/config.yaml' : lstat /r/app/config.yaml: no such "
               "file or directory"),
    ("Error: accumulating resources: missing.yaml: no such file\n",
     "Error: accumulating resources: missing.yaml: no such file"),
    ("", "exit code 1"),
])
def test_one_line_errors(stderr: str, expected: str):
    assert kustomize.failure_reason(stderr, 1) == expected


@pytest.mark.skipif(kustomize.renderer() != ["kubectl", "kustomize"],
                    reason="kubectl's own error format")
def test_a_remote_resource_that_cannot_be_fetched_says_why(tmp_path: Path):
    (tmp_path / "kustomization.yaml").write_text(
        "resources:\n- https://example.invalid/acme/app.yaml\n")
    with pytest.raises(kustomize.RenderError) as err:
        kustomize.build(tmp_path, "app")
    message = str(err.value)
    assert message.startswith("kustomize build of app failed: ")
    assert "example.invalid" in message and not message.rstrip().endswith(">")
