"""The ways a service reaches a client: in-process (httpx through respx, httpx2), over a loopback
socket, and forwarded to a real Spectron (live mode).
"""
