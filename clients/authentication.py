"""`Authorization: Token <key>` against hashed ApiTokens (docs/api.md §Tokens)."""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from clients.api_tokens import api_token_for_key, api_token_touch


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send the header as `Authorization: Token <key>`, with one key.")
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.") from None
        token = api_token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is not valid or has been revoked.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's user is suspended.")
        api_token_touch(token=token, at=timezone.now())
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: a key made in Settings › API tokens.",
        }
