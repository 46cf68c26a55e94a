"""DNS questions asked from inside a client pod, as raw wire bytes.

The suite must see what the pod's resolver really answers (spec rules: "from inside a pod's
network namespace, through the resolver the pod is configured with, over UDP and TCP, parsed as
records"). The client image has no DNS library we can rely on, only `sh`, `base64`, `nc`
(netcat-openbsd), `cat`, `tr`, `head`, `mktemp`. So the query bytes are built here, sent by a
shell script run through `kubectl exec`-style execution, and the answer bytes come back base64
encoded on stdout and are parsed here with dnspython.

Output contract of the script (one batch, questions run concurrently):
    <index> <base64 of the raw bytes nc received, possibly empty>   one line per question
    e <index> <base64 of nc's stderr>                               only when nc wrote to stderr
    E <text>                                                        the whole batch failed
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import secrets
import shlex
import struct
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from svc_conformance.cluster import probe
from svc_conformance.core import phases

DNS_PORT = 53
UDP_EDNS_PAYLOAD = 1232  # only used when a Question asks for EDNS


def _random_id() -> int:
    return secrets.randbelow(65536)


@dataclass(frozen=True)
class Question:
    """One DNS question. `name` is always taken as absolute (no search list)."""

    name: str
    rdtype: str
    tcp: bool = False
    # No EDNS by default: over UDP the answer is then capped at 512 bytes, so large answers
    # come back truncated (TC) and the suite can see it instead of a silently bigger answer.
    edns: bool = False
    # Random per question; the parser rejects an answer whose id differs.
    id: int = field(default_factory=_random_id)

    def __post_init__(self) -> None:
        if not 0 <= self.id <= 0xFFFF:
            raise ValueError(f"DNS id out of range: {self.id}")
        dns.rdatatype.from_text(self.rdtype)  # fail early on a bogus type

    @property
    def qname(self) -> dns.name.Name:
        return dns.name.from_text(self.name)

    @property
    def transport(self) -> str:
        return "TCP" if self.tcp else "UDP"

    def to_wire(self) -> bytes:
        """The query message; TCP gets its 2-byte length prefix here (hard to do in sh)."""
        msg = dns.message.make_query(
            self.qname, self.rdtype, id=self.id,
            use_edns=0 if self.edns else False,
            payload=UDP_EDNS_PAYLOAD if self.edns else None)
        wire = msg.to_wire()
        return struct.pack("!H", len(wire)) + wire if self.tcp else wire

    def __str__(self) -> str:
        return f"{self.name} {self.rdtype.upper()} over {self.transport}"


@dataclass
class Answer:
    question: Question
    message: dns.message.Message | None
    error: str | None  # why there is no usable message (no answer, bad id, garbled ...)
    truncated: bool  # TC flag set: never a complete answer
    rcode: str | None  # "NOERROR", "NXDOMAIN", ...; None when there is no message
    raw: bytes = b""  # bytes as received (TCP: with length prefixes), for evidence

    @property
    def ok(self) -> bool:
        return self.message is not None and self.error is None


def _resolver_literal(resolver: str) -> str:
    """Validated IP literal for nc (no brackets: nc takes bare IPv6 addresses)."""
    text = resolver.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    addr, _, zone = text.partition("%")
    ipaddress.ip_address(addr)  # ValueError for names or junk: the resolver must be an IP
    return text if not zone else f"{addr}%{zone}"


def _template(scratch_dir: str | None) -> str:
    """mktemp's argument: an absolute template, used as given ($TMPDIR cannot move it elsewhere)."""
    return "" if scratch_dir is None else " " + shlex.quote(scratch_dir.rstrip("/") + "/dns.XXXXXX")


