"""The scenarios' manifests (`<scenario>.yaml`), installed as package data `svc_conformance.manifest_data`."""
