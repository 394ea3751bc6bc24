"""``JSON``: a Kubernetes object, or any JSON object, as parsed (plain dicts, not typed models).

Its own module because nearly every module names it: importing it must not build the model's
dataclasses (``model`` loads each module on first use).
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]
