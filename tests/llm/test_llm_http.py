"""The transports under the OpenAI-compatible backend: proxies from the environment, raw replies."""

from __future__ import annotations

import asyncio

import pytest

from trait.llm.http import Unreachable, env_proxy, make_transport
from trait.testing.openai_server import Behaviour, OpenAIServer, reply_text


def test_proxy_comes_from_the_environment_and_no_proxy_is_honoured(monkeypatch):
    for var in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
                "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    assert env_proxy("https://api.openai.com/v1/chat/completions") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "llm.internal")
    assert env_proxy("https://api.openai.com/v1/chat/completions") == "http://proxy.internal:3128"
    assert env_proxy("https://llm.internal/v1/chat/completions") is None
    assert env_proxy("http://10.0.0.5:8000/v1/chat/completions") is None  # no HTTP_PROXY set


@pytest.mark.parametrize("kind", ["aiohttp", "openai"])
def test_both_transports_return_the_same_raw_replies(kind):
    payload = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 8}

    async def post(url: str, key: str):
        t = make_transport(kind, url, key, 4)
        try:
            return await t.post(payload)
        finally:
            await t.close()

    async def talk(url: str) -> tuple[int, bytes, int, str]:
        ok, bad = await post(url, "sk-right"), await post(url, "sk-wrong")
        return ok.status, ok.body, bad.status, bad.body.decode()

    with OpenAIServer(Behaviour(api_key="sk-right")) as srv:
        status, body, bad_status, bad_body = asyncio.run(talk(srv.url))
    assert status == 200 and reply_text(payload).encode() in body
    assert bad_status == 401 and "sk-right" not in bad_body


@pytest.mark.parametrize("kind", ["aiohttp", "openai"])
def test_a_closed_port_is_unreachable_not_a_timeout(kind):
    with OpenAIServer() as srv:
        url = srv.url
    # the server is stopped: its port now refuses connections

    async def talk() -> None:
        t = make_transport(kind, url, "k", 1)
        try:
            await t.post({"model": "m", "messages": []})
        finally:
            await t.close()

    with pytest.raises(Unreachable, match="Connect call failed"):
        asyncio.run(talk())


def _self_signed(tmp_path):
    """A certificate for 127.0.0.1 signed by nobody a default trust store knows."""
    import datetime
    import ipaddress

    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trait test server")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_trusts_ssl_cert_file_and_refuses_an_unknown_certificate(tmp_path, monkeypatch):
    import ssl

    cert, key = _self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    payload = {"model": "m", "messages": [{"role": "user", "content": "over tls"}]}

    async def post(url: str):
        t = make_transport("aiohttp", url, "k", 1)
        try:
            return await t.post(payload)
        finally:
            await t.close()

    with OpenAIServer(ssl_context=server_ctx) as srv:
        assert srv.url.startswith("https://")
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        with pytest.raises(Unreachable, match="certificate verify failed"):
            asyncio.run(post(srv.url))  # certifi's bundle does not know this certificate
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # a corporate CA, say
        reply = asyncio.run(post(srv.url))
    assert reply.status == 200 and reply_text(payload).encode() in reply.body
