"""Ingress failures fixable in Git: a backend Service or port that does not exist, an
`ingressClassName` naming no IngressClass, a TLS secret name the controller cannot find (names
only: Secrets are never read; the controller's events name the missing one)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from ..model import FailureClass, IngressFacts
from .around import finding, names, of_kind, settled, was_read

if TYPE_CHECKING:
    from ..model import JSON, ClusterState
    from .around import Found

#: an IngressClass with this annotation "true" serves Ingresses that name no class
DEFAULT_CLASS = "ingressclass.kubernetes.io/is-default-class"
#: the class annotation of Ingresses written before `ingressClassName` (still honoured)
LEGACY_CLASS = "kubernetes.io/ingress.class"
_SECRET_NOT_FOUND = re.compile(r'secret "?([\w./-]+?)"? (?:was )?not found', re.IGNORECASE)


def _backends(ing: JSON) -> list[JSON]:
    spec = ing.get("spec") or {}
    out = []
    if isinstance((spec.get("defaultBackend") or {}).get("service"), dict):
        out.append(spec["defaultBackend"]["service"])
    for rule in spec.get("rules") or []:
        for path in ((rule or {}).get("http") or {}).get("paths") or []:
            svc = ((path or {}).get("backend") or {}).get("service")
            if isinstance(svc, dict):
                out.append(svc)
    return out


def _has_port(svc: JSON, port: JSON) -> bool:
    ports = (svc.get("spec") or {}).get("ports") or []
    if "number" in port:
        return any(p.get("port") == port["number"] for p in ports)
    if "name" in port:
        return any(p.get("name") == port["name"] for p in ports)
    return True


def ingress_failures(state: ClusterState, events: dict[tuple[str, str, str], list[JSON]],
                     now: datetime | None) -> list[Found]:
    out: list[Found] = []
    services = {(r.namespace, r.name): o for r, o in of_kind(state, "Service")}
    classes = names(state, "IngressClass")
    default_class = any(str(((o.get("metadata") or {}).get("annotations") or {}).get(
        DEFAULT_CLASS, "")).lower() == "true" for _, o in of_kind(state, "IngressClass"))
    for ref, ing in of_kind(state, "Ingress"):
        if not settled(ing, now):
            continue
        if was_read(state, "Service"):
            missing: list[str] = []
            for backend in _backends(ing):
                name, port = str(backend.get("name") or ""), backend.get("port") or {}
                svc = services.get((ref.namespace, name))
                if svc is None:
                    missing.append(f"service {name}")
                elif not _has_port(svc, port):
                    missing.append(f"service {name} port {port.get('number', port.get('name'))}")
            if missing:
                missing = sorted(set(missing))
                out.append((ref, finding(
                    FailureClass.INGRESS_BACKEND_MISSING, "; ".join(missing),
                    f"Ingress {ref.name} routes to what does not exist: {', '.join(missing)}",
                    facts=IngressFacts(missing=missing, existing_services=sorted(
                        n for ns, n in services if ns == ref.namespace))), []))
        cls = (ing.get("spec") or {}).get("ingressClassName")
        if cls and classes and cls not in classes:
            out.append((ref, finding(
                FailureClass.INGRESS_CLASS_MISSING, f"ingressClassName {cls}",
                f"Ingress {ref.name} names IngressClass {cls}, which does not exist "
                f"(classes: {', '.join(sorted(classes))})",
                facts=IngressFacts(ingress_classes=sorted(classes), ingress_class=cls)), []))
        elif not cls and classes and not default_class and not (
                (ing.get("metadata") or {}).get("annotations") or {}).get(LEGACY_CLASS):
            out.append((ref, finding(
                FailureClass.INGRESS_CLASS_MISSING, "no ingressClassName",
                f"Ingress {ref.name} names no IngressClass and none is the default: no "
                f"controller serves it (classes: {', '.join(sorted(classes))})",
                facts=IngressFacts(ingress_classes=sorted(classes), ingress_class="")), []))
        tls_names = {str(t.get("secretName")) for t in (ing.get("spec") or {}).get("tls") or []
                     if isinstance(t, dict) and t.get("secretName")}
        for ev in events.get(("Ingress", ref.namespace, ref.name), []):
            m = _SECRET_NOT_FOUND.search(str(ev.get("message") or ""))
            secret = m.group(1).rpartition("/")[2] if m else ""
            if secret and secret in tls_names:
                out.append((ref, finding(
                    FailureClass.INGRESS_TLS_SECRET_MISSING, f"tls secret {secret}",
                    f"Ingress {ref.name}: TLS secret {secret} not found (the controller's "
                    "event; the Secret itself is never read)",
                    facts=IngressFacts(secret_name=secret)), []))
                break
    return out