def build_batch_command(questions, resolver: str | None, timeout_s: int = 2, *,
                        port: int = DNS_PORT, resolv_conf: str = "/etc/resolv.conf",
                        scratch_dir: str | None = None) -> list[str]:
    """argv running all `questions` concurrently inside the pod; costs at most about one `timeout_s`.

    resolver None: use the first `nameserver` of the pod's resolv.conf (what the pod uses).
    nc's -w is an idle timeout (`timeout_s` after the last byte): it stays the limit when no reply, or
    no whole one, comes. A job stops nc as soon as the whole reply is there (polled every 20 ms): for
    UDP one datagram (nc writes it in one write), for TCP one length-prefixed message - instead of
    always waiting out the idle timeout.
    scratch_dir: the writable directory of its scratch files (the client pod's emptyDir: its root
    filesystem may be read-only); None: mktemp's default ($TMPDIR or /tmp).
    """
    questions = list(questions)
    if not questions:
        raise ValueError("no questions")
    if int(timeout_s) < 1:
        raise ValueError("timeout_s must be >= 1 (nc -w takes whole seconds)")
    lines = ["#!/bin/sh"]
    if resolver is None:
        # Pure sh: the image may lack awk/grep. First nameserver line wins, as in libc.
        lines += [
            "R=",
            "while read -r k v _; do",
            '  if [ "$k" = nameserver ]; then R=$v; break; fi',
            f"done < {shlex.quote(resolv_conf)}",
            f'[ -n "$R" ] || {{ echo {shlex.quote("E no nameserver in " + resolv_conf)}; exit 98; }}',
        ]
    else:
        lines.append(f"R={shlex.quote(_resolver_literal(resolver))}")
    lines += [
        # Absolute path of the first nc on PATH: a busybox sh built with "prefer applets" would
        # otherwise run its own nc applet, which may lack -u.
        "NC=",
        "OLDIFS=$IFS; IFS=:",
        'for d in $PATH /usr/bin /bin; do if [ -x "$d/nc" ]; then NC=$d/nc; break; fi; done',
        "IFS=$OLDIFS",
        '[ -n "$NC" ] || { echo "E nc not found on PATH"; exit 96; }',
        f'T=$(mktemp -d{_template(scratch_dir)}) || {{ echo "E mktemp -d failed"; exit 97; }}',
        "answered() {  # u|t, file: 0 once the file holds the whole reply",
        '  [ -s "$2" ] || return 1',
        '  [ "$1" = u ] && return 0',
        '  set -- $(od -An -tu1 -N2 "$2" 2>/dev/null) "$2"',
        '  [ $# -eq 3 ] && [ "$(wc -c <"$3")" -ge $(( $1 * 256 + $2 + 2 )) ]',
        "}",
        "ask() {  # index, u|t, query bytes in base64 -> $T/index (answer in base64)",
        '  if [ "$2" = u ]; then',
        f'    printf %s "$3" | base64 -d | "$NC" -u -w {int(timeout_s)} "$R" {int(port)} >"$T/$1.raw" 2>"$T/$1.err" &',
        "  else  # -v: nc says why a TCP connect failed (no -v for UDP: it would send probe bytes)",
        f'    printf %s "$3" | base64 -d | "$NC" -v -w {int(timeout_s)} "$R" {int(port)} >"$T/$1.raw" 2>"$T/$1.err" &',
        "  fi",
        "  P=$!",
        '  while kill -0 "$P" 2>/dev/null && ! answered "$2" "$T/$1.raw"; do sleep 0.02 2>/dev/null || sleep 1; done',
        '  kill "$P" 2>/dev/null; wait "$P" 2>/dev/null',
        '  base64 <"$T/$1.raw" | tr -d "\\n" >"$T/$1"',
        "}",
    ]
    for i, q in enumerate(questions):
        b64 = base64.b64encode(q.to_wire()).decode()
        lines.append(f"ask {i} {'t' if q.tcp else 'u'} {b64} &")
    lines += [
        "wait",
        f"for i in {' '.join(str(i) for i in range(len(questions)))}; do",
        '  printf "%s %s\\n" "$i" "$(cat "$T/$i" 2>/dev/null)"',
        '  if [ -s "$T/$i.err" ]; then',
        '    printf "e %s %s\\n" "$i" "$(head -c 300 "$T/$i.err" | base64 | tr -d "\\n")"',
        "  fi",
        "done",
        'rm -rf "$T"',
    ]
    return ["/bin/sh", "-c", "\n".join(lines) + "\n"]


def _tcp_frames(data: bytes) -> tuple[list[bytes], str | None]:
    """Split a TCP stream into DNS messages; second item describes a cut-off tail."""
    frames, pos = [], 0
    while pos < len(data):
        if len(data) - pos < 2:
            return frames, "TCP stream ends inside a length prefix"
        (size,) = struct.unpack_from("!H", data, pos)
        if len(data) - pos - 2 < size:
            return frames, f"incomplete TCP frame: {len(data) - pos - 2} of {size} bytes"
        frames.append(data[pos + 2:pos + 2 + size])
        pos += 2 + size
    return frames, None


def _parse_one(question: Question, raw: bytes) -> Answer:
    def fail(msg: str) -> Answer:
        return Answer(question, None, msg, False, None, raw)

    if not raw:
        return fail("no answer")
    if question.tcp:
        frames, tail_problem = _tcp_frames(raw)
        if not frames:
            return fail(tail_problem or "no answer")
    else:
        # nc -u concatenates datagrams; a duplicate reply would follow the first one.
        frames, tail_problem = [raw], None
    messages, problems = [], []
    for frame in frames:
        try:
            messages.append(dns.message.from_wire(frame, ignore_trailing=not question.tcp))
        except (dns.exception.DNSException, ValueError, IndexError) as exc:
            problems.append(f"garbled DNS message ({type(exc).__name__}: {exc})")
    matching = [m for m in messages if m.id == question.id]
    if not matching:
        if messages:
            ids = ", ".join(str(m.id) for m in messages)
            return fail(f"id mismatch: sent {question.id}, got {ids}")
        return fail("; ".join(problems + ([tail_problem] if tail_problem else [])))
    msg = matching[0]
    if not msg.flags & dns.flags.QR:
        return fail("not a response (QR flag clear)")
    if msg.question:
        q = msg.question[0]
        if q.name != question.qname or q.rdtype != dns.rdatatype.from_text(question.rdtype):
            return fail(f"question mismatch: asked {question.name} {question.rdtype}, "
                        f"answer is for {q.name} {dns.rdatatype.to_text(q.rdtype)}")
    return Answer(question, msg, None, bool(msg.flags & dns.flags.TC),
                  dns.rcode.to_text(msg.rcode()), raw)


