"""Session-wide test setup."""

# Hypothesis's pytest plugin imports the rest of hypothesis at the terminal summary when no test module has. After the
# Pulumi runs, CPython 3.11's compiler then fails pytest's assertion rewriting of that import ("SystemError: AST
# constructor recursion depth mismatch", seen running tests/harness/test_fidelity.py alone) and the session exits 1
# with every test passed. Importing it here, at collection, keeps that compile before any run.
import hypothesis.internal.reflection  # noqa: F401
