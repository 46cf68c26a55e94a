"""The record of a cluster that `up` started: its options and the host baseline `down` restores."""

import json

from localcluster import paths


def load() -> dict | None:
    try:
        return json.loads(paths.CLUSTER_FILE.read_text())
    except (OSError, ValueError):
        return None


def save(doc: dict) -> None:
    paths.STATE.mkdir(parents=True, exist_ok=True)
    paths.CLUSTER_FILE.write_text(json.dumps(doc, indent=2) + "\n")
