"""Users: create, import a roster, hash passwords (argon2id), issue and check API tokens."""
from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from grader.models import ROLES, User

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
ROSTER_COLUMNS = ("username", "display_name", "role", "password")
MAX_ROSTER_BYTES = 5 * 1024 * 1024
_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (t=3, m=64 MiB)


class AccountError(ValueError):
    """A problem with an account request, written for the person who made it."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_session_stamp(user: User) -> str:
    """End every session the user has (grader.web.auth checks the stamp on every request) and return the new one."""
    user.session_stamp = secrets.token_hex(16)
    return user.session_stamp


def set_password(user: User, password: str) -> None:
    """A new password ends every session of the user and revokes their API token (a leaked password's
    sessions and tokens must not outlive it; `grader users token` issues a new one)."""
    if len(password) < 8:
        raise AccountError("a password needs at least 8 characters")
    user.password_hash = hash_password(password)
    user.api_token_hash = None
    new_session_stamp(user)


def new_password() -> str:
    return secrets.token_urlsafe(12)


def token_hash(token: str) -> str:
    # API tokens are 256 random bits: a fast hash is enough (no dictionary to attack), and it lets us
    # find the user by an indexed lookup
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_username(name: str) -> str:
    if not isinstance(name, str) or not USERNAME.match(name):
        raise AccountError(f"{name!r} is not a valid username (letters, digits, '.', '_', '@', '-'; "
                           f"at most 64 characters, starting with a letter or digit)")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def find_user(session: so.Session, username: str) -> User | None:
    return session.scalar(sa.select(User).where(User.username == username))


def create_user(session: so.Session, username: str, role: str = "student", password: str | None = None,
                display_name: str = "") -> User:
    """A new user; AccountError if the name is taken or invalid."""
    check_username(username)
    check_role(role)
    if find_user(session, username) is not None:
        raise AccountError(f"user {username!r} already exists")
    if password is not None and len(password) < 8:
        raise AccountError("a password needs at least 8 characters")
    user = User(username=username, role=role, display_name=display_name or username,
                password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    return user


def issue_token(session: so.Session, username: str) -> str:
    """A new API token for the user (the old one stops working). Only its hash is stored."""
    user = find_user(session, username)
    if user is None:
        raise AccountError(f"no user named {username!r}")
    token = secrets.token_urlsafe(32)
    user.api_token_hash = token_hash(token)
    return token


def user_for_token(session: so.Session, token: str) -> User | None:
    if not token or len(token) > 200:
        return None
    return session.scalar(sa.select(User).where(User.api_token_hash == token_hash(token)))


@dataclass
class RosterRow:
    line: int
    username: str
    display_name: str
    role: str
    password: str | None


def parse_roster(text: str, source: str = "roster.csv") -> list[RosterRow]:
    """Rows of a roster CSV with a header (username, display_name, role[, password]); every error names its line."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise AccountError(f"{source}: the file is empty; it needs a header line: username,display_name,role") from None
    except csv.Error as exc:
        raise AccountError(f"{source}:1: not valid CSV ({exc})") from None
    names = [h.strip().lower() for h in header]
    unknown = [h for h in names if h not in ROSTER_COLUMNS]
    if unknown or "username" not in names:
        raise AccountError(f"{source}:1: the header must name the columns username[,display_name][,role]"
                           f"[,password]; got {','.join(header)!r}")
    rows, errors, seen = [], [], {}
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(names):
                errors.append(f"{source}:{line}: expected {len(names)} fields ({','.join(names)}), got {len(record)}")
                continue
            cells = dict(zip(names, (c.strip() for c in record)))
            username, role = cells["username"], cells.get("role") or "student"
            problem = None
            if not USERNAME.match(username):
                problem = f"username: {username!r} is not a valid username"
            elif role not in ROLES:
                problem = f"role: expected one of {', '.join(ROLES)}, got {role!r}"
            elif username in seen:
                problem = f"username: {username!r} already appears on line {seen[username]}"
            elif cells.get("password") and len(cells["password"]) < 8:
                problem = "password: needs at least 8 characters"
            if problem:
                errors.append(f"{source}:{line}: {problem}")
                continue
            seen[username] = line
            rows.append(RosterRow(line, username, cells.get("display_name") or username, role,
                                  cells.get("password") or None))
    except csv.Error as exc:
        errors.append(f"{source}:{reader.line_num}: not valid CSV ({exc})")
    if errors:
        raise AccountError("\n".join(errors))
    return rows


def import_roster(session: so.Session, rows: list[RosterRow]) -> tuple[list[tuple[str, str]], int]:
    """Create new users and update the names and roles of known ones.

    Returns (new users given a generated password as (username, password), number updated).
    """
    created, updated = [], 0
    for row in rows:
        user = find_user(session, row.username)
        if user is None:
            password = row.password or new_password()
            session.add(User(username=row.username, display_name=row.display_name, role=row.role,
                             password_hash=hash_password(password)))
            if row.password is None:
                created.append((row.username, password))
        else:
            user.display_name, user.role = row.display_name, row.role
            if row.password and not check_password(user, row.password):  # a re-import keeps sessions alive
                set_password(user, row.password)
            updated += 1
    session.flush()
    return created, updated
