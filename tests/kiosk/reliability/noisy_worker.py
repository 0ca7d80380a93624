"""A stand-in kiosk process for the harness's own test: `ready`, then, when told to exit, a lot of stderr and a
logged traceback on its way out (what the harness must not lose when it closes the pipes)."""

from __future__ import annotations

import logging
import sys

if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "exit":
            break
    sys.stderr.write("".join(f"INFO noise: line {n}\n" for n in range(int(sys.argv[1]))))  # one write: the
    # pipe is still full when the process has gone
    try:
        raise KeyError("the last words")
    except KeyError:
        logging.getLogger("noisy").exception("closing failed")
