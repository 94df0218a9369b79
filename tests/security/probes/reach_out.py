"""In the container: reach the gateway through its socket, then try everything else a step must not reach.

Run as `python3 - SOCKET TOKEN TARGETS_JSON < reach_out.py`. SOCKET is the gateway's socket path the agent
was given (WAVE_SANDBOX_GATEWAY_SOCKET), TOKEN the step token. TARGETS_JSON: {"tcp": [[host, port]...],
"udp": [[host, port]...], "dns": [[server, name]...], "unix": [path or "@abstract name"...]}.

The gateway is asked twice, with the token and without: an answer to each, 401 only without the token, is
the control that shows the probe reaches its own gateway and can tell. Then the socket and its folder are
attacked (replaced, unlinked, chmod-ed, planted next to), and the network, routes and DNS are tried.
Prints one JSON object {probe: outcome}.
"""

import errno
import glob
import http.client
import json
import os
import random
import socket
import stat
import struct
import sys
import threading

TIMEOUT_S = 2.0
socket_path, token, targets = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
folder = os.path.dirname(socket_path)
results = {}


def outcome(error):
    return errno.errorcode.get(error.errno, type(error).__name__) if error.errno else f"{type(error).__name__}: {error}"


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("wave-sandbox-gateway", timeout=30)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def ask_gateway(with_token):
    headers = {"content-type": "application/json", "anthropic-version": "2023-06-01"}
    if with_token:
        headers["x-api-key"] = token
    connection = UnixConnection(socket_path)
    try:
        # Without a token the gateway answers from the head and closes: a body sent after it would meet EPIPE.
        connection.request("POST", "/v1/messages", body=b"{}" if with_token else None, headers=headers)
        response = connection.getresponse()
        message = json.loads(response.read() or b"{}").get("error", {}).get("message", "")
        return f"answered {response.status} {message[:120]}"
    except OSError as error:
        return f"no answer: {outcome(error)}"
    finally:
        connection.close()


