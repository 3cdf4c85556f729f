"""covcore's plugin manager: built-in plugins, entry-point plugins, blocking.

:func:`get_plugin_manager` returns the process's
:class:`pluggy.PluginManager` for the hooks of :mod:`covcore.hookspecs`,
made on first use (reporting, combining, ``covcore debug sys``, a measured
session; never at a measured process's start-up).  It holds, in order:

1. covcore's built-in plugins (:mod:`covcore.builtin_plugins`), registered
   under names starting ``covcore.``;
2. the plugins of every installed distribution's ``covcore`` entry points
   (``[project.entry-points.covcore] NAME = "module"``), registered under
   the entry point's name;
3. the modules named in ``[run] plugins`` (coverage.py's option), imported
   and registered under their module name when a configuration is given to
   :func:`configure`.

``COVCORE_DISABLED_PLUGINS`` (a comma-separated list of plugin names; built-in
names too) blocks plugins: a blocked plugin is never imported.  Blocking
``covcore.reporters`` leaves only plugins' reporters.
"""

from __future__ import annotations

import importlib
import os
import threading
from typing import TYPE_CHECKING, Any

import pluggy

from covcore import hookspecs
from covcore.errors import ConfigError

if TYPE_CHECKING:
    from covcore.config import CovcoreConfig

#: The environment variable listing plugin names not to load.
ENV_DISABLED = "COVCORE_DISABLED_PLUGINS"

_PM: pluggy.PluginManager | None = None
#: Where each entry-point plugin came from: name -> "distribution version".
_ORIGINS: dict[str, str] = {}
_LOCK = threading.RLock()


def disabled_plugins() -> list[str]:
    """The plugin names blocked by ``COVCORE_DISABLED_PLUGINS``."""
    return [name.strip() for name in os.environ.get(ENV_DISABLED, "").split(",") if name.strip()]


def make_plugin_manager(load_entry_points: bool = True) -> pluggy.PluginManager:
    """A new plugin manager with covcore's hook specs, its built-in plugins
    and (``load_entry_points``) the ``covcore`` entry-point plugins, minus
    those blocked by ``COVCORE_DISABLED_PLUGINS``.

    :raises ConfigError: an entry-point plugin fails to import (names it).
    """
    from covcore import builtin_plugins

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in disabled_plugins():
        pm.set_blocked(name)
    for name, plugin in builtin_plugins.PLUGINS:
        if not pm.is_blocked(name):
            pm.register(plugin, name=name)
    if load_entry_points:
        _load_entry_points(pm)
    return pm


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    # pluggy's load_setuptools_entrypoints would import a blocked plugin's
    # module before finding it blocked; this checks the name first and says
    # which plugin failed to import.
    from importlib import metadata

    seen: set[str] = set()
    for dist in metadata.distributions():
        for ep in dist.entry_points:
            if ep.group != hookspecs.PROJECT or ep.name in seen:
                continue
            seen.add(ep.name)
            if pm.is_blocked(ep.name) or pm.get_plugin(ep.name) is not None:
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 - any import failure is the plugin's
                raise ConfigError(
                    f"Couldn't load covcore plugin {ep.name!r} ({ep.value}) from "
                    f"{dist.metadata['Name']} {dist.version}: {type(exc).__name__}: {exc}"
                ) from exc
            pm.register(plugin, name=ep.name)
            _ORIGINS[ep.name] = f"{dist.metadata['Name']} {dist.version}"


def get_plugin_manager() -> pluggy.PluginManager:
    """The process's plugin manager (made on first call; see the module doc)."""
    global _PM
    with _LOCK:
        if _PM is None:
            _PM = make_plugin_manager()
        return _PM


def reset_plugin_manager() -> None:
    """Forget the process's plugin manager and reporter registry (tests,
    and after changing ``COVCORE_DISABLED_PLUGINS``)."""
    global _PM
    from covcore.reporting import registry

    with _LOCK:
        _PM = None
        registry._DEFAULT = None


def configure(config: CovcoreConfig) -> pluggy.PluginManager:
    """Register the ``[run] plugins`` modules of ``config`` and call
    :func:`covcore.hookspecs.covcore_configure` with it.

    :raises ConfigError: a ``[run] plugins`` module can't be imported.
    """
    pm = get_plugin_manager()
    with _LOCK:
        for module_name in config.plugins or []:
            if pm.is_blocked(module_name) or pm.get_plugin(module_name) is not None:
                continue
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:  # noqa: BLE001
                raise ConfigError(f"Couldn't import plugin module {module_name!r} ([run] plugins): {exc}") from exc
            pm.register(module, name=module_name)
    pm.hook.covcore_configure.call_historic(kwargs=dict(config=config))
    return pm


def plugin_descriptions(pm: pluggy.PluginManager | None = None) -> list[str]:
    """One line per registered plugin, ``name (where it comes from)``, for
    ``covcore debug sys``; blocked names are listed as ``name (blocked)``."""
    pm = pm or get_plugin_manager()
    lines = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            lines.append(f"{name} (blocked)")
            continue
        if name in _ORIGINS:
            origin = f"entry point of {_ORIGINS[name]}"
        elif name.startswith("covcore."):
            origin = "built in"
        else:
            origin = "[run] plugins"
        lines.append(f"{name} ({_module_name(plugin)}, {origin})")
    return lines


def _module_name(plugin: Any) -> str:
    return getattr(plugin, "__name__", None) or type(plugin).__module__
