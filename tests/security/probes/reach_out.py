"""In the container: try to reach the host, the cloud metadata address, the outside world and DNS.

Run as `python3 - BASE_URL TARGETS_JSON < reach_out.py`. TARGETS_JSON: {"tcp": [[host, port]...],
"udp": [[host, port]...], "dns": [[server, name]...]}; the gateway's own address and port (from
BASE_URL) are always tried too, as the control that shows the probe can connect where it may.
Prints one JSON object {probe: outcome}.
"""

import json
import random
import socket
import struct
import sys
import threading

TIMEOUT_S = 2.0
base_url, targets = sys.argv[1], json.loads(sys.argv[2])
gateway_host, gateway_port = base_url.split("//", 1)[1].rstrip("/").rsplit(":", 1)
results = {}


def tcp(host, port):
    connection = socket.socket()
    connection.settimeout(TIMEOUT_S)
    try:
        connection.connect((host, int(port)))
        return "connected"
    except OSError as error:
        return f"{type(error).__name__}: {error}"
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
        return f"no answer ({type(error).__name__}: {error})"
    rcode, answers = struct.unpack(">H", answer[2:4])[0] & 15, struct.unpack(">H", answer[6:8])[0]
    return f"answered rcode={rcode} answers={answers}"


def resolve(name):
    try:
        return "resolved " + ",".join(sorted({entry[4][0] for entry in socket.getaddrinfo(name, 80)}))
    except OSError as error:
        return f"{type(error).__name__}: {error}"


def udp(host, port):
    datagram = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _ in range(3):
            datagram.sendto(b"exfiltrated by the agent", (host, int(port)))
        return "sent"
    except OSError as error:
        return f"{type(error).__name__}: {error}"


probes = {f"tcp {h}:{p}": (tcp, h, p) for h, p in targets["tcp"]}
probes[f"control tcp {gateway_host}:{gateway_port}"] = (tcp, gateway_host, gateway_port)
probes.update({f"udp {h}:{p}": (udp, h, p) for h, p in targets["udp"]})
probes.update({f"dns {server} {name}": (dns_query, server, name) for server, name in targets["dns"]})
probes["resolve example.com"] = (resolve, "example.com")


def run(key, function, *arguments):
    results[key] = function(*arguments)


threads = [threading.Thread(target=run, args=(key, *probe), daemon=True) for key, probe in probes.items()]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(3 * TIMEOUT_S)  # the system resolver may retry for longer; its silence is the answer
for key in probes:
    results.setdefault(key, f"no outcome within {3 * TIMEOUT_S:g} s")
print(json.dumps(results, indent=1, sort_keys=True))
