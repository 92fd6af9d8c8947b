"""What passes between a transport and the service: exchanges, routes, problem answers, uploads.

The vocabulary every other part of the testing side speaks; it imports only the client.
"""
