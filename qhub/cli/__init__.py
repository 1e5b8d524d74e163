"""The qhub command line: init, validate, plan, schema, diff.

argparse rather than typer: `qhub --help` and `qhub validate` must answer within 0.3 s, and
each command imports what it needs (Pulumi only for `plan`) when it runs.
"""
