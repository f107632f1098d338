"""Write each API operation once, get it blocking on ``pyWATS`` and awaitable on ``AsyncWATS``.

A domain class (``ReportDomain``, ``AppDomain``…) defines its operations as ordinary methods that
*build* a :class:`~pywats._call.Call` or a :data:`~pywats._call.Flow` and decorates them with
:class:`operation`. Looked up on ``ReportDomain[Sync]`` the operation runs the call and returns the
result; on ``ReportDomain[Async]`` it returns a coroutine. Type checkers see both signatures (the
descriptor's ``__get__`` is overloaded on the mode), so users get full hints either way.

At run time the operations present themselves as what the caller gets, for ``help()``,
``inspect.signature`` and editors that ask the interpreter: on an instance, a function named after
the operation, without ``self``, returning the call's result (``-> list[ReportHeader]``, not
``-> Call[list[ReportHeader]]``), an ``async def`` on ``AsyncWATS``; on the class, a method
(``help(ReportDomain)`` lists ``query_headers(self, filter…)``), callable as one:
``ReportDomain.query_headers(api.report, …)``.
"""

from __future__ import annotations

import collections.abc
import inspect
import re
import types
from collections.abc import Callable, Coroutine
from typing import (
    Any,
    Concatenate,
    Generic,
    ParamSpec,
    TypeVar,
    cast,
    get_args,
    get_origin,
    overload,
)

from pywats._call import Call, Flow
from pywats._client import AsyncClient, Client
from pywats._deprecated import warn_renamed
from pywats._errors import InvalidArgumentError, PyWATSError

__all__ = ["Async", "Domain", "Sync", "deprecated", "operation"]

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


