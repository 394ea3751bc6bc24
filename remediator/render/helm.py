"""`helm template`, as Flux's helm-controller or Argo CD's repo-server render a release.

The chart comes from a folder of the GitOps repository (copied first, without symlinks, so a
template can read nothing outside it) or is pulled from its chart repository (`helm pull`, an
HTTP index or `oci://`) into a per-process cache. Helm runs with its own empty home (no
repositories, plugins, credentials or kubeconfig of the user's), a deadline and a bound on its
output; only the chart source is contacted, and templates are only rendered (`helm template`
runs no hook and talks to no cluster).

Two kinds of failure: ``RenderUnavailable`` when nothing can be rendered here (no Helm on the
PATH, a chart whose dependencies are not vendored): callers fall back to predicting, and say
so; ``RenderError`` when the chart cannot be fetched or does not render: a reason to give.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel import files, limits, proc, turns, yamlio
from ..kernel.redact import redact

if TYPE_CHECKING:
    from ..model import JSON, ChartSource

log = logging.getLogger(__name__)

#: the Helm binary to use (a path); "off" disables rendering
HELM_ENV = "REMEDIATOR_HELM"
#: the deadline of a Helm run, its output and a repository chart's size are `limits:` settings
#: (renderTimeoutSeconds, commandOutputBytes, chartBytes)
#: pulled charts are reused this long (a version constraint may resolve anew later)
PULL_TTL_SECONDS = 600
#: a chart that could not be fetched is not asked for again this soon (one pass, many incidents)
FAILED_PULL_TTL_SECONDS = 60
RENDER_CACHE_SIZE = 128
MAX_CACHED_CHARTS = 32
#: what Helm may see of our environment: the way out (proxies, CA bundles) and nothing else
PASSED_ENV = ("PATH", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
              "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR", "TZ")


class RenderUnavailable(Exception):
    """Nothing can be rendered here (no Helm, dependencies not vendored); one-line reason."""


class RenderError(Exception):
    """The chart cannot be fetched or does not render; one-line reason."""


def helm_binary() -> str | None:
    configured = os.environ.get(HELM_ENV, "")
    if configured.lower() in ("off", "none", "false", "0"):
        return None
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    # next to our Python too: where scripts/install_helm.py puts it in a virtualenv
    beside = Path(sys.executable).parent / "helm"
    return shutil.which("helm") or (str(beside) if os.access(beside, os.X_OK) else None)


def unavailable_reason() -> str:
    """Why charts are not rendered here ("" when Helm is available)."""
    if helm_binary():
        return ""
    if os.environ.get(HELM_ENV):
        return f"Helm rendering is turned off ({HELM_ENV}={os.environ[HELM_ENV]})"
    return "no `helm` on the PATH"


def version() -> str:
    """`helm version --short`, or "" when it does not answer."""
    binary = helm_binary()
    if not binary:
        return ""
    try:
        return _run([binary, "version", "--short"], timeout=15).decode().strip()
    except (RenderError, RenderUnavailable):
        return ""


# ------------------------------------------------------------------------------- subprocess

_lock = threading.Lock()
_workdir: Path | None = None


def _home() -> Path:
    """Helm's own home for this process (created once, removed at exit)."""
    global _workdir
    with _lock:
        if _workdir is None:
            _workdir = Path(tempfile.mkdtemp(prefix="remediator-helm-"))
            atexit.register(shutil.rmtree, _workdir, True)
        return _workdir


def _env() -> dict[str, str]:
    home = _home()
    env = {k: v for k, v in os.environ.items() if k in PASSED_ENV}
    env.update({
        "HOME": str(home), "KUBECONFIG": os.devnull, "HELM_PLUGINS": str(home / "plugins"),
        "HELM_CACHE_HOME": str(home / "cache"), "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
        "HELM_REGISTRY_CONFIG": str(home / "config" / "registry.json"),
        "HELM_REPOSITORY_CONFIG": str(home / "config" / "repositories.yaml"),
        "HELM_REPOSITORY_CACHE": str(home / "cache" / "repository"),
    })
    return env


def _run(args: list[str], timeout: float | None = None, cwd: Path | None = None) -> bytes:
    """Run Helm (its own process group, killed at the deadline or past the output limit); its
    stdout. Raises RenderError with Helm's last error line."""
    bounds = limits.current()
    try:
        # other incidents of the pass plan meanwhile (kernel/turns); only local state inside
        with turns.waiting():
            result = proc.run(args, env=_env(), cwd=cwd or _home(),
                              timeout=bounds.render_timeout_seconds if timeout is None
                              else timeout, max_output=bounds.command_output_bytes)
    except OSError as exc:
        raise RenderUnavailable(f"cannot run {args[0]}: {exc.strerror or exc}") from None
    except proc.Stopped as exc:
        raise RenderError(str(exc)) from None
    if result.returncode != 0:
        raise RenderError(_error_of(result.stderr) or f"helm {args[1]}: exit {result.returncode}")
    return result.stdout


