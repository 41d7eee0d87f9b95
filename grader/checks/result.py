"""What one check found: passed or not, the points it earned, and the message the student reads."""
from __future__ import annotations

from dataclasses import dataclass, field

from grader.messages import Message


@dataclass(frozen=True)
class Finding:
    """What a check kind's `grade` returns: the verdict, before scoring names it with the check's id."""

    passed: bool
    points: float
    message: Message
    details: dict = field(default_factory=dict)


@dataclass
class CheckResult:
    id: str
    kind: str
    passed: bool
    points: float
    max_points: float
    message: Message
    visibility: str = "visible"
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "passed": self.passed, "points": self.points,
                "max_points": self.max_points, "message": self.message.as_dict(),
                "visibility": self.visibility, "details": self.details}
