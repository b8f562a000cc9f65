"""Sorts a heaptrack profile's heap at its peak by what holds it, per socket.

Usage: categories.py PROFILE SOCKETS. PROFILE is heaptrack's file of a
server holding SOCKETS idle sockets at its peak (scripts/bench-heap makes
one); each allocation live at the peak goes to the first category whose
pattern matches the innermost frames of its stack.
"""

import collections
import re
import subprocess
import sys
import tempfile

# The innermost frames a category's pattern is matched against.
DEPTH = 8

CATEGORIES = [
    ("Engine.IO outgoing queue: its first block (32 slots)", r"mpsc::chan::channel$"),
    ("Engine.IO channels' state (2 mpsc, watch), cancel token",
     r"(mpsc::chan::channel|watch::channel|CancellationToken::new)"),
    ("Engine.IO reader task (upgrade, read loop)", r"ws::new_req;.*Cell\$LT\$T\$C\$S\$GT\$::new"),
    ("Engine.IO heartbeat task and its timer",
     r"(spawn_heartbeat;.*Cell\$LT|interval::internal_interval_at)"),
    ("Engine.IO writer task", r"Cell\$LT\$T\$C\$S\$GT\$::new;[^;]*$"),
    ("Engine.IO socket (with the request parts it keeps)", r"create_session$"),
    ("WebSocket read buffer", r"(WebSocketContext::new|FrameCodec::read_frame)"),
    ("WebSocket stream, write buffer", r"tungstenite"),
    ("handshake request kept: headers",
     r"(HeaderMap|map_request.*Bytes|Bytes::copy_from_slice)"),
    ("handshake request kept: extensions, URI",
     r"(http::extensions|shallow_clone_vec|Uri\$u20\$as|insert_url_params)"),
    ("Socket.IO: handlers, extensions, rooms", r"socketioxide"),
    ("tokio: the connection's I/O registration", r"RegistrationSet"),
    ("SQLite and Hush's caches (not per socket)", r"(sqlite3|hush::server)"),
]
OTHER = "other (frames without a name, inlined in tasks)"


def main() -> None:
    profile, sockets = sys.argv[1], int(sys.argv[2])
    with tempfile.NamedTemporaryFile("r", suffix=".stacks") as stacks:
        subprocess.run(
            ["heaptrack_print", "-f", profile, "-p", "0", "-a", "0", "-T", "0", "-l", "0",
             "--flamegraph-cost-type", "peak", "-F", stacks.name],
            check=True, capture_output=True)
        totals = collections.Counter()
        for line in stacks:
            stack, cost = line.rstrip("\n").rsplit(" ", 1)
            stack = re.sub(r"::h[0-9a-f]{16}", "", stack).rstrip(";")
            inner = ";".join(stack.split(";")[-DEPTH:])
            name = next((n for n, p in CATEGORIES if re.search(p, inner)), OTHER)
            totals[name] += int(cost)
    print(f"heap at the peak, per socket of {sockets:,}")
    for name in [n for n, _ in CATEGORIES] + [OTHER]:
        print(f"{totals[name] / sockets:8,.0f} B  {name}")
    print(f"{sum(totals.values()) / sockets:8,.0f} B  all")


if __name__ == "__main__":
    main()
