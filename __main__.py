"""The Pulumi program: this stack's QHub file in, the whole platform out."""

from qhub.program import main

main()
