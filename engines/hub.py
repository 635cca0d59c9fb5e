"""Download GGUF chat models from the Hugging Face hub: resumable, checked, one file at a time.

Only `ctxchat models pull` calls this; nothing downloads at run time by default. A download
goes to NAME.part next to its final place and is renamed only after its SHA-256 matches:
the curated list's hash when it has one, else the hash the hub publishes for the file (the
X-Linked-Etag of its LFS object). An interrupted download keeps its .part and continues with
an HTTP Range request, in the same command (a few retries) or the next one.

CTXCHAT_HUB_URL points at another hub (a mirror, or a test server on 127.0.0.1).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.paths import cache_dir

DEFAULT_HUB_URL = "https://huggingface.co"
HUB_URL_ENV = "CTXCHAT_HUB_URL"
CHUNK_BYTES = 1 << 20
TIMEOUT_S = 30.0
RETRIES = 2  # automatic resumes within one command after a cut connection

Progress = Callable[[int, int | None], None]  # (bytes done, total bytes or None)


class HubError(CtxchatError):
    """A download that cannot go on: offline, refused, interrupted or corrupt."""


@dataclass(frozen=True)
class CuratedModel:
    """A chat model known to fit a laptop (4-bit K-quant GGUF, 1-4 B parameters)."""

    name: str  # what the user types: ctxchat models pull NAME
    repo: str
    file: str
    size_mb: int  # approximate, for the listing
    # When known here; else the hub's published hash is used. None below: the hashes found
    # in public copies could not be tied to these exact repos, and a wrong one would refuse
    # every good download.
    sha256: str | None = None
    note: str = ""


CURATED = [
    CuratedModel(
        "qwen2.5-1.5b",
        "Qwen/Qwen2.5-1.5B-Instruct-GGUF",
        "qwen2.5-1.5b-instruct-q4_k_m.gguf",
        1117,
        None,
        "Qwen2.5 1.5B Instruct, Q4_K_M: small and quick, good at copying facts",
    ),
    CuratedModel(
        "qwen2.5-3b",
        "Qwen/Qwen2.5-3B-Instruct-GGUF",
        "qwen2.5-3b-instruct-q4_k_m.gguf",
        2104,
        None,
        "Qwen2.5 3B Instruct, Q4_K_M: better answers, ~2x slower",
    ),
    CuratedModel(
        "llama3.2-3b",
        "bartowski/Llama-3.2-3B-Instruct-GGUF",
        "Llama-3.2-3B-Instruct-Q4_K_M.gguf",
        2019,
        None,
        "Llama 3.2 3B Instruct, Q4_K_M",
    ),
    CuratedModel(
        "gemma3-1b",
        "ggml-org/gemma-3-1b-it-GGUF",
        "gemma-3-1b-it-Q4_K_M.gguf",
        806,
        None,
        "Gemma 3 1B it, Q4_K_M: the smallest upgrade",
    ),
    CuratedModel(
        "gemma3-4b",
        "ggml-org/gemma-3-4b-it-GGUF",
        "gemma-3-4b-it-Q4_K_M.gguf",
        2489,
        None,
        "Gemma 3 4B it, Q4_K_M: the strongest here, needs ~4 GB of memory",
    ),
]


def curated(name: str) -> CuratedModel | None:
    wanted = name.strip().lower()
    return next((m for m in CURATED if m.name == wanted), None)


def hub_url() -> str:
    return os.environ.get(HUB_URL_ENV, DEFAULT_HUB_URL).rstrip("/")


def file_url(repo: str, file: str, revision: str = "main") -> str:
    quoted = urllib.parse.quote(file)
    return f"{hub_url()}/{repo}/resolve/{urllib.parse.quote(revision)}/{quoted}"


def gguf_dir() -> Path:
    """Where pulled chat models live: one folder per hub repo."""
    path = cache_dir("models") / "gguf"
    path.mkdir(parents=True, exist_ok=True)
    return path


def target_path(repo: str, file: str) -> Path:
    return gguf_dir() / repo.replace("/", "--") / Path(file).name


@dataclass(frozen=True)
class PulledModel:
    """A downloaded GGUF and where it came from (the .json beside it)."""

    path: Path
    repo: str
    file: str
    sha256: str
    size: int

    def as_dict(self) -> dict[str, str | int]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data


def pulled_models() -> list[PulledModel]:
    """Every completed pull, newest folder order (sorted by repo, then file)."""
    found = []
    for meta in sorted(gguf_dir().glob("*/*.gguf.json")):
        model = meta.with_suffix("")  # x.gguf.json -> x.gguf
        try:
            info = json.loads(meta.read_text(encoding="utf-8"))
            size = model.stat().st_size
        except (OSError, ValueError):
            continue  # a pull that never finished, or a file removed by hand
        found.append(PulledModel(model, info["repo"], info["file"], info["sha256"], size))
    return found


# ---------------------------------------------------------------- HTTP


def _request(url: str, method: str = "GET", start: int = 0) -> urllib.request.Request:
    headers = {"User-Agent": "ctxchat", "Accept-Encoding": "identity"}
    token = os.environ.get("HF_TOKEN")
    if token and url.startswith(DEFAULT_HUB_URL):
        headers["Authorization"] = f"Bearer {token}"
    if start:
        headers["Range"] = f"bytes={start}-"
    return urllib.request.Request(url, headers=headers, method=method)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # keep the hub's own headers (the file's hash) instead of the CDN's


def _offline_error(url: str, exc: BaseException) -> HubError:
    reason = getattr(exc, "reason", exc)
    host = urllib.parse.urlsplit(url).netloc
    return HubError(f"cannot reach {host} (offline?): {reason}")


def _http_error(repo: str, file: str, exc: urllib.error.HTTPError) -> HubError:
    if exc.code in (401, 403):
        return HubError(
            f"{repo} is gated or private: accept its licence on the hub and set HF_TOKEN"
        )
    if exc.code == 404:
        return HubError(f"{repo} has no file {file!r} (check the repo id and file name)")
    return HubError(f"the hub refused {repo}/{file}: HTTP {exc.code} {exc.reason}")


@dataclass(frozen=True)
class RemoteFile:
    size: int | None
    sha256: str | None  # what the hub publishes for the file, if it does


def remote_file(repo: str, file: str) -> RemoteFile:
    """Size and published SHA-256 of a hub file, from a HEAD request (redirects not followed)."""
    url = file_url(repo, file)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        resp = opener.open(_request(url, "HEAD"), timeout=TIMEOUT_S)
        headers = resp.headers
        resp.close()
    except urllib.error.HTTPError as exc:
        if exc.code not in (301, 302, 303, 307, 308):
            raise _http_error(repo, file, exc) from None
        headers = exc.headers  # the hub answers LFS files with a redirect to its CDN
    except (urllib.error.URLError, OSError) as exc:
        raise _offline_error(url, exc) from None
    etag = (headers.get("X-Linked-Etag") or headers.get("ETag") or "").strip('"W/ ')
    size = headers.get("X-Linked-Size") or headers.get("Content-Length")
    return RemoteFile(
        size=int(size) if size and size.isdigit() else None,
        sha256=etag.lower() if re.fullmatch(r"[0-9a-fA-F]{64}", etag) else None,
    )


# ---------------------------------------------------------------- download


def _hash_file(path: Path) -> hashlib._Hash:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK_BYTES):
            digest.update(block)
    return digest


def _fetch_into(
    url: str, part: Path, digest: hashlib._Hash, total: int | None, progress: Progress | None
) -> hashlib._Hash:
    """Append the rest of the file to `part` (Range from its size); cut connections raise.

    Returns the digest of the whole part: `digest` fed on, or a new one if the server
    ignored the Range request and sent the file from its start.
    """
    done = part.stat().st_size if part.exists() else 0
    if total is not None and done >= total:
        return digest
    resp = urllib.request.urlopen(_request(url, start=done), timeout=TIMEOUT_S)
    with resp:
        if done and resp.status != 206:  # the server ignored Range: start over
            done = 0
            digest = hashlib.sha256()
        length = resp.headers.get("Content-Length")
        expected = done + int(length) if length and length.isdigit() else total
        with open(part, "r+b" if done else "wb") as out:
            out.seek(done)
            out.truncate()
            while block := resp.read(CHUNK_BYTES):
                out.write(block)
                digest.update(block)
                done += len(block)
                if progress:
                    progress(done, total)
        if expected is not None and done < expected:
            raise http.client.IncompleteRead(b"", expected - done)
    return digest


def download(
    repo: str,
    file: str,
    *,
    sha256: str | None = None,
    progress: Progress | None = None,
    retries: int | None = None,
) -> PulledModel:
    """Download hub file `file` of `repo` into gguf_dir(), resuming any earlier part."""
    retries = RETRIES if retries is None else retries
    target = target_path(repo, file)
    meta = target.with_name(target.name + ".json")
    if target.exists() and meta.exists():
        return next(m for m in pulled_models() if m.path == target)
    remote = remote_file(repo, file)
    expected = (sha256 or remote.sha256 or "").lower() or None
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    digest = _hash_file(part) if part.exists() else hashlib.sha256()
    url = file_url(repo, file)
    for attempt in range(retries + 1):
        try:
            digest = _fetch_into(url, part, digest, remote.size, progress)
            break
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and remote.size is not None:  # nothing left to fetch
                break
            raise _http_error(repo, file, exc) from None
        except (TimeoutError, http.client.HTTPException, ConnectionError) as exc:
            if attempt == retries:
                have = part.stat().st_size if part.exists() else 0
                raise HubError(
                    f"the download of {file} broke off at {have / 2**20:.0f} MiB ({exc!r}); "
                    "run the same command again to resume"
                ) from None
            digest = _hash_file(part)  # what was really written before the cut
        except (urllib.error.URLError, OSError) as exc:
            raise _offline_error(url, exc) from None
    return _finish(repo, file, part, target, digest.hexdigest(), expected)


def _finish(
    repo: str, file: str, part: Path, target: Path, got: str, expected: str | None
) -> PulledModel:
    """Check the hash, then move the part into place and record where it came from."""
    if expected is not None and got != expected:
        part.unlink(missing_ok=True)
        raise HubError(
            f"checksum mismatch for {file}: expected sha256 {expected[:12]}..., got "
            f"{got[:12]}...; the download was deleted, run the command again"
        )
    with open(part, "rb") as f:
        if f.read(4) != b"GGUF":
            part.unlink(missing_ok=True)
            raise HubError(f"{repo}/{file} is not a GGUF file; the download was deleted")
    part.replace(target)
    size = target.stat().st_size
    info = {
        "repo": repo,
        "file": file,
        "sha256": got,
        "size": size,
        "verified": expected is not None,
    }
    target.with_name(target.name + ".json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    return PulledModel(target, repo, file, got, size)
