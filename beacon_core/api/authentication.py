"""API token authentication that reads a token's account once a minute, not on every request.

DRF's ``TokenAuthentication`` looks the token and its user up in the database for each request.
Devices post a position every few seconds and dispatchers write calls many times a minute, so in
the soak that lookup was one query of every API request. In production mode the account a token
belongs to is kept in the shared cache (Redis) for at most ``BEACON_ACCESS_CACHE_S`` seconds
(60). The cache holds neither the token (the entry's key is a hash of it, and the ``Token`` is
rebuilt in memory) nor the password hash (deferred, read from the database if ever needed).

Revoking applies to the next request: each account has a *generation* in the cache, replaced
when one of its tokens is saved or deleted and when the account is saved or deleted
(deactivating it, for one), at the change and again after it commits. An entry is used only
under the generation it was read with, and that generation is taken before the database read,
so a request that read the account just before a revocation cannot store a copy that outlives
it. What signals cannot see (a bulk ``update()``, SQL typed into the database, a generation lost
while Redis was down) applies within the lifetime. Embedded mode (a cache per process) and a
lifetime of 0 read the database every time, as DRF does.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def _lifetime() -> int:
    if settings.EMBEDDED:
        return 0
    return max(0, int(getattr(settings, "BEACON_ACCESS_CACHE_S", 60)))


def token_cache_key(token_key: str) -> str:
    return "auth:token:" + hashlib.sha256(token_key.encode()).hexdigest()


def _generation_key(user_id: int) -> str:
    return f"auth:user-generation:{user_id}"


class CachedTokenAuthentication(TokenAuthentication):
    """``TokenAuthentication`` with the token's account shared for a short while."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        lifetime = _lifetime()
        if not lifetime:
            return super().authenticate_credentials(key)
        entry_key = token_cache_key(key)
        entry = cache.get(entry_key)
        if isinstance(entry, tuple) and len(entry) == 3:
            user_id, generation, user = entry
            if generation is not None and cache.get(_generation_key(user_id)) == generation:
                return user, Token(key=key, user=user)
        return self._read_and_share(key, entry_key, lifetime)

    def _read_and_share(self, key: str, entry_key: str, lifetime: int) -> tuple[Any, Any]:
        token = _active_token(key)
        # The account's generation, then its row again: a revocation that commits in between
        # replaces the generation, so what is stored below is never used.
        generation_key = _generation_key(token.user_id)
        cache.add(generation_key, secrets.token_hex(8), timeout=None)
        generation = cache.get(generation_key)
        token = _active_token(key)
        if generation is not None:  # None: the cache is unreachable; nothing to share
            # select_related left the token on the user (its reverse accessor): not in the cache.
            token.user._state.fields_cache.clear()
            cache.set(entry_key, (token.user_id, generation, token.user), timeout=lifetime)
        return token.user, Token(key=key, user=token.user)


def _active_token(key: str) -> Token:
    """The token with its user (password hash left unread); DRF's refusals, word for word."""
    token = Token.objects.select_related("user").defer("user__password").filter(key=key).first()
    if token is None:
        raise exceptions.AuthenticationFailed(_("Invalid token."))
    if not token.user.is_active:
        raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
    return token


def account_changed(user_id: int | None) -> None:
    """Make every cached copy of this account stale, now and after the transaction commits."""
    if not _lifetime() or user_id is None:
        return
    generation_key = _generation_key(user_id)

    def replace() -> None:
        cache.set(generation_key, secrets.token_hex(8), timeout=None)

    replace()
    transaction.on_commit(replace)


def _token_changed(sender: Any, instance: Token, **_: Any) -> None:
    account_changed(instance.user_id)


def _user_changed(sender: Any, instance: Any, **_: Any) -> None:
    account_changed(instance.pk)


def connect_signals() -> None:
    """Replace an account's generation when one of its tokens or the account itself changes."""
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save

    post_save.connect(_token_changed, sender=Token, dispatch_uid="beacon_token_cache_save")
    post_delete.connect(_token_changed, sender=Token, dispatch_uid="beacon_token_cache_delete")
    user = get_user_model()
    post_save.connect(_user_changed, sender=user, dispatch_uid="beacon_token_cache_user")
    post_delete.connect(_user_changed, sender=user, dispatch_uid="beacon_token_cache_user_del")
