import base64
import os
import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from svc_conformance.dnsview import dnswire
from svc_conformance.dnsview.dnswire import Question

DATA = Path(__file__).with_name("data")
ZONE = "cluster.local."
SOA = "ns.dns.cluster.local. hostmaster.cluster.local. 1700000000 7200 1800 86400 30"
BIG = [f"10.244.{i // 200}.{i % 200 + 2}" for i in range(60)]  # > 512 bytes of A records

RECORDS = {
    ("web.ns1.svc.cluster.local.", "A"): ["10.96.120.15"],
    ("web.ns1.svc.cluster.local.", "AAAA"): ["fd00:96::a"],
    ("_http._tcp.web.ns1.svc.cluster.local.", "SRV"): ["0 100 80 web.ns1.svc.cluster.local."],
    ("big-hl.ns1.svc.cluster.local.", "A"): BIG,
    ("a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.0.d.f.ip6.arpa.", "PTR"):
        ["web.ns1.svc.cluster.local."],
    ("15.120.96.10.in-addr.arpa.", "PTR"): ["web.ns1.svc.cluster.local."],
    ("dns-version.cluster.local.", "TXT"): ['"1.1.0"'],
}


# --- a small UDP+TCP DNS responder on loopback ----------------------------------------------

class Responder:
    """Answers like CoreDNS where the tests care: echoes the asked case, AA set, TTL 30,
    NXDOMAIN+SOA for unknown names, NODATA+SOA for known names of another type, SRV target
    addresses in Additional, UDP without EDNS capped at 512 bytes with TC set (keeping what
    fits), TCP connections left open after the reply."""

    def __init__(self, host, records=RECORDS, silent=()):
        self.records = {(n.lower(), t): v for (n, t), v in records.items()}
        self.names = {n for n, _ in self.records}
        self.silent = {s.lower() for s in silent}
        self.queries = []
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        for _ in range(50):  # UDP and TCP on the same port number, like port 53
            tcp = socket.socket(family, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((host, 0))
            port = tcp.getsockname()[1]
            udp = socket.socket(family, socket.SOCK_DGRAM)
            try:
                udp.bind((host, port))
                break
            except OSError:
                tcp.close()
                udp.close()
        else:
            raise OSError("no port free for both UDP and TCP")
        tcp.listen(16)
        tcp.settimeout(0.2)
        udp.settimeout(0.2)
        self.port, self.tcp, self.udp = port, tcp, udp
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._udp_loop, daemon=True),
                        threading.Thread(target=self._tcp_loop, daemon=True)]
        for t in self.threads:
            t.start()

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(2)
        self.tcp.close()
        self.udp.close()

    def answer(self, wire, tcp):
        query = dns.message.from_wire(wire)
        q = query.question[0]
        name, rdtype = q.name.to_text().lower(), dns.rdatatype.to_text(q.rdtype)
        self.queries.append((name, rdtype, tcp))
        if name in self.silent:
            return None
        resp = dns.message.make_response(query)
        resp.flags |= dns.flags.AA
        values = self.records.get((name, rdtype))
        if values:
            resp.answer.append(dns.rrset.from_text_list(q.name, 30, "IN", rdtype, values))
            if rdtype == "SRV":
                for v in values:
                    target = v.split()[-1].lower()
                    for t in ("A", "AAAA"):
                        if (target, t) in self.records:
                            resp.additional.append(
                                dns.rrset.from_text_list(target, 30, "IN", t, self.records[(target, t)]))
        else:
            if name not in self.names:
                resp.set_rcode(dns.rcode.NXDOMAIN)
            resp.authority.append(dns.rrset.from_text(ZONE, 30, "IN", "SOA", SOA))
        if tcp:
            return resp.to_wire()
        limit = query.payload if query.edns >= 0 else 512
        try:
            return resp.to_wire(max_size=limit)
        except dns.exception.TooBig:
            full = list(resp.answer[0])
            keep = []
            for rd in full:
                trial = dns.message.make_response(query)
                trial.answer.append(dns.rrset.from_rdata_list(q.name, 30, keep + [rd]))
                if len(trial.to_wire()) > limit:
                    break
                keep.append(rd)
            resp.answer = [dns.rrset.from_rdata_list(q.name, 30, keep)]
            resp.additional = []
            resp.flags |= dns.flags.TC
            return resp.to_wire()

    def _udp_loop(self):
        while not self.stop.is_set():
            try:
                data, peer = self.udp.recvfrom(65535)
            except OSError:
                continue
            reply = self.answer(data, tcp=False)
            if reply is not None:
                self.udp.sendto(reply, peer)

    def _tcp_loop(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                continue
            threading.Thread(target=self._tcp_conn, args=(conn,), daemon=True).start()

    def _tcp_conn(self, conn):
        conn.settimeout(5)
        buf = b""
        try:
            while not self.stop.is_set():
                chunk = conn.recv(65535)
                if not chunk:
                    return
                buf += chunk
                while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                    size = struct.unpack("!H", buf[:2])[0]
                    msg, buf = buf[2:2 + size], buf[2 + size:]
                    reply = self.answer(msg, tcp=True)
                    if reply is not None:
                        conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return
        finally:
            conn.close()


def reply_for(q: Question) -> bytes:
    """What the responder would put on the wire for q (TCP: framed)."""
    r = Responder.__new__(Responder)
    r.records = {(n.lower(), t): v for (n, t), v in RECORDS.items()}
    r.names = {n for n, _ in r.records}
    r.silent, r.queries = set(), []
    wire = q.to_wire()
    reply = r.answer(wire[2:] if q.tcp else wire, q.tcp)
    return struct.pack("!H", len(reply)) + reply if q.tcp else reply


def line(i, raw: bytes) -> str:
    return f"{i} {base64.b64encode(raw).decode()}"


# --- building queries ------------------------------------------------------------------------

def test_question_wire_udp_no_edns_rd_set():
    q = Question("web.ns1.svc.cluster.local", "A", id=4242)
    msg = dns.message.from_wire(q.to_wire())
    assert msg.id == 4242
    assert msg.flags & dns.flags.RD
    assert msg.edns == -1  # no OPT: large UDP answers must come back truncated at 512
    assert msg.question[0].name == dns.name.from_text("web.ns1.svc.cluster.local.")


def test_question_wire_tcp_has_length_prefix_and_edns_option():
    q = Question("web.ns1.svc.cluster.local.", "SRV", tcp=True, edns=True, id=7)
    wire = q.to_wire()
    (size,) = struct.unpack("!H", wire[:2])
    assert size == len(wire) - 2
    msg = dns.message.from_wire(wire[2:])
    assert msg.edns == 0 and msg.payload == 1232


def test_question_ids_are_random():
    ids = {Question("a.b", "A").id for _ in range(64)}
    assert len(ids) > 50


def test_bogus_type_rejected():
    with pytest.raises(dns.rdatatype.UnknownRdatatype):
        Question("a.b", "BOGUS")


def test_build_batch_command_shape():
    qs = [Question("web.ns1.svc.cluster.local", "A", id=1),
          Question("web.ns1.svc.cluster.local", "A", tcp=True, id=2)]
    argv = dnswire.build_batch_command(qs, "10.96.0.10", timeout_s=3)
    assert argv[:2] == ["/bin/sh", "-c"]
    script = argv[2]
    assert "R=10.96.0.10\n" in script
    assert "\"$NC\" -u -w 3" in script and "\"$NC\" -v -w 3" in script
    assert script.count("\nask ") == 2 and script.count(" &\nask ") == 1 and "&\nwait\n" in script  # concurrent
    assert 'kill "$P"' in script      # a UDP job stops nc once its one datagram is there
    assert "resolv.conf" not in script


def test_build_batch_command_reads_resolv_conf_when_no_resolver():
    script = dnswire.build_batch_command([Question("a.b", "A")], None)[2]
    assert "done < /etc/resolv.conf" in script and "nameserver" in script


def test_build_batch_command_ipv6_resolver_unbracketed_and_validated():
    script = dnswire.build_batch_command([Question("a.b", "A")], "[fd00:10:96::a]")[2]
    assert "R=fd00:10:96::a\n" in script
    with pytest.raises(ValueError):
        dnswire.build_batch_command([Question("a.b", "A")], "kube-dns; rm -rf /")
    with pytest.raises(ValueError):
        dnswire.build_batch_command([], "10.0.0.1")


# --- parsing ---------------------------------------------------------------------------------

# The questions of tests/unit/data/dnswire_batch_output.txt (ids as captured).
CAPTURED_QUESTIONS = [
    Question("web.ns1.svc.cluster.local", "A", id=51001),
    Question("WEB.NS1.Svc.Cluster.Local", "A", id=51002),
    Question("big-hl.ns1.svc.cluster.local", "A", id=51003),
    Question("big-hl.ns1.svc.cluster.local", "A", tcp=True, id=51004),
    Question("nope.ns1.svc.cluster.local", "A", id=51005),
    Question("web.ns1.svc.cluster.local", "MX", id=51006),
    Question("_http._tcp.web.ns1.svc.cluster.local", "SRV", tcp=True, id=51007),
    Question(dnswire.reverse_name("fd00:96::a"), "PTR", id=51008),
    Question("silent.ns1.svc.cluster.local", "A", id=51009),
    Question("dns-version.cluster.local", "TXT", tcp=True, id=51010),
]


def captured():
    return dnswire.parse_batch_output((DATA / "dnswire_batch_output.txt").read_text(), CAPTURED_QUESTIONS)


def test_captured_plain_a():
    a = captured()[0]
    assert a.ok and a.rcode == "NOERROR" and not a.truncated
    assert dnswire.rrset_values(a.message, "web.ns1.svc.cluster.local", "A") == {"10.96.120.15"}


def test_captured_case_insensitive_names():
    a = captured()[1]
    assert a.ok
    # owner name echoes the asked case; lookups in any case still match (DNS-02)
    assert dnswire.rrset_values(a.message, "web.ns1.svc.cluster.local.", "A") == {"10.96.120.15"}
    assert dnswire.rrset_values(a.message, "Web.Ns1.SVC.cluster.LOCAL", "A") == {"10.96.120.15"}


def test_captured_truncated_udp_then_complete_tcp():
    answers = captured()
    udp, tcp = answers[2], answers[3]
    assert udp.ok and udp.truncated
    assert 0 < len(dnswire.rrset_values(udp.message, "big-hl.ns1.svc.cluster.local", "A")) < 60
    assert tcp.ok and not tcp.truncated
    assert dnswire.rrset_values(tcp.message, "big-hl.ns1.svc.cluster.local", "A") == set(BIG)


def test_captured_nxdomain_vs_nodata():
    answers = captured()
    assert answers[4].rcode == "NXDOMAIN"
    assert answers[5].rcode == "NOERROR" and not answers[5].message.answer
    assert answers[5].message.authority  # SOA, as NODATA carries


def test_captured_srv_over_tcp_with_additional():
    a = captured()[6]
    assert a.ok
    name = "_http._tcp.web.ns1.svc.cluster.local"
    assert dnswire.rrset_values(a.message, name, "SRV") == {"80 web.ns1.svc.cluster.local."}
    assert dnswire.additional_values(a.message, "web.ns1.svc.cluster.local", "A") == {"10.96.120.15"}
    assert dnswire.additional_values(a.message, "web.ns1.svc.cluster.local", "AAAA") == {"fd00:96::a"}


def test_captured_ipv6_ptr():
    a = captured()[7]
    assert a.ok
    assert dnswire.rrset_values(a.message, dnswire.reverse_name("fd00:96::a"), "PTR") == {
        "web.ns1.svc.cluster.local."}


def test_captured_silent_and_txt():
    answers = captured()
    assert not answers[8].ok and answers[8].message is None
    assert answers[8].error == "no answer within the timeout"
    assert dnswire.rrset_values(answers[9].message, "DNS-VERSION.cluster.local", "TXT") == {"1.1.0"}


def test_parse_id_mismatch():
    q = Question("web.ns1.svc.cluster.local", "A", id=100)
    other = Question("web.ns1.svc.cluster.local", "A", id=101)
    a = dnswire.parse_batch_output(line(0, reply_for(other)), [q])[0]
    assert a.message is None and "id mismatch: sent 100, got 101" in a.error


def test_parse_tcp_multiple_frames_picks_matching_id():
    q = Question("web.ns1.svc.cluster.local", "A", tcp=True, id=300)
    stray = reply_for(Question("web.ns1.svc.cluster.local", "A", tcp=True, id=299))
    good = reply_for(q)
    a = dnswire.parse_batch_output(line(0, stray + good), [q])[0]
    assert a.ok and a.message.id == 300


def test_parse_tcp_incomplete_frame():
    q = Question("web.ns1.svc.cluster.local", "A", tcp=True, id=301)
    framed = reply_for(q)
    a = dnswire.parse_batch_output(line(0, framed[:-5]), [q])[0]
    assert a.message is None and "incomplete TCP frame" in a.error
    a = dnswire.parse_batch_output(line(0, framed[:1]), [q])[0]
    assert "length prefix" in a.error


def test_parse_udp_without_prefix_is_not_read_as_tcp():
    q = Question("web.ns1.svc.cluster.local", "A", id=302)
    a = dnswire.parse_batch_output(line(0, reply_for(q)), [q])[0]
    assert a.ok


def test_parse_udp_duplicate_datagrams():
    q = Question("web.ns1.svc.cluster.local", "A", id=303)
    r = reply_for(q)
    assert dnswire.parse_batch_output(line(0, r + r), [q])[0].ok


def test_parse_garbled_and_missing():
    qs = [Question("a.b", "A", id=1), Question("a.b", "A", id=2), Question("a.b", "A", id=3)]
    out = "0 !!notbase64!!\n1 " + base64.b64encode(b"\x00\x02garbage").decode() + "\nnoise line\n"
    a = dnswire.parse_batch_output(out, qs)
    assert a[0].error == "garbled base64 in output"
    assert a[1].error.startswith("id mismatch") or "garbled DNS message" in a[1].error
    assert a[2].error == "no output line for this question"


def test_parse_not_a_response_and_question_mismatch():
    q = Question("web.ns1.svc.cluster.local", "A", id=9)
    a = dnswire.parse_batch_output(line(0, q.to_wire()), [q])[0]  # the query echoed back
    assert a.error == "not a response (QR flag clear)"
    wrong = reply_for(Question("web.ns1.svc.cluster.local", "AAAA", id=9))
    a = dnswire.parse_batch_output(line(0, wrong), [q])[0]
    assert a.error.startswith("question mismatch")


def test_parse_batch_error_and_nc_stderr():
    q = Question("a.b", "A", id=1)
    a = dnswire.parse_batch_output("E no nameserver in /etc/resolv.conf\n", [q])[0]
    assert a.error == "batch failed: no nameserver in /etc/resolv.conf"
    err = base64.b64encode(b"nc: connect to 10.96.0.10 port 53 (tcp) failed: Connection refused\n").decode()
    a = dnswire.parse_batch_output(f"0 \ne 0 {err}\n", [q])[0]
    assert a.error == "no answer (nc: connect to 10.96.0.10 port 53 (tcp) failed: Connection refused)"


def test_reverse_names():
    assert dnswire.reverse_name("10.96.0.10") == "10.0.96.10.in-addr.arpa."
    assert dnswire.reverse_name("fd00:96::a") == (
        "a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.0.d.f.ip6.arpa.")
    assert dnswire.reverse_name("FD00:0096:0000::000A") == dnswire.reverse_name("fd00:96::a")


def test_rrset_values_normalisation():
    msg = dns.message.make_response(dns.message.make_query("X.example.", "A"))
    msg.answer.append(dns.rrset.from_text("x.example.", 5, "IN", "AAAA", "FD00:0096:0:0::000A"))
    msg.answer.append(dns.rrset.from_text("x.example.", 5, "IN", "CNAME", "Target.Example."))
    msg.answer.append(dns.rrset.from_text("x.example.", 5, "IN", "TXT", '"1." "1.0"'))
    msg.answer.append(dns.rrset.from_text("x.example.", 5, "IN", "SRV", "10 50 8080 Db-0.DB-HL.ns1.svc.cluster.local."))
    msg.answer.append(dns.rrset.from_text("y.example.", 5, "IN", "AAAA", "::1"))
    assert dnswire.rrset_values(msg, "x.example", "AAAA") == {"fd00:96::a"}
    assert dnswire.rrset_values(msg, "x.example", "CNAME") == {"target.example."}
    assert dnswire.rrset_values(msg, "x.example", "TXT") == {"1.1.0"}
    assert dnswire.rrset_values(msg, "X.EXAMPLE.", "SRV") == {"8080 db-0.db-hl.ns1.svc.cluster.local."}
    assert dnswire.rrset_values(msg, "x.example", "A") == set()
    assert dnswire.rrset_values(None, "x.example", "A") == set()


# --- the script for real, under /bin/sh and busybox sh, with nc -----------------------------

needs_nc = pytest.mark.skipif(shutil.which("nc") is None,
                              reason="nc (netcat-openbsd) not installed: apt-get install netcat-openbsd")


def run(argv, env=None):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env)


