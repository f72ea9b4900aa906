"""Compiles, in an image's build stage, the bytecode of what the image's service loads: every module of the
Tasklane packages in the venv, and every library module that importing them (and the modules Celery and
gunicorn load by name) brings in. Run with the venv's python: ``.venv/bin/python image_bytecode.py``.

Why not the whole venv: about half of its bytecode belongs to modules no Tasklane process imports (other
databases' dialects, test helpers, integrations for frameworks we do not run), and compiling it all put the
reports image over its 250 MB budget (about 24 MB each). A module left out still works: it is compiled in
memory when first imported, as the root filesystem is read-only. The bytecode is never checked against the
sources at run time (unchecked-hash): the image does not change, and copying the venv into the runtime stage
rounds file times, which timestamp checks would read as stale.
"""

from __future__ import annotations

import compileall
import importlib
import importlib.util
import os
import pkgutil
import py_compile
import sys

# Loaded by name at run time rather than imported by Tasklane's modules; absent ones belong to other images.
LOADED_BY_NAME = (
    "celery.bin.celery",
    "celery.apps.worker",
    "celery.apps.beat",
    "celery.concurrency.prefork",
    "celery.backends.redis",
    "celery.worker.consumer",
    "kombu.transport.redis",
    "redbeat.schedulers",
    "gunicorn.app.wsgiapp",
    "gunicorn.arbiter",
    "uvicorn_worker",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.lifespan.on",
)
UNCHECKED = py_compile.PycInvalidationMode.UNCHECKED_HASH


def tasklane_packages(site_packages: str) -> list[str]:
    return sorted(
        module.name
        for module in pkgutil.iter_modules([site_packages])
        if module.ispkg and module.name.startswith("tasklane")
    )


def import_everything(packages: list[str]) -> None:
    # The service's own package first: its app module boots the worker runtime that hosted task modules
    # (tasklane_maintenance's) register with.
    services = [name for name in packages if importlib.util.find_spec(f"{name}.__main__")]
    for name in [*services, *(name for name in packages if name not in services)]:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            # Alembic loads migration scripts from their files; __main__ modules run their service.
            if ".migrations" not in module.name and not module.name.endswith(".__main__"):
                importlib.import_module(module.name)
    for name in LOADED_BY_NAME:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as missing:
            if missing.name != name.partition(".")[0]:  # installed, but broken
                raise


def main() -> None:
    core = importlib.util.find_spec("tasklane")
    if core is None or not core.submodule_search_locations:
        sys.exit("image_bytecode: tasklane is not installed in this interpreter's environment")
    site_packages = os.path.dirname(core.submodule_search_locations[0])
    packages = tasklane_packages(site_packages)
    # Importing a service's modules builds its settings; the defaults are enough to import them.
    os.environ.setdefault("TASKLANE_ENVIRONMENT", "development")
    import_everything(packages)
    for name in packages:
        folder = os.path.join(site_packages, name)
        if not compileall.compile_dir(folder, quiet=1, invalidation_mode=UNCHECKED):
            sys.exit(f"image_bytecode: {name} did not compile")
    libraries = {
        module.__file__
        for module in list(sys.modules.values())
        if getattr(module, "__file__", None)
        and module.__file__.endswith(".py")
        and module.__file__.startswith(site_packages)
    }
    for path in sorted(libraries):
        py_compile.compile(path, doraise=True, invalidation_mode=UNCHECKED)
    print(f"image_bytecode: {', '.join(packages)} and {len(libraries)} library modules compiled")


if __name__ == "__main__":
    main()
