"""The fake's handlers, one module per group of operations; importing one registers its handlers."""
