"""IPython startup file for `make test`: the notebooks may not reach the network.

`make test` copies this file into a private IPython profile (IPYTHONDIR under .venv) before
nbval starts the kernels. Connections to loopback (the kernel's own channels) and to Unix
sockets stay allowed; any other address, and resolving any other host name, raise.
"""

import ipaddress
import socket


def _is_local(host) -> bool:
    if not isinstance(host, str):
        return True                      # Unix sockets and other non-IP families
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what):
    raise ConnectionRefusedError(f"network access is blocked while the notebooks are tested: {what}")


def _guard(method):
    def guarded(self, address, *args):
        host = address[0] if isinstance(address, tuple) else address
        if not _is_local(host):
            _refuse(address)
        return method(self, address, *args)
    return guarded


_getaddrinfo = socket.getaddrinfo


def _getaddrinfo_local(host, *args, **kwargs):
    if host is not None and not _is_local(host if isinstance(host, str) else host.decode()):
        raise socket.gaierror(f"name resolution is blocked while the notebooks are tested: {host}")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guard(socket.socket.connect)
socket.socket.connect_ex = _guard(socket.socket.connect_ex)
socket.getaddrinfo = _getaddrinfo_local
