"""A capability added beyond Docker's default set that reaches past the container.

High: those that amount to the host (ALL, SYS_ADMIN, SYS_MODULE, SYS_RAWIO, BPF, PERFMON, SYS_BOOT,
SYS_TIME, MAC_ADMIN/OVERRIDE; NET_ADMIN on the host's network). Medium: those bounded to the
container's own namespaces or files but still a grant beyond the defaults (NET_ADMIN on its own
network, SYS_PTRACE, DAC_READ_SEARCH, SYS_NICE, IPC_LOCK, SYSLOG, …)."""

from __future__ import annotations

from collections.abc import Iterator

from lab.rules import HIGH, MEDIUM, Context, Finding, Rule

RULE = Rule(
    "LAB010",
    "dangerous-capability",
    HIGH,
    "a capability beyond Docker's defaults (SYS_ADMIN, NET_ADMIN, SYS_MODULE, SYS_PTRACE, DAC_READ_SEARCH, ALL, …)",
    "drop it from `cap_add`; keep `cap_drop: [ALL]` and add back only what the process needs",
    ("compose-lint CL-0011, CL-0024, CL-0027, CL-0028, CL-0029, CL-0030", "CIS Docker Benchmark 5.3"),
)

_HIGH = {
    "ALL": "every capability: root on the host in all but name",
    "SYS_ADMIN": "mount, namespaces, most of what root can do",
    "SYS_MODULE": "loads kernel modules",
    "SYS_RAWIO": "raw I/O to host memory and devices",
    "BPF": "loads BPF programs into the host's kernel",
    "PERFMON": "observes every process on the host",
    "SYS_BOOT": "reboots the host",
    "SYS_TIME": "sets the host's clock",
    "MAC_ADMIN": "changes the host's MAC policy",
    "MAC_OVERRIDE": "overrides the host's MAC policy",
}
_MEDIUM = {
    "NET_ADMIN": "reconfigures the container's network (firewall, routes, interfaces)",
    "SYS_PTRACE": "traces processes it can see; weakens seccomp",
    "DAC_READ_SEARCH": "reads any file it can reach, whatever its permissions",
    "SYS_NICE": "can starve the host's processes",
    "IPC_LOCK": "can pin host memory",
    "SYSLOG": "reads the host's kernel log",
    "LEASE": "holds leases on files",
    "LINUX_IMMUTABLE": "changes immutable files",
    "SYS_RESOURCE": "lifts resource limits",
    "WAKE_ALARM": "wakes the host",
    "BLOCK_SUSPEND": "keeps the host from suspending",
    "AUDIT_CONTROL": "changes the host's audit rules",
}


def normal(cap: object) -> str:
    return str(cap).strip().upper().removeprefix("CAP_")


def check(ctx: Context) -> Iterator[Finding]:
    for name, svc in ctx.services():
        host_net = svc.get("network_mode") == "host"
        for cap in svc.get("cap_add") or []:
            cap_name = normal(cap)
            if cap_name in _HIGH:
                severity, why = HIGH, _HIGH[cap_name]
            elif cap_name == "NET_ADMIN" and host_net:
                severity, why = HIGH, "reconfigures the host's own network (network_mode: host), firewall included"
            elif cap_name in _MEDIUM:
                severity, why = MEDIUM, _MEDIUM[cap_name]
            else:
                continue
            yield Finding(
                RULE.id,
                severity,
                name,
                f"cap_add {cap_name}",
                "added",
                why,
                RULE.fix,
                anchor=("services", name, "cap_add"),
                item=cap,
            )
