"""The files.* Web API methods: the external upload flow (files.getUploadURLExternal, the upload URL itself,
files.completeUploadExternal) and files.info; a person's own uploads (a modal's file_input, a file sent in a
DM); and the files' private URLs, whose download needs the bot token as Slack's does.
"""

from __future__ import annotations

import urllib.parse

from bot.localslack.args import int_arg, json_arg, require, str_arg
from bot.localslack.httpd import decode_multipart
from bot.localslack.records import File, JSONDict, Message, SlackError
from bot.localslack.workspace import Workspace


class FilesAPI(Workspace):
    """files.getUploadURLExternal, the upload URL, files.completeUploadExternal, files.info."""

    # ---- files ---------------------------------------------------------------------------------------

    def _file_json(self, f: File) -> JSONDict:
        base = self.base_url
        shares_public: JSONDict = {}
        shares_private: JSONDict = {}
        channels, groups, ims = [], [], []
        for cid, ts in f.shares:
            ch = self._channels.get(cid)
            entry = {
                "reply_users": [],
                "reply_users_count": 0,
                "reply_count": 0,
                "ts": ts,
                "channel_name": ch.name if ch else cid,
                "team_id": self.team_id,
                "share_user_id": f.user,
                "source": "UNKNOWN",
                "is_silent_share": False,
            }
            if ch is not None and ch.is_im:
                ims.append(cid)
                shares_private.setdefault(cid, []).append(entry)
            elif ch is not None and (ch.is_private or ch.is_mpim):
                groups.append(cid)
                shares_private.setdefault(cid, []).append(entry)
            else:
                channels.append(cid)
                shares_public.setdefault(cid, []).append(entry)
        ext = f.filename.rsplit(".", 1)[-1].lower() if "." in f.filename else "binary"
        shares: JSONDict = {}
        if shares_public:
            shares["public"] = shares_public
        if shares_private:
            shares["private"] = shares_private
        return {
            "id": f.id,
            "created": f.created,
            "timestamp": f.created,
            "name": f.filename,
            "title": f.title if f.title is not None else f.filename,
            "mimetype": f.mimetype,
            "filetype": ext,
            "pretty_type": ext.upper(),
            "user": f.user,
            "user_team": self.team_id,
            "editable": False,
            "size": f.size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(shares_public),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{base}/files/{f.id}/{urllib.parse.quote(f.filename)}",
            "url_private_download": f"{base}/files/{f.id}/download/{urllib.parse.quote(f.filename)}",
            "permalink": f"{base}/files/{f.user}/{f.id}/{urllib.parse.quote(f.filename)}",
            "permalink_public": f"{base}/files/public/{f.id}",
            "comments_count": 0,
            "is_starred": False,
            "shares": shares,
            "channels": channels,
            "groups": groups,
            "ims": ims,
            "has_more_shares": False,
            "has_rich_preview": False,
            "file_access": "visible",
            **({"alt_txt": f.alt_txt} if f.alt_txt else {}),
        }

    def _api_files_getUploadURLExternal(self, args: JSONDict) -> JSONDict:
        require(args, "filename", "length")
        length = int_arg(args, "length", 0)
        if length < 0:
            raise SlackError("invalid_arguments", messages=["[ERROR] length must be positive"])
        fid = self._next_id("F")
        self.files[fid] = File(
            id=fid,
            filename=str(args["filename"]),
            length=length,
            alt_txt=str_arg(args, "alt_txt"),
            snippet_type=str_arg(args, "snippet_type"),
            user=self.bot_user_id,
            created=int(self.clock()),
        )
        return {"upload_url": f"{self.base_url}/upload/{fid}", "file_id": fid}

    def handle_upload(self, file_id: str, raw: bytes, content_type: str) -> tuple[int, str]:
        """The upload URL: raw bytes or a multipart form with one file part. No auth header needed."""
        with self._lock:
            f = self.files.get(file_id)
            if f is None:
                return 404, "file_not_found"
            data = raw
            if content_type.split(";")[0].strip().lower() == "multipart/form-data":
                _fields, parts = decode_multipart(raw, content_type)
                if parts:
                    data = next(iter(parts.values()))[1]
            f.content = data
            self._changed.notify_all()
            return 200, f"OK - {len(data)}"

    def _api_files_completeUploadExternal(self, args: JSONDict) -> JSONDict:
        require(args, "files")
        entries = json_arg(args, "files")
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments", messages=["[ERROR] files must be a non-empty JSON array"])
        targets: list[str] = []
        if args.get("channel_id"):
            targets.append(str(args["channel_id"]))
        chans_arg = args.get("channels")
        if chans_arg:
            names = chans_arg if isinstance(chans_arg, list) else str(chans_arg).split(",")
            targets.extend(str(c).strip() for c in names if str(c).strip())
        channels = [self._resolve_channel(c) for c in dict.fromkeys(targets)]
        thread_ts = str_arg(args, "thread_ts") or None
        initial_comment = str_arg(args, "initial_comment")
        files: list[File] = []
        for entry in entries:
            if not isinstance(entry, dict) or not entry.get("id"):
                raise SlackError("invalid_arguments", messages=["[ERROR] each file needs an id"])
            f = self.files.get(str(entry["id"]))
            if f is None or f.content is None:
                raise SlackError("file_not_found", messages=[f"[ERROR] {entry['id']} was never uploaded"])
            if entry.get("title"):
                f.title = str(entry["title"])
            f.completed = True
            f.thread_ts = thread_ts
            f.initial_comment = initial_comment
            files.append(f)
        for ch in channels:
            ts = self._next_ts()
            for f in files:
                f.channel = f.channel or ch.id
                f.shares.append((ch.id, ts))
            self._store(
                Message(
                    channel=ch.id,
                    ts=ts,
                    text=initial_comment or "",
                    user=self.bot_user_id,
                    thread_ts=thread_ts,
                    files=[self._file_json(f) for f in files],
                    bot_id=self.bot_id,
                    app_id=self.app_id,
                    source="files.completeUploadExternal",
                )
            )
        return {"files": [self._file_json(f) for f in files]}

    def _api_files_info(self, args: JSONDict) -> JSONDict:
        require(args, "file")
        f = self.files.get(str(args["file"]))
        if f is None or not f.completed:
            raise SlackError("file_not_found")
        return {"file": self._file_json(f), "comments": [], "response_metadata": {"next_cursor": ""}}

    def upload_user_file(self, user_id: str, filename: str, content: bytes, *, title: str | None = None) -> File:
        """A person uploads a file from their Slack client (into a modal's file_input, or before sharing it):
        complete, owned by them, shared nowhere yet."""
        with self._lock:
            user = self._known_user(user_id)
            fid = self._next_id("F")
            f = File(id=fid, filename=filename, length=len(content), content=content, title=title, user=user.id,
                     created=int(self.clock()), completed=True)
            self.files[fid] = f
            self._changed.notify_all()
            return f

    def file_json(self, file_id: str) -> JSONDict:
        """The file object Slack puts in events and view state for this file."""
        with self._lock:
            return self._file_json(self.files[file_id])

    def download(self, file_id: str, headers: dict[str, str]) -> tuple[int, bytes, str]:
        """`url_private_download`: the bytes for a request carrying a valid token (`Authorization: Bearer`);
        without one, Slack answers 200 with its sign-in page (HTML), not the file."""
        with self._lock:
            f = self.files.get(file_id)
            if f is None or f.content is None:
                return 404, b"file_not_found", "text/plain; charset=utf-8"
            auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or token.strip() != self.bot_token:
                page = b"<!DOCTYPE html><html><head><title>Sign in | Slack</title></head><body>Sign in</body></html>"
                return 200, page, "text/html; charset=utf-8"
            return 200, f.content, f.mimetype

    def file_bytes(self, file_id: str) -> bytes | None:
        with self._lock:
            f = self.files.get(file_id)
            return f.content if f is not None else None
