"""The JSON API's OpenAPI 3.1 description, served at /api/openapi.json (kept beside the code it describes)."""
from __future__ import annotations

from grader.i18n import LANGUAGES

ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def _unavailable() -> dict:
    return {**_error("The database does not answer (an outage): nothing was stored; retry after Retry-After "
                     "seconds"), "headers": {"Retry-After": {"schema": {"type": "integer"}}}}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Backprop Grader API", "version": "1",
                 "description": "Submit PyTorch homework for grading and read the result. Authenticate with "
                                "`Authorization: Bearer <token>` (`grader users token NAME`). A student sees only "
                                "their own submissions; other ids answer 404, like ids that do not exist. "
                                "Submissions follow the pages' limits (deadline window, one per interval, a "
                                "per-assignment maximum)."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/assignments": {"get": {
                "summary": "The assignments you may submit to, with your own deadline",
                "operationId": "listAssignments",
                "responses": {
                    "200": {"description": "The assignments", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["assignments"],
                        "properties": {"assignments": {"type": "array",
                                                       "items": {"$ref": "#/components/schemas/Assignment"}}}}}}},
                    "401": _error("Missing or invalid token"),
                    "503": _unavailable()}}},
            "/api/submissions": {"post": {
                "summary": "Submit a script for grading",
                "operationId": "createSubmission",
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file", "assignment"],
                    "properties": {"file": {"type": "string", "format": "binary",
                                            "description": "The .py script, UTF-8, at most 200 KB"},
                                   "assignment": {"type": "string", "description": "The assignment id"}}}}}},
                "responses": {
                    "202": {"description": "Stored and queued",
                            "headers": {"Location": {"schema": {"type": "string"}}},
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Accepted"}}}},
                    "400": _error("Missing field, unknown assignment, not UTF-8, empty or too large a script"),
                    "401": _error("Missing or invalid token"),
                    "403": _error("Submissions for this assignment are closed"),
                    "413": _error("The request body is larger than the upload limit"),
                    "429": _error("Submitted too soon after the previous submission, or no submissions left"),
                    "503": _unavailable()}}},
            "/api/submissions/{id}": {"get": {
                "summary": "A submission's status and, once graded, its score, checks and diagnoses",
                "operationId": "getSubmission",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
                    {"name": "lang", "in": "query", "required": False, "schema": {"type": "string", "enum": list(LANGUAGES)},
                     "description": "Language of the messages; else the token owner's setting, else Accept-Language, "
                                    "else the course default"},
                    {"name": "Accept-Language", "in": "header", "required": False, "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "The submission", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Submission"}}}},
                    "401": _error("Missing or invalid token"),
                    "404": _error("No such submission, or not yours"),
                    "503": _unavailable()}}},
            "/api/openapi.json": {"get": {"summary": "This document", "operationId": "openapi", "security": [],
                                          "responses": {"200": {"description": "OpenAPI 3.1"}}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
                "Accepted": {"type": "object", "required": ["id", "status", "url"], "properties": {
                    "id": {"type": "integer"}, "status": {"type": "string", "enum": ["queued"]},
                    "url": {"type": "string"}}},
                "Assignment": {"type": "object", "required": ["id", "title", "deadline"], "properties": {
                    "id": {"type": "string"}, "title": {"type": "string"}, "version": {"type": "integer"},
                    "published": {"type": "boolean"},
                    "deadline": {"type": ["string", "null"], "format": "date-time",
                                 "description": "Your deadline (an extension if you were granted one)"},
                    "url": {"type": "string"}}},
                "Check": {"type": "object", "required": ["id", "kind", "max_points", "visibility", "code", "message"],
                          "properties": {
                              "id": {"type": "string"}, "kind": {"type": "string"},
                              "max_points": {"type": "number"},
                              "visibility": {"type": "string", "enum": ["visible", "hidden", "after_deadline"]},
                              "passed": {"type": "boolean", "description": "Absent while the check is not shown"},
                              "points": {"type": "number"}, "code": {"type": "string"},
                              "message": {"type": "string"}}},
                "Diagnosis": {"type": "object", "required": ["code", "message"],
                              "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
                "Submission": {"type": "object",
                               "required": ["id", "assignment", "status", "score", "max_score", "checks", "diagnoses"],
                               "properties": {
                                   "id": {"type": "integer"}, "assignment": {"type": "string"},
                                   "filename": {"type": "string"},
                                   "status": {"type": "string", "enum": ["queued", "running", "graded", "failed"]},
                                   "submitted_at": {"type": "string", "format": "date-time"},
                                   "finished_at": {"type": ["string", "null"], "format": "date-time"},
                                   "score": {"type": ["number", "null"],
                                             "description": "Points of the checks open to the caller, the late "
                                                            "penalty taken off"},
                                   "max_score": {"type": ["number", "null"],
                                                 "description": "The open checks' maximum"},
                                   "points_not_shown": {"type": ["number", "null"],
                                                        "description": "The maximum of the checks not open yet "
                                                                       "(hidden, or shown after the deadline)"},
                                   "override": {
                                       "type": ["object", "null"],
                                       "description": "Set when staff replaced the grader's score (`score` is "
                                                      "theirs): their reason, and the grader's own score of the "
                                                      "checks open to the caller",
                                       "properties": {"set_by_staff": {"type": "boolean"},
                                                      "reason": {"type": "string"},
                                                      "graders_score": {"type": "number"},
                                                      "graders_max_score": {"type": "number"},
                                                      "graders_points_not_shown": {"type": "number"}}},
                                   "late_penalty": {"type": "number", "description": "Fraction taken off, 0–1"},
                                   "checks": {"type": "array", "items": {"$ref": "#/components/schemas/Check"}},
                                   "diagnoses": {"type": "array", "items": {"$ref": "#/components/schemas/Diagnosis"}},
                                   "stdout": {"type": "string"}, "error": {"type": ["string", "null"]},
                                   "url": {"type": "string"}, "page": {"type": "string"}}},
            },
        },
    }
