"""`leakhunt migrate`: move secrets found in Python code into AWS Secrets Manager.

The data flows plan -> store (boto3) -> rewrite (libcst) -> evidence. The plan has no side
effects; applying it stores each secret, reads it back, enables rotation and only then
rewrites the code that held it. boto3 and libcst come from the `migrate` extra and are
imported only inside this package.
"""
