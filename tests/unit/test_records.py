import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from svc_conformance.dnsview.dnswire import Answer, Question
from svc_conformance.dnsview.records import Expectation, describe_answer, verify

WEB = "web.ns1.svc.cluster.local"
SOA = "ns.dns.cluster.local. hostmaster.cluster.local. 1700000000 7200 1800 86400 30"


def answer(name, rdtype, records=(), rcode="NOERROR", tc=False, tcp=False, owner=None, extra_rrsets=()):
    """An Answer as dnswire.parse_batch_output would return it, CoreDNS-style."""
    q = Question(name, rdtype, tcp=tcp, id=1234)
    msg = dns.message.make_response(dns.message.make_query(name, rdtype, id=1234, use_edns=False))
    msg.flags |= dns.flags.AA
    if tc:
        msg.flags |= dns.flags.TC
    msg.set_rcode(dns.rcode.from_text(rcode))
    if records:
        msg.answer.append(dns.rrset.from_text_list(owner or name + ".", 30, "IN", rdtype, list(records)))
    for rrset in extra_rrsets:
        msg.answer.append(rrset)
    if not msg.answer:
        msg.authority.append(dns.rrset.from_text("cluster.local.", 30, "IN", "SOA", SOA))
    return Answer(q, msg, None, tc, rcode)


def test_exact_ok_and_extra_fails():
    exp = Expectation(WEB, "A", frozenset({"10.96.120.15"}), "exact")
    v = verify(exp, answer(WEB, "A", ["10.96.120.15"]))
    assert v.ok, v.summary
    v = verify(exp, answer(WEB, "A", ["10.96.120.15", "10.244.0.5"]))
    assert not v.ok and "unexpected extra {10.244.0.5}" in v.summary


def test_contains_tolerates_extra_records():
    exp = Expectation(WEB, "A", {"10.96.120.15"}, "contains")
    v = verify(exp, answer(WEB, "A", ["10.96.120.15", "10.96.120.16"]))
    assert v.ok and "1 more" in v.summary


def test_missing_record_reports_what_was_seen():
    exp = Expectation("web-hl.ns1.svc.cluster.local", "A", {"10.244.0.5", "10.244.0.6"}, "exact")
    v = verify(exp, answer("web-hl.ns1.svc.cluster.local", "A", ["10.244.0.5"]))
    assert not v.ok
    assert v.summary == ("web-hl.ns1.svc.cluster.local. A: missing {10.244.0.6}; got {10.244.0.5}")


def test_exact_on_truncated_answer_is_never_complete():
    ips = [f"10.244.0.{i}" for i in range(2, 30)]
    exp = Expectation("big-hl.ns1.svc.cluster.local", "A", set(ips), "exact")
    # even when every expected record happens to be in the TC answer
    v = verify(exp, answer("big-hl.ns1.svc.cluster.local", "A", ips, tc=True))
    assert not v.ok and "truncated" in v.summary and "TCP" in v.summary
    v = verify(exp, answer("big-hl.ns1.svc.cluster.local", "A", ips[:10], tc=True))
    assert not v.ok and "missing" in v.summary and "ask over TCP" in v.summary
    assert "TRUNCATED" in v.observed and "TC" in v.observed
    # the same over TCP, complete: ok
    assert verify(exp, answer("big-hl.ns1.svc.cluster.local", "A", ips, tcp=True)).ok


def test_contains_on_truncated_answer_can_pass():
    exp = Expectation("big-hl.ns1.svc.cluster.local", "A", {"10.244.0.2"}, "contains")
    assert verify(exp, answer("big-hl.ns1.svc.cluster.local", "A", ["10.244.0.2", "10.244.0.3"], tc=True)).ok


def test_nxdomain_vs_nodata():
    nx = Expectation("web-hl.ns1.svc.cluster.local", "A", mode="nxdomain")
    absent = Expectation("web-hl.ns1.svc.cluster.local", "A", mode="absent")
    nxdomain = answer("web-hl.ns1.svc.cluster.local", "A", rcode="NXDOMAIN")
    nodata = answer("web-hl.ns1.svc.cluster.local", "A")
    assert verify(nx, nxdomain).ok
    v = verify(nx, nodata)
    assert not v.ok and v.summary.endswith("expected NXDOMAIN, got NOERROR with NODATA")
    v = verify(nx, answer("web-hl.ns1.svc.cluster.local", "A", ["10.244.0.5"]))
    assert not v.ok and "{10.244.0.5}" in v.summary
    assert verify(absent, nxdomain).ok and "NXDOMAIN" in verify(absent, nxdomain).summary
    assert verify(absent, nodata).ok and "NODATA" in verify(absent, nodata).summary


def test_absent_fails_when_present_and_is_inconclusive_on_tc():
    exp = Expectation("_http._tcp.plain.ns1.svc.cluster.local", "SRV", mode="absent")
    v = verify(exp, answer("_http._tcp.plain.ns1.svc.cluster.local", "SRV", ["0 100 80 plain.ns1.svc.cluster.local."]))
    assert not v.ok and "expected no record" in v.summary
    v = verify(exp, answer("_http._tcp.plain.ns1.svc.cluster.local", "SRV", tc=True))
    assert not v.ok and "ask over TCP" in v.summary
    assert verify(exp, answer("_http._tcp.plain.ns1.svc.cluster.local", "SRV", rcode="NXDOMAIN", tc=True)).ok


