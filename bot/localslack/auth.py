"""The auth.* / api.* / team.* Web API methods."""

from __future__ import annotations

from bot.localslack.records import JSONDict
from bot.localslack.workspace import Workspace


class AuthAPI(Workspace):
    """auth.test, api.test, team.info."""

    # ---- auth / team ---------------------------------------------------------------------------------

    def _api_api_test(self, args: JSONDict) -> JSONDict:
        return {"args": {k: v for k, v in args.items() if k != "token"}} if args else {}

    def _api_auth_test(self, args: JSONDict) -> JSONDict:
        return {
            "url": f"{self.base_url}/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _api_team_info(self, args: JSONDict) -> JSONDict:
        return {
            "team": {
                "id": self.team_id,
                "name": self.team_name,
                "domain": self.team_domain,
                "email_domain": "",
                "icon": {"image_default": True},
                "url": f"{self.base_url}/",
                **({"locale": self.team_locale} if self.team_locale else {}),
            }
        }