class _Source(str):
    """An annotation as its module wrote it, shown without quotes (``-> list[ReportHeader]``).

    The domain modules use ``from __future__ import annotations``, so annotations are text;
    ``inspect`` would print that text quoted. It stays text (``typing.get_type_hints`` on a bound
    operation still resolves it, in the operation's module).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


_RUN_RESULT = re.compile(r"\s*(?:Call|Flow)\[(?P<result>.*)\]\s*", re.DOTALL)


def _result_of(annotation: Any) -> Any:
    """What running a call or flow gives: ``X`` for ``Call[X]`` or ``Flow[X]``."""
    if isinstance(annotation, str):
        found = _RUN_RESULT.fullmatch(annotation)
        return found.group("result") if found else annotation
    args = get_args(annotation)
    if get_origin(annotation) is Call and len(args) == 1:
        return args[0]
    if get_origin(annotation) is collections.abc.Generator and len(args) == 3:
        return args[2]  # Flow[X] is Generator[Call[Any], Any, X]
    return annotation


def _shown(annotation: Any) -> Any:
    return _Source(annotation) if isinstance(annotation, str) else annotation


def _signatures(build: Callable[..., Any]) -> tuple[inspect.Signature, inspect.Signature]:
    """The signature on the class (with ``self``) and on an instance (without), both returning
    the result of the call rather than the call."""
    built = inspect.signature(build)
    params = [p.replace(annotation=_shown(p.annotation)) for p in built.parameters.values()]
    result = _shown(_result_of(built.return_annotation))
    method = built.replace(parameters=params, return_annotation=result)
    return method, method.replace(parameters=params[1:])


def _present(
    fn: Callable[..., Any],
    *,
    name: str,
    qualname: str,
    build: Callable[..., Any],
    signature: inspect.Signature,
) -> None:
    """Make ``fn`` introduce itself as the operation: name, docstring, signature, annotations."""
    target = cast(types.FunctionType, fn)
    target.__name__ = name
    target.__qualname__ = qualname
    target.__module__ = build.__module__
    target.__doc__ = build.__doc__
    target.__annotations__ = {
        p.name: str(p.annotation) if isinstance(p.annotation, str) else p.annotation
        for p in signature.parameters.values()
        if p.annotation is not inspect.Parameter.empty
    }
    if signature.return_annotation is not inspect.Signature.empty:
        ret = signature.return_annotation
        target.__annotations__["return"] = str(ret) if isinstance(ret, str) else ret
    # __signature__ is what inspect (and pydoc) show; __wrapped__ lets typing.get_type_hints
    # resolve the annotation text in the operation's own module.
    target.__dict__["__signature__"] = signature
    target.__dict__["__wrapped__"] = build


class operation(Generic[P, T]):
    """Decorator turning a call-building method into a runnable operation.

    ``replaced_by`` marks an old name kept for scripts written against the predecessor (see
    :func:`deprecated`): calling it warns once, naming what to use instead.
    """

    def __init__(
        self,
        build: Callable[Concatenate[Any, P], Call[T] | Flow[T]],
        *,
        replaced_by: str | None = None,
    ) -> None:
        self._build = build
        self.replaced_by = replaced_by
        self._name = build.__name__
        self._signatures: tuple[inspect.Signature, inspect.Signature] | None = None
        # What help() and inspect read on the class (ReportDomain.query_headers).
        self.__name__ = build.__name__
        self.__qualname__ = build.__qualname__
        self.__module__ = build.__module__
        self.__doc__ = build.__doc__
        self.__wrapped__ = build

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = self.__name__ = name
        self.__qualname__ = f"{owner.__qualname__}.{name}"

    @property
    def __signature__(self) -> inspect.Signature:
        """The method's signature on the class: ``self`` first, the call's result returned."""
        return self._caller_signatures()[0]

    def _caller_signatures(self) -> tuple[inspect.Signature, inspect.Signature]:
        if self._signatures is None:  # once per operation, on first use: import stays cheap
            self._signatures = _signatures(self._build)
        return self._signatures

    def calls(self, domain: Domain[Any], *args: P.args, **kwargs: P.kwargs) -> Call[T] | Flow[T]:
        """Return the call or flow the operation would run, without running it."""
        return self._build(domain, *args, **kwargs)

    def __call__(self, domain: Domain[Any], /, *args: P.args, **kwargs: P.kwargs) -> Any:
        """Run the operation on ``domain``, as an unbound method runs on its instance."""
        bound = domain.__dict__.get(self._name) or self._bind(domain)
        return bound(*args, **kwargs)

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
        return self._bind(obj)

    def _bind(self, obj: Domain[Any]) -> Callable[..., Any]:
        """The operation run by ``obj``'s client, cached on ``obj``."""
        build = self._build
        client = obj._client
        name = f"{type(obj).__name__.removesuffix('Domain').lower()}.{self._name}"
        bound: Callable[..., Any]
        if self.replaced_by is not None:
            build = self._warning(obj)
        if isinstance(client, Client):
            run = client.run

            def bound(*args: Any, **kwargs: Any) -> Any:
                try:
                    built = build(obj, *args, **kwargs)
                except _ARGUMENT_ERRORS as exc:
                    raise bad_arguments(name, exc) from exc
                return run(built)

        else:
            arun = client.run

            async def bound(*args: Any, **kwargs: Any) -> Any:
                try:
                    built = build(obj, *args, **kwargs)
                except _ARGUMENT_ERRORS as exc:
                    raise bad_arguments(name, exc) from exc
                return await arun(built)

        _present(
            bound,
            name=self._name,
            qualname=f"{type(obj).__qualname__}.{self._name}",
            build=self._build,
            signature=self._caller_signatures()[1],
        )
        # Cache on the instance: later look-ups skip the descriptor entirely.
        obj.__dict__[self._name] = bound
        return bound

    def _warning(self, obj: Domain[Any]) -> Callable[..., Any]:
        """The builder of a deprecated name, warning (once) before it builds the call."""
        build = self._build
        # ReportDomain -> api.report: the name as the script wrote it.
        domain = type(obj).__name__.removesuffix("Domain").lower()
        old, new = f"api.{domain}.{self._name}()", f"api.{domain}.{self.replaced_by}"

        def warned(*args: Any, **kwargs: Any) -> Any:
            # Frames: warn_renamed <- warned <- bound <- the script's line.
            warn_renamed(old, new, stacklevel=3, note="see docs/migrating.md")
            return build(*args, **kwargs)

        return warned


_ARGUMENT_ERRORS = (TypeError, ValueError, AttributeError, OverflowError)
"""What building a call raises on arguments of the wrong kind (building does no I/O)."""


def bad_arguments(operation: str, error: BaseException) -> BaseException:
    """``error``, raised while building ``operation``'s call, as the caller should see it: a
    pywats error stays itself; a wrong number of arguments stays Python's ``TypeError`` (as
    for any function); anything else (``'int' object has no attribute 'casefold'``, a value
    msgspec cannot encode) is an :class:`~pywats.InvalidArgumentError` naming the operation.
    """
    if isinstance(error, PyWATSError):
        return error
    trace = error.__traceback__
    if isinstance(error, TypeError) and trace is not None and trace.tb_next is None:
        return error  # raised by the call itself: the arguments did not bind
    return InvalidArgumentError(f"{operation}: invalid argument: {error}")


def deprecated(
    use: str,
) -> Callable[[Callable[Concatenate[Any, P], Call[T] | Flow[T]]], operation[P, T]]:
    """Decorator for an operation kept under the predecessor's name.

    Args:
        use: what to write instead, after ``api.<domain>.`` (``query_headers(F.report_type ==
            'T')``).
    """

    def make(build: Callable[Concatenate[Any, P], Call[T] | Flow[T]]) -> operation[P, T]:
        return operation(build, replaced_by=use)

    return make
