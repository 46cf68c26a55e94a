"""Expected vs observed DNS records, judged by the checklist's "Rules for every check".

- extra records fail only in mode "exact" (spec section 3 lets servers add records);
- "nxdomain" means rcode NXDOMAIN; "absent" means no record of that type at that name,
  NXDOMAIN and NOERROR/NODATA both count;
- a truncated (TC) answer is never complete: it can prove a record present, never that the
  set is exact nor that a record is absent. The verdict then says to ask over TCP.

The Verdict's texts are what a failing check shows (evidence "expected" / "observed").
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import dns.flags
import dns.name
import dns.rdatatype

from svc_conformance.dnsview.dnswire import Answer, rrset_values

MODES = ("exact", "contains", "absent", "nxdomain")
_NAME_TYPES = {"CNAME", "PTR", "NS", "DNAME"}


def _absolute(name: str) -> str:
    return dns.name.from_text(name).to_text().lower()


def mixed_case(name: str) -> str:
    """The name with alternating letter case (`MyApP.Ns1.SvC...`): what DNS-02 sends on the wire."""
    out, upper = [], True
    for ch in name:
        if ch == ".":
            upper = True
        if ch.isalpha():
            out.append(ch.upper() if upper else ch.lower())
            upper = not upper
        else:
            out.append(ch)
    return "".join(out)


def normalise_expected(rdtype: str, value: str) -> str:
    """Bring a hand-written expected value to dnswire.rrset_values' canonical form."""
    value = value.strip()
    if rdtype in ("A", "AAAA"):
        return str(ipaddress.ip_address(value))
    if rdtype in _NAME_TYPES:
        return _absolute(value)
    if rdtype == "SRV":  # "<port> <target>" (priority/weight not asserted)
        port, target = value.split()
        return f"{int(port)} {_absolute(target)}"
    return value


@dataclass(frozen=True)
class Expectation:
    # Absolute, spelled as it is asked on the wire (case kept: DNS-02); answers are matched
    # with dns.name equality, which ignores case.
    name: str
    rdtype: str
    values: frozenset = frozenset()
    mode: str = "exact"  # exact | contains | absent | nxdomain

    def __post_init__(self) -> None:
        rdtype = dns.rdatatype.to_text(dns.rdatatype.from_text(self.rdtype))
        object.__setattr__(self, "rdtype", rdtype)
        object.__setattr__(self, "name", dns.name.from_text(self.name).to_text())
        object.__setattr__(self, "values",
                           frozenset(normalise_expected(rdtype, v) for v in self.values))
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r} not in {MODES}")
        if self.mode in ("exact", "contains") and not self.values:
            raise ValueError(f"mode {self.mode} needs values (use mode 'absent' for none)")
        if self.mode in ("absent", "nxdomain") and self.values:
            raise ValueError(f"mode {self.mode} takes no values")

    def describe(self) -> str:
        what = f"{self.name} {self.rdtype}"
        if self.mode == "nxdomain":
            return f"{what}: rcode NXDOMAIN"
        if self.mode == "absent":
            return f"{what}: no {self.rdtype} record (NXDOMAIN or NOERROR/NODATA)"
        word = "exactly" if self.mode == "exact" else "at least"
        return f"{what}: {word} {_fmt_set(self.values)}"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    summary: str  # one line, says why
    expected: str
    observed: str


def _fmt_set(values) -> str:
    return "{" + ", ".join(sorted(values)) + "}" if values else "{}"


def _flags(message) -> str:
    return dns.flags.to_text(message.flags) or "-"


def describe_answer(answer: Answer) -> str:
    """Observed text: transport, id, rcode, flags and every record of the message."""
    q = answer.question
    head = f"{q.name} {q.rdtype} over {q.transport}"
    if answer.message is None:
        return f"{head}: {answer.error or 'no answer'}"
    m = answer.message
    lines = [f"{head}: id {m.id}, rcode {answer.rcode}, flags {_flags(m)}"
             + (" (TRUNCATED: incomplete answer)" if answer.truncated else "")]
    for title, section in (("ANSWER", m.answer), ("AUTHORITY", m.authority), ("ADDITIONAL", m.additional)):
        lines.append(f";; {title} ({sum(len(r) for r in section)})")
        lines.extend(rrset.to_text() for rrset in section)
    if answer.error:
        lines.append(f";; problem: {answer.error}")
    return "\n".join(lines)


def verify(expectation: Expectation, answer: Answer) -> Verdict:
    """Judge one answer against one expectation."""
    exp = expectation
    expected = exp.describe()
    observed = describe_answer(answer)

    def verdict(ok: bool, summary: str) -> Verdict:
        return Verdict(ok, summary, expected, observed)

    if answer.message is None or answer.error:
        return verdict(False, f"no usable answer for {exp.name} {exp.rdtype} "
                              f"over {answer.question.transport}: {answer.error or 'no answer'}")
    rcode = answer.rcode
    got = rrset_values(answer.message, exp.name, exp.rdtype)
    tc_hint = "answer truncated (TC) over UDP; ask over TCP"

    if rcode not in ("NOERROR", "NXDOMAIN"):
        return verdict(False, f"{exp.name} {exp.rdtype}: server answered {rcode}")

    if exp.mode == "nxdomain":
        if rcode == "NXDOMAIN":
            return verdict(True, f"{exp.name}: NXDOMAIN as expected")
        detail = f"{len(got)} {exp.rdtype} record(s) {_fmt_set(got)}" if got else "NODATA"
        return verdict(False, f"{exp.name}: expected NXDOMAIN, got NOERROR with {detail}")

    if exp.mode == "absent":
        if got:
            return verdict(False, f"{exp.name} {exp.rdtype}: expected no record, found {_fmt_set(got)}")
        if answer.truncated and rcode != "NXDOMAIN":  # NXDOMAIN is conclusive even when TC
            return verdict(False, f"{exp.name} {exp.rdtype}: cannot judge absence, {tc_hint}")
        how = "NXDOMAIN" if rcode == "NXDOMAIN" else "NOERROR/NODATA"
        return verdict(True, f"{exp.name} {exp.rdtype}: absent ({how})")

    # exact / contains. NXDOMAIN with the name's own records present is a CNAME chain whose
    # end does not exist (RFC 6604): the records at this name still count.
    missing = exp.values - got
    extra = got - exp.values
    if rcode == "NXDOMAIN" and not got:
        return verdict(False, f"{exp.name} {exp.rdtype}: NXDOMAIN, expected {_fmt_set(exp.values)}")
    if missing:
        summary = f"{exp.name} {exp.rdtype}: missing {_fmt_set(missing)}"
        if got:
            summary += f"; got {_fmt_set(got)}"
        else:
            summary += "; got no such record (NODATA)" if rcode == "NOERROR" else ""
        if answer.truncated:
            summary += f"; {tc_hint}"
        return verdict(False, summary)
    if exp.mode == "exact":
        if answer.truncated:
            return verdict(False, f"{exp.name} {exp.rdtype}: cannot judge an exact set, {tc_hint}")
        if extra:
            return verdict(False, f"{exp.name} {exp.rdtype}: unexpected extra {_fmt_set(extra)}")
        return verdict(True, f"{exp.name} {exp.rdtype}: exactly {_fmt_set(got)}")
    return verdict(True, f"{exp.name} {exp.rdtype}: has {_fmt_set(exp.values)}"
                         + (f" (and {len(extra)} more)" if extra else ""))
