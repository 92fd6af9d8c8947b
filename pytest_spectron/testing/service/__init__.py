"""The service every transport serves: routing to a backend, the faults, the attempt journal,
the virtual clock, the admin endpoints, and the controls tests use on all of them.
"""
