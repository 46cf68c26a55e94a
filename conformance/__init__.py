"""svc-conformance: Kubernetes Service networking conformance checks (the pytest suite lives here)."""

from importlib import metadata

try:
    __version__ = metadata.version("svc-conformance")
except metadata.PackageNotFoundError:      # a checkout that was never installed
    __version__ = "0+unknown"
