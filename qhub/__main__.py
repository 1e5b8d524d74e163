"""`python -m qhub`: the command-line interface."""

import logging
import os
import sys

from qhub.cli.main import main

code = main()
# Fast exit: once the output is written, tearing the interpreter down (Pulumi's runtime and the
# SDKs' thousands of classes after `qhub plan`) would only add half a second.
logging.shutdown()
for stream in (sys.stdout, sys.stderr):
    try:
        stream.flush()
    except (BrokenPipeError, OSError):  # a reader that went away (`| head`) is no error of ours
        pass
os._exit(code)
