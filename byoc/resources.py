"""Where the C sources shipped with byoc live (kernels_c/, fvp/, cmake/).

In a source checkout they are the top-level directories of the repository; in an installed
package (``pip install .``) they are copied into ``byoc/data/<name>``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Absolute path of the shipped directory ``name`` ("kernels_c", "fvp" or "cmake")."""
    checkout = _PACKAGE.parent / name
    if (_PACKAGE.parent / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    installed = _PACKAGE / "data" / name
    if installed.is_dir():
        return installed
    raise FileNotFoundError(f"byoc data directory '{name}' not found (broken installation?)")
