"""API token authentication that reads a token's account once a minute, not on every request.

DRF's ``TokenAuthentication`` looks the token and its user up in the database for each request.
Devices post a position every few seconds and dispatchers write calls many times a minute, so in
the soak that lookup was one query of every API request. In production mode the account a token
belongs to is kept in the shared cache (Redis) for at most ``BEACON_ACCESS_CACHE_S`` seconds
(60), under a key derived from a hash of the token (the cache never holds a usable secret).

Revoking still applies to the next request: deleting a token, or saving its user (deactivating,
for one), drops the cached entry at once and again after the change commits (a request that
read the old row in between could otherwise store it back). What signals cannot see, a bulk
``update()`` or SQL typed into the database, applies within the lifetime. Embedded mode (a cache
per process) and a lifetime of 0 read the database every time, as DRF does.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

_PREFIX = "auth:token:"


def _lifetime() -> int:
    if settings.EMBEDDED:
        return 0
    return max(0, int(getattr(settings, "BEACON_ACCESS_CACHE_S", 60)))


def _key(token_key: str) -> str:
    return _PREFIX + hashlib.sha256(token_key.encode()).hexdigest()


class CachedTokenAuthentication(TokenAuthentication):
    """``TokenAuthentication`` with the token's row (and its user) shared for a short while."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        lifetime = _lifetime()
        if not lifetime:
            return super().authenticate_credentials(key)
        cache_key = _key(key)
        token = cache.get(cache_key)
        if not isinstance(token, Token) or token.key != key:
            # Unknown or inactive: DRF's answer (401 naming the reason); nothing is cached.
            user, token = super().authenticate_credentials(key)
            cache.set(cache_key, token, timeout=lifetime)
            return user, token
        return token.user, token


def forget_token(token_key: str) -> None:
    """Drop a token's cached copy now and after the current transaction commits."""
    if not _lifetime():
        return
    cache_key = _key(token_key)
    cache.delete(cache_key)
    transaction.on_commit(lambda: cache.delete(cache_key))


def _token_changed(sender: Any, instance: Token, **_: Any) -> None:
    forget_token(instance.key)


def _user_changed(sender: Any, instance: Any, **_: Any) -> None:
    if not _lifetime():
        return
    for key in Token.objects.filter(user_id=instance.pk).values_list("key", flat=True):
        forget_token(key)


def connect_signals() -> None:
    """Forget a token's cached account when the token or its user changes."""
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save, pre_delete

    post_save.connect(_token_changed, sender=Token, dispatch_uid="beacon_token_cache_save")
    post_delete.connect(_token_changed, sender=Token, dispatch_uid="beacon_token_cache_delete")
    user = get_user_model()
    post_save.connect(_user_changed, sender=user, dispatch_uid="beacon_token_cache_user")
    # Before: the user's token rows are deleted with them (cascade), and found no more after.
    pre_delete.connect(_user_changed, sender=user, dispatch_uid="beacon_token_cache_user_del")
