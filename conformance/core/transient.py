"""API trouble that says nothing about the cluster's Service networking: the API server restarting,
API Priority and Fairness throttling the suite (429), a 5xx, a reset connection, a stalled request.

Such an error inside a wait is one more attempt to make, not an observation (conformance/core/waits.py);
when it lasts past the deadline the check *could not run* (errored -> the run is incomplete), never
failed. The client itself retries idempotent requests with backoff first (conformance/cluster/kube.py)."""

import http.client
import re

import urllib3

# 408 timeout, 429 throttled (APF), 5xx: the API server or something in front of it is unwell.
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# An exec's websocket upgrade that failed reaches us as ApiException(status=0, reason=<the error>).
_HANDSHAKE_STATUS = re.compile(r"Handshake status (\d{3})")


def is_transient(err: BaseException) -> bool:
    from kubernetes.client.rest import ApiException
    if isinstance(err, ApiException):
        if err.status in TRANSIENT_STATUS:
            return True
        if err.status == 0:         # websocket (exec) call: transient unless the server answered 4xx
            m = _HANDSHAKE_STATUS.search(str(err.reason or ""))
            return m is None or int(m.group(1)) in TRANSIENT_STATUS
        return False
    return isinstance(err, (urllib3.exceptions.HTTPError, http.client.HTTPException, ConnectionError,
                            TimeoutError)) or _is_websocket_error(err)


def _is_websocket_error(err: BaseException) -> bool:
    try:
        import websocket
    except ImportError:         # the client always brings websocket-client; be safe anyway
        return False
    bad_status = getattr(websocket, "WebSocketBadStatusException", ())
    if bad_status and isinstance(err, bad_status):
        return getattr(err, "status_code", 0) in TRANSIENT_STATUS
    return isinstance(err, websocket.WebSocketException)


def describe(err: BaseException) -> str:
    """One line: the status and the server's reason, or the connection error."""
    from kubernetes.client.rest import ApiException
    if isinstance(err, ApiException):
        text = f"{err.status} {err.reason}" if err.status else str(err.reason)
    else:
        cause = getattr(err, "reason", None) or err
        text = f"{type(err).__name__}: {cause}"
    return " ".join(text.split())[:300]