def live_questions():
    return [
        Question("web.ns1.svc.cluster.local", "A"),
        Question("WEB.NS1.svc.Cluster.Local", "A"),
        Question("big-hl.ns1.svc.cluster.local", "A"),
        Question("big-hl.ns1.svc.cluster.local", "A", tcp=True),
        Question("big-hl.ns1.svc.cluster.local", "A", edns=True),
        Question("nope.ns1.svc.cluster.local", "A", tcp=True),
        Question("web.ns1.svc.cluster.local", "MX"),
        Question("_http._tcp.web.ns1.svc.cluster.local", "SRV", tcp=True),
        Question(dnswire.reverse_name("10.96.120.15"), "PTR"),
        Question("silent.ns1.svc.cluster.local", "A"),
    ]


def check_live(answers):
    assert [a.rcode for a in answers[:9]] == ["NOERROR"] * 5 + ["NXDOMAIN", "NOERROR", "NOERROR", "NOERROR"]
    assert dnswire.rrset_values(answers[0].message, "web.ns1.svc.cluster.local", "A") == {"10.96.120.15"}
    assert dnswire.rrset_values(answers[1].message, "web.ns1.svc.cluster.local", "A") == {"10.96.120.15"}
    assert answers[2].truncated and not answers[3].truncated and not answers[4].truncated
    assert dnswire.rrset_values(answers[3].message, "big-hl.ns1.svc.cluster.local", "A") == set(BIG)
    assert dnswire.rrset_values(answers[4].message, "big-hl.ns1.svc.cluster.local", "A") == set(BIG)
    assert dnswire.rrset_values(answers[7].message, "_http._tcp.web.ns1.svc.cluster.local", "SRV") == {
        "80 web.ns1.svc.cluster.local."}
    assert dnswire.rrset_values(answers[8].message, "15.120.96.10.in-addr.arpa", "PTR") == {
        "web.ns1.svc.cluster.local."}
    assert answers[9].message is None and answers[9].error.startswith("no answer")


