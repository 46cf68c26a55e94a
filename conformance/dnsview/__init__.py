"""What DNS observes (wire questions and answers, expected vs observed records, a silent cluster DNS); imports only svc_conformance.core and .cluster."""
