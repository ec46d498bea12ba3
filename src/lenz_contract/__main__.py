"""`python -m lenz_contract` is the `lenz-contract` command."""

from .cli import main

main()
