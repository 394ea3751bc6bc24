"""Which forge a repository URL calls for, so that `run` and `doctor` agree and a GitHub
repository is never driven by the local forge (which pushes branches and opens no pull request).

- a URL on github.com, or on the host of a GitHub Enterprise API given with `--github-api-url`
  (or `GITHUB_API_URL`): GitHub;
- a local path or a `file://` URL: the local forge; with `--github-api-url` on the command line,
  GitHub (a local mirror of a GitHub repository: `repo.url` names it);
- any other host: no guess; `--forge` must say.

An explicit `--forge` is taken when it is consistent with the URL, and refused with the reason
when it is not.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .github import GITHUB_API

GITHUB_HOST = "github.com"
KINDS = ("local", "github")


class ForgeMismatch(ValueError):
    """`--forge` contradicts the repository URL, or the URL does not tell; one-line message."""


def remote_host(remote: str) -> str | None:
    """The host of a git URL (https://, ssh://, scp-like `git@host:path`), None for a local
    path or a file:// URL."""
    text = remote.strip()
    scp = re.match(r"^[\w.-]+@([\w.-]+):(?!//)", text)
    if scp:
        return scp.group(1).lower()
    if "://" not in text:
        return None
    parts = urlsplit(text)
    if parts.scheme.lower() == "file":
        return None
    return (parts.hostname or "").lower() or None


def _github_hosts(api_url: str) -> set[str]:
    hosts = {GITHUB_HOST}
    api_host = (urlsplit(api_url).hostname or "").lower()
    if api_host and api_url.rstrip("/") != GITHUB_API:
        # GitHub Enterprise Server: https://HOST/api/v3; Enterprise Cloud: https://api.HOST
        hosts |= {api_host, api_host.removeprefix("api.")}
    return hosts


def forge_for(remote: str, forge: str | None, api_url: str = GITHUB_API,
              api_url_given: bool = False) -> str:
    """The forge for ``remote``: ``forge`` when given and consistent, else inferred.
    ``api_url_given``: `--github-api-url` was typed on the command line (a local mirror of a
    GitHub repository then means GitHub)."""
    host = remote_host(remote)
    on_github = host is not None and host in _github_hosts(api_url)
    if forge is None:
        if on_github or (host is None and api_url_given):
            return "github"
        if host is None:
            return "local"
        raise ForgeMismatch(
            f"cannot tell where to open pull requests for a repository on {host}: pass "
            "--forge github with --github-api-url https://HOST/api/v3 (GitHub Enterprise), or "
            "--forge local (branches only, pull requests recorded in the state dir)")
    if forge == "local" and on_github:
        raise ForgeMismatch(
            f"--forge local, but the repository is on GitHub ({host}): branches would be pushed "
            "and no pull request opened; drop --forge (GitHub is inferred) or use --forge github")
    if forge == "github" and host is not None and not on_github:
        raise ForgeMismatch(
            f"--forge github, but the repository is on {host}, not on github.com: give the "
            "GitHub Enterprise API with --github-api-url https://HOST/api/v3 (or GITHUB_API_URL)")
    return forge