def _error_of(stderr: str) -> str:
    """Helm's last `Error:` paragraph (it continues on indented lines), on one line."""
    lines = stderr.splitlines()
    starts = [i for i, ln in enumerate(lines) if ln.startswith(("Error:", "error:"))]
    if not starts:
        return redact(" ".join(ln.strip() for ln in lines if ln.strip())[-300:])[0]
    out = [lines[starts[-1]].split(":", 1)[1].strip()]
    for ln in lines[starts[-1] + 1:]:
        if not ln.strip():
            break
        out.append(ln.strip())
    return redact(" ".join(out)[:500])[0]  # a repository URL may carry credentials


def _helm() -> str:
    binary = helm_binary()
    if not binary:
        raise RenderUnavailable(unavailable_reason())
    return binary


# ----------------------------------------------------------------------------------- charts

_pulled: dict[tuple[str, str, str], tuple[float, Path | RenderError]] = {}


def _digest_tree(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _copy_repo_chart(root: Path, rel: str) -> Path:
    """The repository's chart folder copied into Helm's home, refused when it holds a symlink
    or is too large (a template could read through a link with `.Files.Get`)."""
    src = (root / rel).resolve()
    if not src.is_relative_to(root.resolve()) or not (src / "Chart.yaml").is_file():
        raise RenderError(f"`{rel}` is not a chart folder of the repository")
    total = 0
    for dirpath, dirnames, filenames in os.walk(src):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            if path.is_symlink():
                raise RenderError(f"the chart `{rel}` holds a symbolic link "
                                  f"(`{path.relative_to(src)}`); not rendered")
            if name in filenames and not path.is_file():  # a FIFO blocks Helm's read forever
                raise RenderError(f"the chart `{rel}` holds `{path.relative_to(src)}`, which is "
                                  "not a regular file (a FIFO, socket or device); not rendered")
        total += sum((Path(dirpath) / f).stat().st_size for f in filenames)
        if total > (most := limits.current().chart_bytes):
            raise RenderError(f"the chart `{rel}` is over {most} bytes; not rendered")
    digest = _digest_tree(src)
    dest = _home() / "repo-charts" / digest / src.name
    if not dest.is_dir():
        tmp = dest.parent.with_name(f".{digest}.partial")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(src, tmp / src.name, symlinks=True)
        os.replace(tmp, dest.parent)
        _evict(dest.parent.parent, keep=dest.parent)
    _dependencies_vendored(dest, rel)
    return dest


def _evict(folder: Path, keep: Path) -> None:
    """A long-running service sees new chart versions for days: only the newest
    ``MAX_CACHED_CHARTS`` copies stay."""
    copies = sorted((p for p in folder.iterdir() if p.is_dir() and p != keep
                     and not p.name.startswith(".")), key=lambda p: p.stat().st_mtime)
    for old in copies[: max(0, len(copies) + 1 - MAX_CACHED_CHARTS)]:
        shutil.rmtree(old, ignore_errors=True)


def _dependencies_vendored(chart: Path, label: str) -> None:
    try:
        meta = yamlio.load_documents((chart / "Chart.yaml").read_text(encoding="utf-8"),
                                     "Chart.yaml")
    except (yamlio.UnsafeYAML, OSError, UnicodeDecodeError) as exc:
        raise RenderError(f"`{label}/Chart.yaml` cannot be read: {exc}") from None
    deps = (meta[0] or {}).get("dependencies") if meta and isinstance(meta[0], dict) else None
    vendored = chart / "charts"
    for dep in deps or []:
        if not isinstance(dep, dict) or not dep.get("name"):
            continue
        name = str(dep["name"])
        if not (vendored / name).is_dir() and not any(vendored.glob(f"{name}-*.tgz")):
            raise RenderUnavailable(f"the chart `{label}` depends on `{name}`, which is not in "
                                    "its `charts/` folder (the GitOps tool fetches it; remediator "
                                    "does not)")


def _pull(chart: ChartSource) -> Path:
    key = (chart.repo_url, chart.name, chart.version)
    now = time.monotonic()
    with _lock:
        cached = _pulled.get(key)
    if cached is not None:
        at, found = cached
        if isinstance(found, RenderError):
            if now - at < FAILED_PULL_TTL_SECONDS:
                raise found
        elif now - at < PULL_TTL_SECONDS and found.is_dir():
            return found
    dest = Path(tempfile.mkdtemp(prefix="chart-", dir=_home()))
    if chart.repo_url.startswith("oci://"):
        ref = chart.repo_url.rstrip("/")
        if chart.name and not ref.endswith(f"/{chart.name}"):
            ref = f"{ref}/{chart.name}"
        args = [_helm(), "pull", ref]
    else:
        args = [_helm(), "pull", chart.name, "--repo", chart.repo_url]
    if chart.version and chart.version != "*":
        args += ["--version", chart.version]
    args += ["--untar", "--untardir", str(dest)]
    try:
        _run(args)
        [found] = [p for p in dest.iterdir() if (p / "Chart.yaml").is_file()]
    except RenderError as exc:
        error = RenderError(f"{chart.describe()} cannot be fetched: {exc}")
        with _lock:
            _pulled[key] = (now, error)
        raise error from None
    except ValueError:
        raise RenderError(f"{chart.describe()}: the pulled archive holds no single chart") from None
    with _lock:
        previous = _pulled.get(key)
        if (previous is not None and isinstance(previous[1], Path)
                and time.monotonic() - previous[0] < PULL_TTL_SECONDS):
            # pulled meanwhile by another incident of the pass (kernel/turns), which may be
            # rendering from it now: that copy stays, this one goes
            shutil.rmtree(dest, ignore_errors=True)
            return previous[1]
        _pulled[key] = (now, found)
    if previous is not None and isinstance(previous[1], Path):  # expired: a newer pull
        shutil.rmtree(previous[1].parent, ignore_errors=True)
    return found


def chart_folder(chart: ChartSource, root: Path | None = None) -> Path:
    """A local folder holding the chart (a copy of the repository's, or pulled)."""
    _helm()
    if chart.path:
        if root is None:
            raise RenderError(f"{chart.describe()}: no repository to read it from")
        return _copy_repo_chart(root, chart.path)
    if not chart.repo_url or (not chart.name and not chart.repo_url.startswith("oci://")):
        raise RenderUnavailable("the chart's repository is not known")
    if not chart.repo_url.startswith(("https://", "http://", "oci://")):
        raise RenderError(f"{chart.describe()}: only http(s):// and oci:// chart repositories "
                          "are fetched")
    return _pull(chart)


def chart_defaults(folder: Path) -> JSON:
    """The chart's own values.yaml (empty when it has none or it cannot be read)."""
    try:
        text = files.read_bytes(folder / "values.yaml", limits.current().file_bytes)
        docs = yamlio.load_documents(text.decode("utf-8"), "values.yaml")
    except (OSError, files.UnreadableFile, UnicodeDecodeError, yamlio.UnsafeYAML):
        return {}
    return docs[0] if docs and isinstance(docs[0], dict) else {}


def chart_schema(folder: Path) -> JSON | None:
    """The chart's values.schema.json (None when it has none or it cannot be read)."""
    try:
        text = files.read_bytes(folder / "values.schema.json", limits.current().file_bytes)
        schema = json.loads(text.decode("utf-8"))
    except (OSError, files.UnreadableFile, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return schema if isinstance(schema, dict) else None


# ---------------------------------------------------------------------------------- render

_renders: OrderedDict[str, list[JSON] | RenderError] = OrderedDict()


def template(folder: Path, release: str, namespace: str, values: JSON,
             set_values: Sequence[tuple[str, str, bool]] = ()) -> list[JSON]:
    """`helm template` of the chart in ``folder`` (see ``chart_folder``); the objects, in order.
    ``set_values``: (name, value, as string) parameters, as Argo CD passes them."""
    key = hashlib.sha256(json.dumps([str(folder), release, namespace, values,
                                     list(set_values)], sort_keys=True, default=str
                                    ).encode()).hexdigest()
    with _lock:
        hit = _renders.get(key)
        if hit is not None:
            _renders.move_to_end(key)
    if isinstance(hit, RenderError):
        raise hit
    if hit is not None:
        return json.loads(json.dumps(hit))
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=_home(), delete=False) as f:
        json.dump(values, f, default=str)  # JSON is YAML
    try:
        args = [_helm(), "template", release, str(folder), "--namespace", namespace,
                "--values", f.name]
        for name, value, as_string in set_values:
            args += ["--set-string" if as_string else "--set", f"{name}={value}"]
        try:
            text = _run(args).decode("utf-8", errors="replace")
            objects = [d for d in yamlio.load_documents(text, "helm template output")
                       if isinstance(d, dict) and d.get("kind")]
        except yamlio.UnsafeYAML as exc:
            result: list[JSON] | RenderError = RenderError(str(exc))
        except RenderError as exc:
            result = exc
        else:
            result = objects
    finally:
        os.unlink(f.name)
    with _lock:
        _renders[key] = result
        while len(_renders) > RENDER_CACHE_SIZE:
            _renders.popitem(last=False)
    if isinstance(result, RenderError):
        raise result
    return json.loads(json.dumps(result))


def render_release(chart: ChartSource, release: str, namespace: str, values: JSON, *,
                   root: Path | None = None,
                   set_values: Sequence[tuple[str, str, bool]] = ()) -> list[JSON]:
    """The objects Helm renders for ``release`` in ``namespace`` from ``chart`` (read from the
    repository at ``root`` when it is a folder there) with ``values``."""
    return template(chart_folder(chart, root), release, namespace, values, set_values)
