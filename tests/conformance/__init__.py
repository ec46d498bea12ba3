"""Tests of the conformance suite (`lenz-contract conform`) and the servers it is run against."""