@needs_nc
def test_script_live_ipv4_concurrent():
    server = Responder("127.0.0.1", silent=["silent.ns1.svc.cluster.local."])
    try:
        qs = live_questions()
        argv = dnswire.build_batch_command(qs, "127.0.0.1", timeout_s=1, port=server.port)
        start = time.monotonic()
        proc = run(argv)
        elapsed = time.monotonic() - start
    finally:
        server.close()
    assert proc.returncode == 0, proc.stderr
    check_live(dnswire.parse_batch_output(proc.stdout, qs))
    # 10 questions, concurrent; TCP ones and the silent one wait out the 1 s idle timeout: ~1 s, not ~10 s
    assert elapsed < 4, f"batch took {elapsed:.1f}s: questions did not run concurrently"
    assert {(n, t, tcp) for n, t, tcp in server.queries} >= {
        ("big-hl.ns1.svc.cluster.local.", "A", False), ("big-hl.ns1.svc.cluster.local.", "A", True)}


@needs_nc
def test_script_live_ipv6_resolver():
    try:
        server = Responder("::1")
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    try:
        qs = [Question("web.ns1.svc.cluster.local", "AAAA"),
              Question("web.ns1.svc.cluster.local", "AAAA", tcp=True)]
        proc = run(dnswire.build_batch_command(qs, "::1", timeout_s=1, port=server.port))
    finally:
        server.close()
    answers = dnswire.parse_batch_output(proc.stdout, qs)
    for a in answers:
        assert a.ok, (a.error, proc.stdout, proc.stderr)
        assert dnswire.rrset_values(a.message, "web.ns1.svc.cluster.local", "AAAA") == {"fd00:96::a"}


