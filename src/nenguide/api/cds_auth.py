"""Authentication of the EHR (CDS Client) on every CDS Hooks call, as CDS Hooks 2.0 "Security and
Safety" requires (https://cds-hooks.hl7.org/2.0/#trusting-cds-clients): the request carries
``Authorization: Bearer <JWT>``, signed by the EHR's private key (JWS, RFC 7515) with an
asymmetric algorithm; the public key comes from a JWK Set. The payload's ``iss`` must be on the
allow-list, ``aud`` is the URL of the service that was called, ``exp``, ``iat`` and ``jti`` are
required, and a ``jti`` seen before (until its ``exp``) is a replay.

Verification is done by PyJWT (``jwt``); this module only chooses the key and keeps the state
(the cached JWK Set and the ``jti`` values seen). That state lives in the memory of one worker
process: with ``serve --workers N`` a replay sent to another worker is not caught there (the
tokens are short-lived, ``exp`` bounds the window; see docs/security.md).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

#: Asymmetric algorithms only (CDS Hooks 2.0: RS384 and ES384 at least; RS256/ES256 accepted).
ALGORITHMS = ("RS256", "RS384", "ES256", "ES384")
#: How long a JWK Set fetched from its URL is trusted before it is fetched again (seconds).
JWKS_TTL = 300.0
#: An unknown ``kid`` makes a new fetch at most this often (seconds): key rotation, no flood.
REFETCH_MIN_INTERVAL = 30.0
#: Clock skew tolerated on ``exp``/``iat`` (seconds).
LEEWAY = 30


class CdsAuthError(Exception):
    """The request is not authenticated; ``str()`` says why (answered 401)."""


class CdsAuthNotConfigured(Exception):
    """Outside demo mode without the settings the check needs; names them (answered 503)."""


@dataclass
class CdsVerifier:
    issuers: frozenset[str]
    jwks_url: str | None
    jwks_file: str | None
    _keys: dict[str, Any] = field(default_factory=dict)
    _loaded_at: float = -1e18
    _file_mtime: float | None = None
    _seen: dict[tuple[str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings: Any) -> CdsVerifier:
        issuers = frozenset(x.strip() for x in settings.cds_issuers.split(",") if x.strip())
        return cls(issuers, settings.cds_jwks_url, settings.cds_jwks_file)

    def missing(self) -> list[str]:
        out = []
        if not self.issuers:
            out.append("NENGUIDE_CDS_ISSUERS")
        if not (self.jwks_url or self.jwks_file):
            out.append("NENGUIDE_CDS_JWKS_URL or NENGUIDE_CDS_JWKS_FILE")
        return out

    # -- keys ---------------------------------------------------------------------------------
    def _load(self) -> None:
        if self.jwks_file:
            path = Path(self.jwks_file)
            mtime = path.stat().st_mtime
            if mtime == self._file_mtime:
                return
            data = json.loads(path.read_text(encoding="utf-8"))
            self._file_mtime = mtime
        else:
            assert self.jwks_url
            r = httpx.get(self.jwks_url, timeout=5, headers={"Accept": "application/json"})
            r.raise_for_status()
            data = r.json()
        keys: dict[str, Any] = {}
        for jwk in data.get("keys", []) if isinstance(data, dict) else []:
            if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
                continue
            if jwk.get("kty") not in ("RSA", "EC") or "d" in jwk:
                continue  # public asymmetric keys only
            try:
                keys[jwk["kid"]] = jwt.PyJWK(jwk)
            except jwt.PyJWTError:
                continue
        self._keys = keys
        self._loaded_at = time.monotonic()

    def _key(self, kid: str) -> Any:
        now = time.monotonic()
        with self._lock:
            stale = self.jwks_file is not None or now - self._loaded_at > JWKS_TTL
            unknown = kid not in self._keys and now - self._loaded_at > REFETCH_MIN_INTERVAL
            if stale or unknown:
                try:
                    self._load()
                except (OSError, ValueError, httpx.HTTPError) as exc:
                    raise CdsAuthError(f"the EHR's JWK Set could not be read: {exc}") from None
            key = self._keys.get(kid)
        if key is None:
            raise CdsAuthError(f"no key with kid '{kid}' in the configured JWK Set")
        return key

    # -- the check ----------------------------------------------------------------------------
    def verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        """The token's claims, or :class:`CdsAuthError` saying what is wrong."""
        if not authorization or not authorization.startswith("Bearer "):
            raise CdsAuthError("send 'Authorization: Bearer <JWT>' signed by the EHR")
        token = authorization[len("Bearer ") :].strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise CdsAuthError(f"the bearer token is not a JWT: {exc}") from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise CdsAuthError(f"alg '{alg}' is not accepted; use one of {', '.join(ALGORITHMS)}")
        jku = header.get("jku")
        if jku is not None and jku != self.jwks_url:
            raise CdsAuthError("jku is not the configured JWK Set URL (NENGUIDE_CDS_JWKS_URL)")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise CdsAuthError("the JWT header has no kid")
        key = self._key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                audience=audience,
                issuer=sorted(self.issuers),
                leeway=LEEWAY,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.InvalidAudienceError:
            raise CdsAuthError(f"aud must be the URL of the service called: {audience}") from None
        except jwt.ExpiredSignatureError:
            raise CdsAuthError("the JWT has expired (exp)") from None
        except jwt.InvalidIssuerError:
            raise CdsAuthError("iss is not a trusted issuer (NENGUIDE_CDS_ISSUERS)") from None
        except jwt.PyJWTError as exc:
            raise CdsAuthError(f"the JWT was refused: {exc}") from None
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise CdsAuthError("jti must be a non-empty string")
        now = time.time()
        with self._lock:
            for k in [k for k, exp in self._seen.items() if exp + LEEWAY < now]:
                del self._seen[k]
            if (claims["iss"], jti) in self._seen:
                raise CdsAuthError("this JWT was already used (jti replayed)")
            self._seen[(claims["iss"], jti)] = float(claims["exp"])
        return claims
