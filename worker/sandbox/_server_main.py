"""Entry script of the fork server: loads this directory as a private package and runs server.main().

The package is registered under its own name, without running worker/__init__.py or
worker/sandbox/__init__.py, so the fork server imports the harness, stdlib and this directory only.
"""
import importlib
import os
import sys
import types

PACKAGE = "bpg_sandbox"

if __name__ == "__main__":
    package = types.ModuleType(PACKAGE)
    package.__path__ = [os.path.dirname(os.path.abspath(__file__))]
    sys.modules[PACKAGE] = package
    sys.exit(importlib.import_module(f"{PACKAGE}.server").main(sys.argv[1:]))
