"""Write each API operation once, get it blocking on ``pyWATS`` and awaitable on ``AsyncWATS``.

A domain class (``ReportDomain``, ``AppDomain``…) defines its operations as ordinary methods that
*build* a :class:`~pywats._call.Call` or a :data:`~pywats._call.Flow` and decorates them with
:class:`operation`. Looked up on ``ReportDomain[Sync]`` the operation runs the call and returns the
result; on ``ReportDomain[Async]`` it returns a coroutine. Type checkers see both signatures (the
descriptor's ``__get__`` is overloaded on the mode), so users get full hints either way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from pywats._call import Call, Flow
from pywats._client import AsyncClient, Client

__all__ = ["Async", "Domain", "Sync", "operation"]

P = ParamSpec("P")
T = TypeVar("T")


class Sync:
    """Mode marker: operations block and return results."""


class Async:
    """Mode marker: operations return coroutines."""


ModeT = TypeVar("ModeT", Sync, Async)


class Domain(Generic[ModeT]):
    """Base of the API domains (``api.report``, ``api.app``, …)."""

    def __init__(self, client: Client | AsyncClient) -> None:
        self._client = client


class operation(Generic[P, T]):
    """Decorator turning a call-building method into a runnable operation."""

    def __init__(self, build: Callable[Concatenate[Any, P], Call[T] | Flow[T]]) -> None:
        self._build = build
        self._name = build.__name__
        self.__doc__ = build.__doc__
        self.__wrapped__ = build

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def calls(self, domain: Domain[Any], *args: P.args, **kwargs: P.kwargs) -> Call[T] | Flow[T]:
        """Return the call or flow the operation would run, without running it."""
        return self._build(domain, *args, **kwargs)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> operation[P, T]: ...

    @overload
    def __get__(self, obj: Domain[Sync], owner: type[Any]) -> Callable[P, T]: ...

    @overload
    def __get__(
        self, obj: Domain[Async], owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...

    def __get__(self, obj: Domain[Any] | None, owner: type[Any]) -> Any:
        if obj is None:
            return self
        build = self._build
        client = obj._client
        bound: Callable[..., Any]
        if isinstance(client, Client):
            run = client.run

            def bound(*args: Any, **kwargs: Any) -> Any:
                return run(build(obj, *args, **kwargs))

        else:
            arun = client.run

            async def bound(*args: Any, **kwargs: Any) -> Any:
                return await arun(build(obj, *args, **kwargs))

        functools.update_wrapper(bound, build)
        # Cache on the instance: later look-ups skip the descriptor entirely.
        obj.__dict__[self._name] = bound
        return bound