def parse_batch_output(stdout: str, questions) -> list[Answer]:
    """One Answer per question, in order, from the stdout of build_batch_command's script."""
    questions = list(questions)
    raw_b64: dict[int, str] = {}
    stderr: dict[int, str] = {}
    batch_error = None
    for line in stdout.splitlines():
        parts = line.strip().split(" ")
        if parts[0] == "E":
            batch_error = line.strip()[2:]
        elif parts[0] == "e" and len(parts) == 3 and parts[1].isdigit():
            try:
                stderr[int(parts[1])] = base64.b64decode(parts[2]).decode("utf-8", "replace").strip()
            except (binascii.Error, ValueError):
                stderr[int(parts[1])] = "(garbled stderr)"
        elif parts[0].isdigit() and len(parts) <= 2:
            raw_b64[int(parts[0])] = parts[1] if len(parts) == 2 else ""
        # anything else (shell noise) is ignored
    answers = []
    for i, q in enumerate(questions):
        if i not in raw_b64:
            why = f"batch failed: {batch_error}" if batch_error else "no output line for this question"
            answers.append(Answer(q, None, why, False, None))
            continue
        try:
            raw = base64.b64decode(raw_b64[i], validate=True)
        except (binascii.Error, ValueError):
            answers.append(Answer(q, None, "garbled base64 in output", False, None))
            continue
        answer = _parse_one(q, raw)
        if answer.error == "no answer":
            answer.error = (f"no answer ({stderr[i]})" if i in stderr
                            else "no answer within the timeout")
        answers.append(answer)
    return answers


def ask(client: probe.ClientPod, questions: list[Question]) -> list[Answer]:
    """Send every question through the client pod's configured resolver, all at once."""
    with phases.phase("dns-batch"):
        out = client.run(build_batch_command(questions, None, probe.DNS_TIMEOUT_S,
                                             scratch_dir=probe.SCRATCH_DIR), timeout_s=30)
    return parse_batch_output(out, questions)


# --- reading records out of a message -------------------------------------------------------

_NAME_TARGET_TYPES = {dns.rdatatype.CNAME, dns.rdatatype.PTR, dns.rdatatype.NS, dns.rdatatype.DNAME}


def normalise_value(rdata) -> str:
    """Canonical text of one record's data, as the suite compares it."""
    rdtype = rdata.rdtype
    if rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        return str(ipaddress.ip_address(rdata.address))
    if rdtype in _NAME_TARGET_TYPES:
        return rdata.target.to_text().lower()
    if rdtype == dns.rdatatype.SRV:  # priority/weight are not asserted by the spec
        return f"{rdata.port} {rdata.target.to_text().lower()}"
    if rdtype == dns.rdatatype.TXT:
        return "".join(s.decode("utf-8", "backslashreplace") for s in rdata.strings)
    return rdata.to_text()


def _section_values(section, name, rdtype) -> set[str]:
    qname = dns.name.from_text(name) if isinstance(name, str) else name
    qtype = dns.rdatatype.from_text(rdtype) if isinstance(rdtype, str) else rdtype
    values: set[str] = set()
    for rrset in section:
        # dns.name.Name equality ignores case (DNS-02).
        if rrset.name == qname and rrset.rdtype == qtype and rrset.rdclass == dns.rdataclass.IN:
            values.update(normalise_value(rd) for rd in rrset)
    return values


def rrset_values(message: dns.message.Message | None, name, rdtype) -> set[str]:
    """Normalised values of the Answer-section records at `name` of type `rdtype`."""
    return set() if message is None else _section_values(message.answer, name, rdtype)


def additional_values(message: dns.message.Message | None, name, rdtype) -> set[str]:
    """Same as rrset_values, for the Additional section (DNS-07)."""
    return set() if message is None else _section_values(message.additional, name, rdtype)


def reverse_name(ip: str) -> str:
    """PTR owner name of an address: dotted in-addr.arpa, nibble-form ip6.arpa; absolute."""
    return ipaddress.ip_address(ip.strip("[]")).reverse_pointer + "."
