"""The `security` section: how people log in, and their unix users and groups."""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Literal

from pydantic import Field, SecretStr, StringConstraints, field_validator, model_validator

from qhub.config.base import Model, Problem, empty_list, rules_error
from qhub.config.errors import clip, quote

# Unix ids: positive, below 2**31 (the seed suggests starting high, e.g. 10000000).
UnixId = Annotated[int, Field(ge=1, le=2**31 - 1)]
UserName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._@+-]+$")]
GroupName = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_-]{0,31}$")]


class GitHubAuthConfig(Model):
    """OAuth app registered on GitHub."""

    client_id: str = Field(min_length=1, description="The GitHub OAuth app's client id.")
    client_secret: SecretStr | None = Field(None, description="Deprecated here: set it with `pulumi config set --secret qhub:oauthClientSecret`.")
    oauth_callback_url: str | None = Field(None, description="Callback URL registered with the app; defaults to https://<domain>/hub/oauth_callback.")
    auth0_subdomain: str | None = Field(None, description="Not used by GitHub login; accepted (with a warning) because the seed format shows it.")


class Auth0AuthConfig(Model):
    """An Auth0 application; leave empty to have the program create it."""

    client_id: str | None = Field(None, description="Client id of an existing Auth0 application; empty creates one.")
    client_secret: SecretStr | None = Field(None, description="Deprecated here: set it with `pulumi config set --secret qhub:oauthClientSecret`.")
    oauth_callback_url: str | None = Field(None, description="Callback URL; defaults to https://<domain>/hub/oauth_callback.")
    scope: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"], description="OAuth scopes requested at login.")
    auth0_subdomain: str | None = Field(None, description="Tenant subdomain: <auth0_subdomain>.auth0.com (or a full custom domain).")

    @model_validator(mode="after")
    def _client_needs_tenant(self) -> Auth0AuthConfig:
        if self.client_id and not self.auth0_subdomain:
            raise rules_error([(("auth0_subdomain",), (
                "missing; an existing Auth0 client (client_id) needs its tenant (or leave config empty to create the client)"
            ))])
        return self

    @property
    def provisioned(self) -> bool:
        """The program creates the Auth0 application itself."""
        return self.client_id is None


class PasswordAuthConfig(Model):
    """Shared-password login for local and test stacks; the password is `qhub:hubPassword` secret config."""


class GitHubAuth(Model):
    """Login with GitHub accounts (OAuthenticator's GitHubOAuthenticator)."""

    type: Literal["GitHub"] = Field(description="GitHub login.")
    config: GitHubAuthConfig = Field(description="The GitHub OAuth app.")


class Auth0Auth(Model):
    """Login through an Auth0 tenant."""

    type: Literal["Auth0"] = Field(description="Auth0 login.")
    config: Auth0AuthConfig = Field(default_factory=Auth0AuthConfig, description="The Auth0 application; empty creates one.")


class PasswordAuth(Model):
    """One shared password: for local and test stacks only."""

    type: Literal["password"] = Field(description="Shared-password login.")
    config: PasswordAuthConfig = Field(default_factory=PasswordAuthConfig, description="Nothing to set: the password is secret config.")


Authentication = Annotated[GitHubAuth | Auth0Auth | PasswordAuth, Field(discriminator="type")]


class User(Model):
    """A person who may log in, with the unix identity their server runs as."""

    uid: UnixId = Field(description="Unix user id; never change it after the user has files.")
    primary_group: GroupName = Field(description="Group that owns the files the user writes.")
    secondary_groups: list[GroupName] = Field(default_factory=empty_list, description="Further groups the user belongs to.")


class Group(Model):
    """A unix group; each has a shared folder /home/shared/<group>."""

    gid: UnixId = Field(description="Unix group id; never change it after the group has files.")


class Security(Model):
    """Login and the unix users and groups of the platform."""

    authentication: Authentication = Field(description="How users log in: GitHub, Auth0 or password.")
    users: dict[UserName, User] = Field(default_factory=dict, description="Users allowed to log in, by login name.")
    groups: dict[GroupName, Group] = Field(default_factory=lambda: {"users": Group(gid=100), "admin": Group(gid=101)}, description="Groups by name; members of `admin` are hub admins.")

    @field_validator("authentication", mode="before")
    @classmethod
    def _type_is_text(cls, value: object) -> object:
        # pydantic writes a tag that is not text into its error with str(), which fails (on
        # stderr, outside any error) for an integer of thousands of digits.
        if isinstance(value, dict) and "type" in value and not isinstance(value["type"], str):
            raise rules_error([(("type",), f"{quote(value['type'])} is not a login type; allowed: 'GitHub', 'Auth0', 'password'")])
        return value

    @model_validator(mode="after")
    def _ids_and_memberships(self) -> Security:
        problems: list[Problem] = []
        defined = clip(", ".join(sorted(self.groups)), 200) or "none"
        seen_uids: dict[int, str] = {}
        for name, user in self.users.items():
            if user.uid in seen_uids:
                problems.append((("users", name, "uid"), f"{user.uid} is already the uid of {clip(seen_uids[user.uid])}; uids must be unique"))
            seen_uids.setdefault(user.uid, name)
            if user.primary_group not in self.groups:
                problems.append((("users", name, "primary_group"), f"group {quote(user.primary_group)} is not defined; defined groups: {defined}"))
            for position, group in enumerate(user.secondary_groups):
                if group not in self.groups:
                    problems.append((("users", name, "secondary_groups", position), f"group {quote(group)} is not defined; defined groups: {defined}"))
        seen_gids: dict[int, str] = {}
        for name, group in self.groups.items():
            if group.gid in seen_gids:
                problems.append((("groups", name, "gid"), f"{group.gid} is already the gid of {clip(seen_gids[group.gid])}; gids must be unique"))
            seen_gids.setdefault(group.gid, name)
        if problems:
            raise rules_error(problems)
        return self

    @cached_property
    def _members_by_group(self) -> dict[str, list[str]]:
        # One pass over the users, so asking for every group's members stays linear.
        index: dict[str, list[str]] = {name: [] for name in self.groups}
        for name, user in self.users.items():
            for group in dict.fromkeys([user.primary_group, *user.secondary_groups]):
                index.setdefault(group, []).append(name)
        return index

    def members(self, group: str) -> list[str]:
        """Users whose primary or secondary group is `group`."""
        return list(self._members_by_group.get(group, []))