@needs_nc
def test_script_live_resolver_from_resolv_conf(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text("# generated by kubelet\nsearch ns1.svc.cluster.local svc.cluster.local cluster.local\n"
                    "nameserver 127.0.0.1\nnameserver 10.0.0.99\noptions ndots:5\n")
    server = Responder("127.0.0.1")
    try:
        qs = [Question("web.ns1.svc.cluster.local", "A")]
        proc = run(dnswire.build_batch_command(qs, None, timeout_s=1, port=server.port, resolv_conf=str(conf)))
    finally:
        server.close()
    a = dnswire.parse_batch_output(proc.stdout, qs)[0]
    assert a.ok, (a.error, proc.stdout, proc.stderr)
    empty = tmp_path / "empty.conf"
    empty.write_text("search cluster.local\n")
    proc = run(dnswire.build_batch_command(qs, None, resolv_conf=str(empty)))
    assert proc.returncode == 98
    assert "no nameserver" in dnswire.parse_batch_output(proc.stdout, qs)[0].error


@needs_nc
def test_script_live_connection_refused_reports_nc_error():
    # a TCP port nobody listens on: nc's complaint must reach the Answer
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    qs = [Question("web.ns1.svc.cluster.local", "A", tcp=True)]
    proc = run(dnswire.build_batch_command(qs, "127.0.0.1", timeout_s=1, port=port))
    a = dnswire.parse_batch_output(proc.stdout, qs)[0]
    assert a.message is None and a.error.startswith("no answer (") and "refused" in a.error.lower()


@needs_nc
@pytest.mark.skipif(shutil.which("busybox") is None, reason="busybox not installed (apt-get install busybox-static)")
def test_script_live_under_busybox_like_alpine(tmp_path):
    # The agnhost image is alpine: busybox sh/base64/tr/head/cat/mktemp, netcat-openbsd nc.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    busybox = shutil.which("busybox")
    for applet in ("sh", "base64", "tr", "head", "cat", "mktemp", "rm", "printf", "["):
        os.symlink(busybox, bindir / applet)
    os.symlink(shutil.which("nc"), bindir / "nc")
    server = Responder("127.0.0.1")
    try:
        qs = live_questions()[:9]
        argv = dnswire.build_batch_command(qs, "127.0.0.1", timeout_s=1, port=server.port)
        proc = run([str(bindir / "sh"), "-c", argv[2]], env={"PATH": str(bindir)})
    finally:
        server.close()
    assert proc.returncode == 0, proc.stderr
    answers = dnswire.parse_batch_output(proc.stdout, qs)
    check_live(answers + [dnswire.Answer(Question("x", "A"), None, "no answer", False, None)])