def test_server_errors_and_no_answer():
    exp = Expectation(WEB, "A", {"10.96.120.15"})
    v = verify(exp, answer(WEB, "A", rcode="SERVFAIL"))
    assert not v.ok and "SERVFAIL" in v.summary
    none = Answer(Question(WEB, "A", tcp=True, id=1), None, "no answer within the timeout", False, None)
    v = verify(exp, none)
    assert not v.ok and "over TCP: no answer within the timeout" in v.summary
    assert "no answer within the timeout" in v.observed
    # absence can never be concluded from silence
    assert not verify(Expectation(WEB, "A", mode="nxdomain"), none).ok
    assert not verify(Expectation(WEB, "A", mode="absent"), none).ok


def test_case_insensitive_names_and_normalised_values():
    exp = Expectation("Web.NS1.svc.cluster.local.", "aaaa", {"FD00:0096::000A"})
    # The name keeps the spelling it is asked with (DNS-02); matching ignores case.
    assert exp.rdtype == "AAAA" and exp.name == "Web.NS1.svc.cluster.local." and exp.values == {"fd00:96::a"}
    assert verify(exp, answer("WEB.NS1.SVC.CLUSTER.LOCAL", "AAAA", ["fd00:96::a"])).ok


def test_srv_and_ptr_and_cname_values():
    srv = Expectation(f"_http._tcp.{WEB}", "SRV", {"80 Web.ns1.svc.cluster.local"})
    assert verify(srv, answer(f"_http._tcp.{WEB}", "SRV", ["10 100 80 web.ns1.svc.cluster.local."])).ok
    v = verify(srv, answer(f"_http._tcp.{WEB}", "SRV", ["0 100 8080 web.ns1.svc.cluster.local."]))
    assert not v.ok and "missing {80 web.ns1.svc.cluster.local.}" in v.summary
    ptr = Expectation("15.120.96.10.in-addr.arpa", "PTR", {WEB})
    assert verify(ptr, answer("15.120.96.10.in-addr.arpa", "PTR", [WEB + "."])).ok


def test_cname_with_nxdomain_chain_end_still_proves_cname():
    # ext -> CNAME nowhere.invalid.; the target does not exist, so the rcode is NXDOMAIN
    exp = Expectation("ext.ns1.svc.cluster.local", "CNAME", {"nowhere.invalid"}, "exact")
    a = answer("ext.ns1.svc.cluster.local", "CNAME", ["nowhere.invalid."], rcode="NXDOMAIN")
    assert verify(exp, a).ok
    v = verify(exp, answer("ext.ns1.svc.cluster.local", "CNAME", rcode="NXDOMAIN"))
    assert not v.ok and "NXDOMAIN" in v.summary


def test_observed_text_shows_rcode_flags_and_records():
    a = answer(WEB, "A", ["10.96.120.15"])
    text = describe_answer(a)
    assert "rcode NOERROR" in text and "flags QR AA RD" in text
    assert "web.ns1.svc.cluster.local. 30 IN A 10.96.120.15" in text
    v = verify(Expectation(WEB, "A", {"10.96.120.16"}), a)
    assert v.expected == "web.ns1.svc.cluster.local. A: exactly {10.96.120.16}"
    assert v.observed == text


def test_expectation_validation():
    with pytest.raises(ValueError):
        Expectation(WEB, "A", mode="exact")
    with pytest.raises(ValueError):
        Expectation(WEB, "A", {"10.0.0.1"}, mode="nxdomain")
    with pytest.raises(ValueError):
        Expectation(WEB, "A", {"10.0.0.1"}, mode="some")
    with pytest.raises(ValueError):
        Expectation(WEB, "A", {"not-an-ip"})


# -- DNS-02: the spelling asked is kept apart from the key answers are matched with ---------------
def test_mixed_case_question_goes_on_the_wire_as_spelled():
    from svc_conformance.dnsview.dnswire import Question
    from svc_conformance.dnsview.records import mixed_case
    name = mixed_case("myapp.ns1.svc.cluster.local.")
    assert name == "MyApP.Ns1.SvC.ClUsTeR.LoCaL."
    exp = Expectation(name, "A", {"10.96.0.10"})
    assert exp.name == name                                   # not normalised to lower case
    wire = Question(exp.name, exp.rdtype).to_wire()
    assert b"\x05MyApP\x03Ns1\x03SvC" in wire                 # mixed case on the wire


def test_mixed_case_question_matches_a_lowercase_answer():
    import dns.message
    from svc_conformance.dnsview.dnswire import Answer, Question
    q = Question("MyApP.Ns1.SvC.ClUsTeR.LoCaL.", "A")
    msg = dns.message.from_text(
        "id 1\nopcode QUERY\nrcode NOERROR\nflags QR AA RD\n;QUESTION\nMyApP.Ns1.SvC.ClUsTeR.LoCaL. IN A\n"
        ";ANSWER\nmyapp.ns1.svc.cluster.local. 5 IN A 10.96.0.10\n")
    verdict = verify(Expectation(q.name, "A", {"10.96.0.10"}), Answer(q, msg, None, False, "NOERROR"))
    assert verdict.ok, verdict.summary
    assert "MyApP.Ns1.SvC" in verdict.expected
