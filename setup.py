"""The one build step pyproject.toml cannot say: the services' build contexts and the rule pages into the wheel.

`services/` stays at the top of the repository (one source of truth; Compose builds from it in a checkout).
A wheel carries a copy as `lab/_services`, made here at build time, so that `lab up` and the pytest
fixtures work from a plain install (lab/home.py finds it). The same for the rule pages: docs/rules/*.md
become `lab/rules/pages` (`lab check --explain`, SARIF's help; lab/check/explain.py). An editable install
reads the checkout instead.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SERVICES = Path(__file__).resolve().parent / "services"
PAGES = Path(__file__).resolve().parent / "docs" / "rules"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


class BuildPyWithServices(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # the checkout's own services/ is used as it is
            return
        if not (SERVICES / "echo" / "Dockerfile").is_file():
            raise SystemExit(f"services/ missing beside setup.py ({SERVICES}): build from a checkout or the sdist")
        target = Path(self.build_lib) / "lab" / "_services"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(SERVICES, target, ignore=IGNORE)
        pages = Path(self.build_lib) / "lab" / "rules" / "pages"
        shutil.rmtree(pages, ignore_errors=True)
        pages.mkdir(parents=True)
        for page in PAGES.glob("*.md"):
            shutil.copy2(page, pages / page.name)


setup(cmdclass={"build_py": BuildPyWithServices})