def tcp(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    connection = socket.socket(family, socket.SOCK_STREAM)
    connection.settimeout(TIMEOUT_S)
    try:
        connection.connect((host, int(port)))
        return "connected"
    except OSError as error:
        return outcome(error)
    finally:
        connection.close()


def udp(host, port):
    datagram = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _ in range(3):
            datagram.sendto(b"exfiltrated by the agent", (host, int(port)))
        return "sent"
    except OSError as error:
        return outcome(error)


def unix(address):
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(TIMEOUT_S)
    try:
        connection.connect("\0" + address[1:] if address.startswith("@") else address)
        return "connected"
    except OSError as error:
        return outcome(error)
    finally:
        connection.close()


def dns_query(server, name):
    header = struct.pack(">HHHHHH", random.randint(0, 65535), 0x0100, 1, 0, 0, 0)
    question = b"".join(bytes([len(part)]) + part.encode() for part in name.split(".")) + b"\0"
    datagram = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    datagram.settimeout(TIMEOUT_S)
    try:
        datagram.sendto(header + question + struct.pack(">HH", 1, 1), (server, 53))
        answer, _ = datagram.recvfrom(512)
    except OSError as error:
        return f"no answer ({outcome(error)})"
    rcode, answers = struct.unpack(">H", answer[2:4])[0] & 15, struct.unpack(">H", answer[6:8])[0]
    return f"answered rcode={rcode} answers={answers}"


def resolve(name):
    try:
        return "resolved " + ",".join(sorted({entry[4][0] for entry in socket.getaddrinfo(name, 80)}))
    except OSError as error:
        return f"{type(error).__name__}: {error}"


def route_to(host):
    """Whether the kernel has a route to ``host`` (a UDP connect sends nothing, it only looks one up)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    datagram = socket.socket(family, socket.SOCK_DGRAM)
    try:
        datagram.connect((host, 53))
        return "routed"
    except OSError as error:
        return outcome(error)
    finally:
        datagram.close()


def routes():
    """The routing tables' entries for any interface but loopback."""
    found = []
    for table in ("/proc/net/route", "/proc/net/ipv6_route"):
        try:
            lines = open(table).read().splitlines()
        except OSError as error:
            found.append(f"{table}: {outcome(error)}")
            continue
        if table.endswith("/route"):
            found += [line for line in lines[1:] if line.split() and line.split()[0] != "lo"]
        else:
            found += [line for line in lines if line.split() and line.split()[-1] != "lo"]
    return found


def attempt(action):
    try:
        action()
        return "done"
    except OSError as error:
        return outcome(error)


def plant_a_socket(path):
    planted = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        planted.bind(path)
    finally:
        planted.close()


def socket_and_folder():
    """The socket's owner and mode, the folder's mount, and every way to replace the socket or plant beside it."""
    facts = {"uid": os.getuid()}
    try:
        status = os.stat(socket_path)
        facts["socket"] = {"is_socket": stat.S_ISSOCK(status.st_mode), "mode": oct(stat.S_IMODE(status.st_mode)),
                           "uid": status.st_uid}  # fmt: skip
    except OSError as error:
        facts["socket"] = outcome(error)
    mounts = [line.split() for line in open("/proc/mounts").read().splitlines()]
    facts["folder_mount"] = next((fields[3] for fields in mounts if fields[1] == folder), None)
    facts["attacks"] = {
        "unlink": attempt(lambda: os.unlink(socket_path)),
        "rename": attempt(lambda: os.rename(socket_path, folder + "/moved.sock")),
        "chmod": attempt(lambda: os.chmod(socket_path, 0o666)),
        "plant file": attempt(lambda: open(folder + "/planted", "w").close()),
        "mkdir": attempt(lambda: os.mkdir(folder + "/planted-dir")),
        "symlink": attempt(lambda: os.symlink("/tmp", folder + "/planted-link")),
        "plant socket": attempt(lambda: plant_a_socket(folder + "/planted.sock")),
        "chmod folder": attempt(lambda: os.chmod(folder, 0o777)),
        "list folder": attempt(lambda: os.listdir(folder)),
    }
    facts["still_a_socket"] = os.path.exists(socket_path) and stat.S_ISSOCK(os.stat(socket_path).st_mode)
    facts["visible_gateway_folders"] = sorted(glob.glob("/*/wave-sandbox-gateway-*") +
                                              glob.glob("/*/*/wave-sandbox-gateway-*"))
    return facts


probes = {f"tcp {h}:{p}": (tcp, h, p) for h, p in targets["tcp"]}
probes.update({f"udp {h}:{p}": (udp, h, p) for h, p in targets["udp"]})
probes.update({f"unix {address}": (unix, address) for address in targets["unix"]})
probes.update({f"dns {server} {name}": (dns_query, server, name) for server, name in targets["dns"]})
probes.update({f"route {host}": (route_to, host) for host in ("8.8.8.8", "169.254.169.254", "2001:4860:4860::8888")})
probes["resolve example.com"] = (resolve, "example.com")


def run(key, function, *arguments):
    results[key] = function(*arguments)


# The gateway first: its answers are the control, taken before the socket is attacked.
results["gateway with token"] = ask_gateway(with_token=True)
results["gateway without token"] = ask_gateway(with_token=False)
results["interfaces"] = sorted(name for _, name in socket.if_nameindex())
results["routes"] = routes()
threads = [threading.Thread(target=run, args=(key, *probe), daemon=True) for key, probe in probes.items()]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(3 * TIMEOUT_S)  # the system resolver may retry for longer; its silence is the answer
for key in probes:
    results.setdefault(key, f"no outcome within {3 * TIMEOUT_S:g} s")
results["socket and folder"] = socket_and_folder()
results["gateway after the attacks"] = ask_gateway(with_token=True)
print(json.dumps(results, indent=1, sort_keys=True))
