"""The secrets corpus: each format as it appears in an input, with the part that must appear in
no output, and ordinary text that must come through untouched. tests/hostile/test_secrets.py
plants it in every input of real runs; tests/kernel/test_redact_prefilter.py redacts it (and
texts spliced from it) with and without the redactor's prefilter."""

from __future__ import annotations

PEM_BODY = "MIIEowIBAAKCAQEAx7Vt2q1k9ZrQpLmN3sT8uWvY0aBcDeFgHiJkLmNoPqRsTuVw"

#: (name, text as it appears in the input, the secret part that must not appear in any output)
SECRETS: list[tuple[str, str, str]] = [
    ("aws-secret-without-keyword", "loaded wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY for s3",
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("aws-access-key", "key id AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("stripe-sk-live", "charging with sk_live_51HxAbCdEfGhIjKlMnOpQrStUvWx0123456789zz",
     "51HxAbCdEfGhIjKlMnOpQrStUvWx0123456789zz"),
    ("stripe-rk-live", "restricted rk_live_51HxZyXwVuTsRqPoNmLkJiHgFe9876543210",
     "51HxZyXwVuTsRqPoNmLkJiHgFe9876543210"),
    ("mysql-p", "exec: mysql -uroot -pMyS3cretPw -h db shop", "MyS3cretPw"),
    ("google-api-key", "maps AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY ready",
     "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
    ("npm-token", "publishing with npm_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
     "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"),
    ("discord-webhook", "alerting https://discord.com/api/webhooks/1234567890123456789/"
     "Xy7_Zq9-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789aBcDeFgHiJkLmN done",
     "Xy7_Zq9-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789aBcDeFgHiJkLmN"),
    ("telegram-bot-token", "bot 987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1 started",
     "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"),
    ("github-token", "cloning with ghp_0123456789abcdefghijABCDEFGHIJ012345",
     "0123456789abcdefghijABCDEFGHIJ012345"),
    ("slack-bot-token", "slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
     "AbCdEfGhIjKlMnOpQrStUvWx"),
    ("jwt", "upstream answered eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYXJ0In0.c2lnbmF0dXJlLWNhcnQ",
     "eyJzdWIiOiJjYXJ0In0"),
    ("private-key", f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----",
     PEM_BODY),
    ("url-credentials", "connecting to postgres://app:Sup3rS3cretPw@db.shop:5432/app",
     "Sup3rS3cretPw"),
    ("password-keyword", "config: DB_PASSWORD=hunter2-prod-pw", "hunter2-prod-pw"),
    ("bearer-header", "Authorization: Bearer 7f3a9c2e1b4d6f8a0c2e4b6d8f0a1c3e",
     "7f3a9c2e1b4d6f8a0c2e4b6d8f0a1c3e"),
    ("sendgrid", "mail 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",
     "TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr"),
    ("gitlab-token", "token glpat-AbCdEfGhIjKlMnOpQrSt12", "AbCdEfGhIjKlMnOpQrSt12"),
    ("openai-key", "llm key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123456789",
     "AbCdEfGhIjKlMnOpQrStUvWx0123456789"),
    ("redis-cli", "probe: redis-cli -h redis -a R3disPassw0rd ping", "R3disPassw0rd"),
]
assert len(SECRETS[5][2]) == 35 and len(SECRETS[6][2]) == 36 and len(SECRETS[8][2]) == 35

#: what must come through untouched (a PR body is unreadable otherwise)
ORDINARY = [
    "pulling ghcr.io/acme/cart@sha256:"
    "5b161f051d017e55d358435f295f5e9a297e66158f136321d9b04520ec6c48a3",
    "synced revision a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
    "pod uid 6f1c2d3e-4a5b-46c7-8d9e-0f1a2b3c4d5e",
    "pod web-5d8f7c9b4-aaaaa of replicaset web-5d8f7c9b4 "
    "on ip-10-0-1-23.eu-west-1.compute.internal",
    "containerd://3f4e5d6c7b8a99887766554433221100ffeeddccbbaa99887766554433221100",
    '{"level":"info","traceId":"4bf92f3577b34da6a3ce929d0e0e4736","msg":"GET /api/carts 200"}',
    "at org.springframework.beans.factory.support.AbstractAutowireCapableBeanFactory"
    ".createBean(AbstractAutowireCapableBeanFactory.java:517)",
    "HikariPool-1 - Starting... HikariPool1ConnectionAdderThread2Worker",
    "calling camelCaseFunctionNameWithNumber2AndMore at /usr/lib/python3.11/site-packages/x.py",
    "token expired, refreshing; session cache warm-up: 18241/184312 carts, heap_used=39MiB",
    "max_tokens=4096 tokens: 1234 TOKEN_TTL=300 automountServiceAccountToken: false",
    "secretKeyRef: {name: web-db, key: url}",
    "secretName: db-credentials",
    "Error: couldn't find key db-password in Secret shop/db-credentials",
    "FATAL:  password authentication failed for user \"cart\"",
    "Remediator-Signature: c/shop/Deployment/web/OOMKilled/web/memory limit 128Mi",
    "received signal=SIGTERM; author=bob; GET https://10.96.0.1:443/api/v1/pods?limit=500",
]
