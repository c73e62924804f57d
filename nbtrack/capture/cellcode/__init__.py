"""What a cell's code says about its run, read statically with :mod:`ast` — never by tracing it.

``%%track`` hands :func:`analyse` the cell body after IPython's input transformation (``%magics`` and
``!shell`` lines are plain calls by then) and gets back a :class:`CellAnalysis`:

``literal_params``
    Names that top-level statements assign a *literal* (``lr = 1e-3``, ``epochs: int = 5``,
    ``a, b = 1, 2``, ``a = b = 3``, ``n = 2**10``, ``layers = [64, 32]``), name -> value, in first-seen
    order; a later top-level literal assignment wins, and any other later binding at module level
    (``lr = lr * 2``, ``lr *= 0.9`` in a loop, ``if c: lr = 0.5``, ``for lr in ...``, ``del lr``) drops
    the name: its final value may not be what was written (``loss = 0.0`` before a training loop is a
    metric, not a param). Assignments inside ``if``/``for``/``with``/``def``... are never params.
    :func:`literal_value` says what a literal is.
``literal_sites``
    How many top-level literal assignments each name has: what ``--sweep`` can rewrite (this keeps
    ``lr`` of ``lr = 0.1; lr = lr * 2``, which is swept by rewriting ``0.1``).
``reads``
    Names read before the cell bound them, in source order (loops: the first iteration; ``if``/``else``
    branches and ``match`` cases do not see each other's bindings): candidates for params taken from the
    namespace. Bodies of ``def``/``lambda``/``class`` are not walked (they run later or in their own
    scope); decorators, defaults, annotations, bases are. Comprehension targets stay local. Builtins are
    not filtered: the caller keeps only what is in the user's namespace.
``bound``
    Every name the cell may bind at module level, wherever it is (assignments, ``for``/``with``/
    ``except`` targets, imports, ``def``/``class``, walrus — also inside comprehensions —, ``match``
    captures); not names local to functions, lambdas, comprehensions or classes; ``from m import *``
    and ``del`` bind nothing.
``unconditional``
    Names certainly bound when the cell completes: bindings by top-level statements, ``with`` bodies
    and ``finally`` blocks, minus names a later ``del`` or ``except ... as`` may have unbound.
``last_expr`` / ``last_expr_name`` / ``last_expr_ends_with_semicolon``
    The source of the last statement if it is an expression (the value a cell shows; a metric name such
    as ``model.score(X)``), its name if it is a bare name (``acc``), and whether the cell ends with
    ``;`` (IPython then shows nothing; the syntax tree is the same either way).

Sweeps: :func:`parse_sweep` turns ``lr=1e-3,1e-2`` into ``("lr", [0.001, 0.01])`` (items that are
not literals, like ``adam``, become strings), and :func:`rewrite_literals` returns the cell with each
top-level literal assignment of the swept names set to new values, every other byte unchanged
(``a = b = 3`` swept on ``a`` becomes ``a = 5; b = 3``). :func:`literal_source` spells a value so
that it reads back as a literal (``float('nan')`` for NaN). :class:`SweepError` says what is wrong in
a user's words.

Only :class:`SyntaxError` ever escapes :func:`analyse`: code too deeply nested for CPython's parser
counts as one, while code that parses but that the compiler rejects (``return`` outside a function)
is analysed and fails when it runs. Modules: :mod:`.literals` (what a literal is, evaluated safely),
:mod:`.names` (reads and bindings), :mod:`.analysis` (:func:`analyse`), :mod:`.sweeps`.
"""

from nbtrack.capture.cellcode.analysis import CellAnalysis, analyse
from nbtrack.capture.cellcode.literals import literal_value
from nbtrack.capture.cellcode.sweeps import SweepError, literal_source, parse_sweep, rewrite_literals

__all__ = [
    "CellAnalysis",
    "SweepError",
    "analyse",
    "literal_source",
    "literal_value",
    "parse_sweep",
    "rewrite_literals",
]
