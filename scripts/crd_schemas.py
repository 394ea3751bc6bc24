"""Write the bundled JSON schemas of custom resources (crd-schemas/) from CustomResourceDefinitions.

    python scripts/crd_schemas.py OUT_DIR CRD.yaml [CRD.yaml ...]

For each served version of each CRD: ``OUT_DIR/<group>/<kind>_<version>.json`` (the layout of
kubeconform's CRD catalogues, which ``validation.schemaLocations`` also reads), made from the
version's ``openAPIV3Schema`` the way openapi2jsonschema's strict mode makes them, and small:

- strict: an object schema with ``properties`` and no ``additionalProperties`` or
  ``x-kubernetes-preserve-unknown-fields`` refuses other keys (as the API server prunes them);
- ``nullable: true`` adds ``null`` to the type; ``x-kubernetes-int-or-string`` accepts both;
- descriptions, examples and the other ``x-kubernetes-*`` annotations are dropped, and so is
  ``status`` (written by the controller, not kept in a GitOps repository: any object passes);
- ``apiVersion`` and ``kind`` must be this version's.

The CRDs are the projects' own (see crd-schemas/README.md for where and which release).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

DROP = {"description", "example", "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-int-or-string", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
        "x-kubernetes-map-type", "x-kubernetes-embedded-resource", "x-kubernetes-validations",
        "nullable"}


def strict(node: Any) -> Any:
    """A JSON schema from one OpenAPI v3 structural schema node."""
    if isinstance(node, list):
        return [strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict(v) for k, v in node.items() if k not in DROP}
    if "properties" in out:
        out["properties"] = {k: strict(v) for k, v in node["properties"].items()}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if node.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if (out.get("type") in ("object", ["object", "null"]) and "properties" in out
            and "additionalProperties" not in out
            and not node.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


def schema_of(group: str, kind: str, version: str, openapi: dict[str, Any]) -> dict[str, Any]:
    schema = strict(openapi)
    props = schema.setdefault("properties", {})
    props["apiVersion"] = {"const": f"{group}/{version}"}
    props["kind"] = {"const": kind}
    props["metadata"] = {"type": "object"}
    if "status" in props:
        props["status"] = {"type": "object"}
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind"})
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def main(out_dir: str, *crd_files: str) -> int:
    out = Path(out_dir)
    for name in crd_files:
        for crd in yaml.safe_load_all(Path(name).read_text(encoding="utf-8")):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            group, kind = spec["group"], spec["names"]["kind"]
            for version in spec["versions"]:
                if not version.get("served", True):
                    continue
                openapi = version["schema"]["openAPIV3Schema"]
                target = out / group / f"{kind.lower()}_{version['name']}.json"
                target.parent.mkdir(parents=True, exist_ok=True)
                text = json.dumps(schema_of(group, kind, version["name"], openapi),
                                  sort_keys=True, separators=(",", ":"))
                target.write_text(text + "\n", encoding="utf-8")
                print(f"{target} {len(text)} bytes")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
