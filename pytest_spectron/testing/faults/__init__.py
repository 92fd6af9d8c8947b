"""Faults: the outcomes an attempt can get, their one grammar and builder, the engine that applies
them, the answers they give, and the status matrix of what the policy does with each.
"""
