"""Password hashing with argon2 (argon2-cffi) and the password policy, for the web application's logins."""

from __future__ import annotations

import functools
import threading

from healthscore.errors import UserError

# argon2 takes 64 MiB per hash: at most two at a time, so parallel logins queue instead of using gigabytes
_HASHING = threading.BoundedSemaphore(2)

MIN_PASSWORD = 12  # OWASP ASVS 4 2.1.1
MAX_PASSWORD = 128  # argon2 hashes any length, but a megabyte password per login is a cheap attack
MIN_STRENGTH = 3  # zxcvbn's 0..4: 3 is "safely unguessable" (about 10^8 guesses or more)


def check_password(password: str, username: str | None = None) -> None:
    """The policy: long enough, not absurdly long, and not a common password, a keyboard pattern, a date
    or the user name (zxcvbn's frequency lists of leaked passwords, words and names ship in its wheel)."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"the password is too long: use at most {MAX_PASSWORD} characters")
    from zxcvbn import zxcvbn

    found = zxcvbn(password, user_inputs=[username] if username else [])
    if found["score"] < MIN_STRENGTH:
        hint = found["feedback"].get("warning") or "it is too easy to guess"
        raise UserError(f"the password is too common or guessable ({hint.rstrip('.').lower()}): use a passphrase of"
                        " several unrelated words")


@functools.lru_cache(maxsize=1)
def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


@functools.lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against when the user is unknown, so an unknown name costs as much as a wrong password."""
    return _hasher().hash("no user has this password")


def hash_password(password: str, username: str | None = None) -> str:
    check_password(password, username)
    with _HASHING:
        return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when the password matches. Always runs one argon2 verification (against a dummy hash when
    there is none), so the time taken tells nothing about whether the user exists."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    if len(password) > MAX_PASSWORD:
        password = password[:MAX_PASSWORD + 1]  # still wrong; hashing megabytes is what an attacker wants
    target = stored_hash or dummy_hash()
    try:
        with _HASHING:
            ok = _hasher().verify(target, password)
        return bool(stored_hash) and ok
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def key_file(path, what: str, min_bytes: int = 32) -> str:
    """A secret kept in a file readable by its owner only: read it, or generate it once (written to a
    temporary file, synced, then linked into place, so a crash never leaves an empty key and two processes
    starting together agree on one key). Empty or short keys are refused."""
    import os
    import secrets
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_urlsafe(48))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = path.read_text(encoding="utf-8").strip()
    if len(key.encode()) < min_bytes:
        raise UserError(f"{path}: the {what} is {len(key.encode())} bytes; use at least {min_bytes} random bytes"
                        " (delete the file to have a new one generated)")
    return key


def make_private(path) -> None:
    """Owner-only: the file 0600, and a workspace's .healthscore/ folder around it 0700 (which also covers
    the write-ahead logs and journals the databases create beside their files)."""
    import os
    from pathlib import Path

    path = Path(path)
    try:
        if path.parent.name == ".healthscore":
            os.chmod(path.parent, 0o700)
        if path.exists():
            os.chmod(path, 0o600)
    except PermissionError:  # someone else's file: leave it as its owner set it
        pass


def mask_url(url: str) -> str:
    """A database URL without its password (user@host stays, so the message still says where)."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.password:
            host = parts.netloc.rsplit("@", 1)[1]
            return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
    except ValueError:
        pass
    return url


def mask_secrets(text: str, *urls: str) -> str:
    """`text` with the passwords of `urls` replaced (a driver's error message may quote the URL)."""
    from urllib.parse import unquote, urlsplit

    for url in urls:
        try:
            password = urlsplit(url).password
        except ValueError:
            continue
        if password:
            for form in {password, unquote(password)}:
                text = text.replace(form, "***")
    return text
