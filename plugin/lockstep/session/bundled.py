"""The check catalog and the demo that ship inside the package (``lockstep.catalog``,
``lockstep.demo``: the repository's ``checks/`` and ``profiles/`` at build time).

``pytest --org-profile demo`` outside any pytest project runs the bundled catalog against the
bundled demo; a project's own ``profiles/demo.yaml`` and ``checks/`` win inside a project.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["catalog_folder", "demo_profile", "use_bundled_demo"]

_PACKAGE = Path(__file__).resolve().parents[1]  # plugin/lockstep/session -> plugin/lockstep
_SOURCE = _PACKAGE.parents[1]  # a source checkout: plugin/lockstep -> the repository


def catalog_folder() -> Path:
    """The bundled check catalog (the repository's ``checks/`` in a source checkout)."""
    shipped = _PACKAGE / "catalog"
    return shipped if shipped.is_dir() else _SOURCE / "checks"


def demo_profile() -> Path:
    """The bundled demo profile, whose ``emulator: demo`` is the folder beside it."""
    shipped = _PACKAGE / "demo" / "demo.yaml"
    return shipped if shipped.is_file() else _SOURCE / "profiles" / "demo.yaml"


def use_bundled_demo(profile: str | None, invocation_dir: Path, args: list[str]) -> bool:
    """For ``--org-profile demo`` in a folder that is no pytest project and has no demo of its
    own: add the bundled catalog to ``args`` (pytest's command line, before it is parsed)."""
    own = any((invocation_dir / "profiles" / f"demo{suffix}").exists() for suffix in (".yaml", ".yml"))
    if profile != "demo" or own or not catalog_folder().is_dir() or not demo_profile().is_file():
        return False
    args.append(str(catalog_folder()))
    return True
