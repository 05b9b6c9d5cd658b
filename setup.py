"""Build hook: the wheel carries the reference frontend (examples/frontend) as api/static/frontend.

Everything else about the package is declared in pyproject.toml. A checkout serves the frontend
straight from examples/frontend (api/frontend.py looks in both places).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

FRONTEND = Path(__file__).resolve().parent / "examples" / "frontend"


class BuildPyWithFrontend(build_py):
    def run(self) -> None:
        super().run()
        if not (FRONTEND / "index.html").is_file():
            raise SystemExit(f"the reference frontend is missing at {FRONTEND}")
        target = Path(self.build_lib) / "api" / "static" / "frontend"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(FRONTEND, target, ignore=shutil.ignore_patterns("*.md"))


setup(cmdclass={"build_py": BuildPyWithFrontend})
