"""Minimal HTTPS access to the API server with the admin client certificate (no client library needed)."""

import json
import ssl
import urllib.error
import urllib.request

from localcluster import paths


def _context() -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(paths.PKI / "ca.crt"))
    ctx.load_cert_chain(str(paths.PKI / "admin.crt"), str(paths.PKI / "admin.key"))
    return ctx


def get(base_url: str, path: str, timeout: float = 5.0) -> tuple[int, str]:
    """Return (status, body); status 0 when the server could not be reached."""
    try:
        with urllib.request.urlopen(base_url + path, context=_context(), timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")
    except (OSError, ssl.SSLError) as err:
        return 0, str(err)


def get_json(base_url: str, path: str) -> dict | None:
    status, body = get(base_url, path)
    return json.loads(body) if status == 200 else None


def node_ready(base_url: str, node: str) -> bool:
    doc = get_json(base_url, f"/api/v1/nodes/{node}")
    conditions = (doc or {}).get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
