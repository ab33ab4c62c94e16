"""Signing keys: a configured secret, or (when it is empty) one derived from the secrets the shop already set
(the Telegram webhook secret and the Twilio auth token), a different one for each purpose. Never logged."""

from __future__ import annotations

import hashlib
import hmac

import config


def signing_key(configured: str, purpose: bytes, settings=None) -> bytes:
    """`configured` as bytes, or a key derived for `purpose`; empty when there is nothing to derive it from
    (then nothing is signed or accepted)."""
    if configured:
        return configured.encode()
    basis = f"{config.telegram(settings).webhook_secret}\n{config.twilio(settings).auth_token}"
    return hmac.new(purpose, basis.encode(), hashlib.sha256).digest() if basis.strip() else b""
