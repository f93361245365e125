"""Service clients share one verifying TLS context per process (building one costs ~50 ms)."""

from __future__ import annotations

import ssl

import pytest

from skyform.http import ServiceClient, tls_context


def test_clients_share_one_context_that_still_verifies() -> None:
    """Two clients, one context; it checks certificates and host names as httpx's default does."""
    first = ServiceClient("https://a.example", provider="fake")
    second = ServiceClient("https://b.example", provider="fake")
    try:
        context = tls_context()
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert context.cert_store_stats()["x509_ca"] > 0  # the CA bundle is loaded
        assert first.http._transport._pool._ssl_context is context  # type: ignore[attr-defined]
        assert second.http._transport._pool._ssl_context is context  # type: ignore[attr-defined]
    finally:
        first.close()
        second.close()


def test_a_changed_ca_setting_gets_its_own_context(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """SSL_CERT_FILE is read as httpx reads it: a process that changes it gets a context of its own."""
    default = tls_context()
    bundle = tmp_path / "ca.pem"
    bundle.write_text(ssl.DER_cert_to_PEM_cert(default.get_ca_certs(binary_form=True)[0]))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    own = tls_context()
    assert own is not default and own.cert_store_stats()["x509_ca"] == 1
