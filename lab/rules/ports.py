"""Facts about one effective port entry, shared by the port rules and the fixer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def label(port: dict[str, Any]) -> str:
    """`tcp/8080->80`; a random host port is `tcp/?->80`."""
    return f"{port.get('protocol', 'tcp')}/{port.get('published') or '?'}->{port.get('target')}"


def summary(port: dict[str, Any]) -> dict[str, Any]:
    """The `port` object of a JSON finding."""
    return {
        "published": port.get("published") or None,
        "target": port.get("target"),
        "protocol": port.get("protocol", "tcp"),
        "host_ip": port.get("host_ip") or None,
    }


def raw_host(raw: Any) -> str | None:
    """The host part as the user wrote it: `${BIND:-0.0.0.0}` from "${BIND:-0.0.0.0}:81:81", or a long
    syntax's `host_ip`; None where there is none."""
    if isinstance(raw, dict):
        host = raw.get("host_ip")
        return str(host) if host is not None else None
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if text.startswith("["):  # "[::1]:8080:80"
        return text[1 : text.index("]")] if "]" in text else None
    parts = _split(text)
    return parts[0] if len(parts) == 3 else None


def _split(text: str) -> list[str]:
    """Split "host:published:target" on the colons outside `${…}`."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "{" and cur.endswith("$"):
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        if ch == ":" and not depth:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [*parts, cur]


def raw_parts(raw: Any) -> tuple[str | None, str | None, str, str] | None:
    """(host, published, target, protocol) as written, for a short or long entry; None if unreadable."""
    if isinstance(raw, dict):
        target = raw.get("target")
        if target is None:
            return None
        pub = raw.get("published")
        return raw_host(raw), None if pub is None else str(pub), str(target), str(raw.get("protocol") or "tcp")
    if isinstance(raw, int):
        return None, None, str(raw), "tcp"
    if not isinstance(raw, str):
        return None
    text, proto = raw.strip(), "tcp"
    if "/" in text.rsplit(":", 1)[-1]:
        text, proto = text.rsplit("/", 1)
    host = raw_host(text)
    if text.startswith("[") and "]" in text:
        text = text[text.index("]") + 2 :]
        parts = _split(text)
    else:
        parts = _split(text)
        if len(parts) == 3:
            parts = parts[1:]
    if len(parts) == 1:
        return host, None, parts[0], proto
    return host, parts[0], parts[-1], proto


def entries(ctx: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(service, effective port) for every long-form port (compose config always gives that form)."""
    for name, svc in ctx.services():
        for port in svc.get("ports") or []:
            if isinstance(port, dict):
                yield name, port


def finding(rule: Any, name: str, port: dict[str, Any], value: str, detail: str, severity: Any = None) -> Any:
    """A port rule's finding, placed at the port it judged; no severity means a safe row."""
    from lab.rules import Finding

    return Finding(
        rule.id,
        severity,
        name,
        label(port),
        value,
        detail,
        rule.fix if severity else "",
        port=summary(port),
        anchor=("services", name, "ports"),
        item=port,
    )
