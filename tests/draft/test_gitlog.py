"""The history by file (draft/gitlog.py): one `git log` per HEAD commit, a new commit is read
anew, and a log cut at its window sends the caller back to git for older commits."""

from __future__ import annotations

from pathlib import Path

from remediator.draft import gitlog
from remediator.draft.history import image_tags
from tests.support.repos import commit

KUSTOMIZATION = "images:\n  - name: ghcr.io/acme/cart\n    newTag: '{tag}'\n"


def test_the_log_is_read_once_per_head_and_again_after_a_commit(tmp_path: Path):
    commit(tmp_path, {"apps/cart/kustomization.yaml": KUSTOMIZATION.format(tag="1.0"),
                      "apps/ünïcode/values.yaml": "image: {tag: '1.0'}\n"}, "cart 1.0")
    first = gitlog.file_log(tmp_path)
    assert gitlog.file_log(tmp_path.resolve()) is first
    assert [c.summary for c in first.by_path["apps/ünïcode/values.yaml"]] == ["cart 1.0"]
    commit(tmp_path, {"apps/cart/kustomization.yaml": KUSTOMIZATION.format(tag="1.1")},
           "cart 1.1")
    second = gitlog.file_log(tmp_path)
    assert second is not first
    assert [c.summary for c in second.by_path["apps/cart/kustomization.yaml"]] == [
        "cart 1.1", "cart 1.0"]
    assert second.complete
    # what the image revert reads: the new commit's tag first
    assert [t.tag for t in image_tags(tmp_path, "apps/cart/kustomization.yaml",
                                      "ghcr.io/acme/cart")] == ["1.1", "1.0"]


def test_a_log_cut_at_its_window_does_not_answer_for_older_commits():
    c = [gitlog.LoggedCommit(f"{n:040x}", n, "", f"c{n}") for n in range(3)]
    cut = gitlog.FileLog({"a.yaml": c, "b.yaml": c[:1]}, complete=False)
    assert gitlog.commits_of(cut, "a.yaml", 2) == c[:2]
    assert gitlog.commits_of(cut, "b.yaml", 2) is None
    assert gitlog.commits_of(cut, "c.yaml", 2) is None
    whole = gitlog.FileLog({"b.yaml": c[:1]}, complete=True)
    assert gitlog.commits_of(whole, "b.yaml", 2) == c[:1]
    assert gitlog.commits_of(whole, "c.yaml", 2) == []
