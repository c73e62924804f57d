"""One workload in a fresh interpreter: ``python child.py MODULE WORKLOAD ARGS_JSON``.

Run by ``run.py`` with the peer's own virtualenv Python, in a working directory holding that peer's
store; imports ``MODULE`` (``peer_<name>.py`` or ``refs.py``, beside this file), calls
``WORKLOAD(**ARGS)`` (``make_runs`` is shared: it calls the module's ``one_run``) and prints its
result as one JSON line (the last line of stdout: peers may print their own chatter before it).
"""

from __future__ import annotations

import importlib
import json
import sys


def main() -> None:
    name, workload, args = sys.argv[1:4]
    module = importlib.import_module(name)
    if workload == "make_runs":
        from workload import make_runs

        result = make_runs(module.one_run, **json.loads(args))
    else:
        result = getattr(module, workload)(**json.loads(args))
    sys.stdout.flush()
    print("\n" + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
