"""The release's identity, kept here and nowhere else: the version (hatch reads it for the
package metadata; `remediator --version`, `remediator init`'s workflow pin and schema line, and the
release workflow's tag check and image labels read it) and the repository remediator is
published from (`init`, the schema's address, the image name). The documentation and workflow
files that quote them are checked against these values by the test suite (tests/release/), and
rewritten by `python scripts/release_refs.py` after a change here. Nothing but the standard
library may be imported by this module: the release workflow reads it without installing the
package. It is the first module the package imports (remediator/__init__.py), which is why the
GitPython setting below lives here.
"""


import os

# Without git on the PATH, GitPython refuses to be imported (a page of advice, every command
# dead); quiet, each git call fails instead and says so in one line, and `doctor` reports it.
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

__version__ = "0.1.0"

#: The GitHub repository (owner/name) remediator is published from: its releases, the reusable
#: validate workflow, the pre-commit hook. A fork publishing its own build changes this line.
REPOSITORY = "remediator-dev/remediator"

#: The container image the release workflow pushes (GitHub Container Registry, lower case).
IMAGE = f"ghcr.io/{REPOSITORY.lower()}"

#: Where `remediator config schema`'s JSON Schema is published: an asset of each release.
SCHEMA_URL = (f"https://github.com/{REPOSITORY}/releases/download/v{__version__}/"
              "remediator.schema.json")
