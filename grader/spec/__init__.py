"""Assignment specs: YAML → validated objects; every problem names the file, the line and the field.

The package: `schema` (the pydantic models), `yaml_lines` (safe YAML with each field's line), `data_files`
(CSV data next to the spec), `problems` (SpecError and its records), `semantics` (names), `trial` (the model
tried on its data; the reference trained when a spec enters the grader) and `loading` (the entry points).
"""
from grader.spec.data_files import MAX_CSV_BYTES
from grader.spec.loading import (
    MAX_SPEC_BYTES,
    SPEC_FILENAME,
    bundle_spec,
    bundle_text,
    check_spec,
    find_spec,
    load_spec,
    parse_spec,
    spec_hash,
)
from grader.spec.problems import SpecError, SpecProblem
from grader.spec.schema import (
    FUNCTIONS_IN_EXPRESSIONS,
    PARAM_NAME,
    SLUG,
    AssignmentSpec,
    Check,
    CheckKind,
    Data,
    Functions,
    Late,
    Limits,
    Model,
    Param,
    PredictionInput,
    Probes,
    Training,
)
from grader.spec.yaml_lines import MAX_YAML_DEPTH, MAX_YAML_NODES

__all__ = [
    "FUNCTIONS_IN_EXPRESSIONS", "MAX_CSV_BYTES", "MAX_SPEC_BYTES", "MAX_YAML_DEPTH", "MAX_YAML_NODES", "PARAM_NAME", "SLUG", "SPEC_FILENAME",
    "AssignmentSpec", "Check", "CheckKind", "Data", "Functions", "Late", "Limits", "Model", "Param",
    "PredictionInput", "Probes", "SpecError", "SpecProblem", "Training",
    "bundle_spec", "bundle_text", "check_spec", "find_spec", "load_spec", "parse_spec", "spec_hash",
]
