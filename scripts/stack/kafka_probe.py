"""Is the stack's Kafka broker ready? Logs in with SASL/SCRAM the way a client does (ApiVersions,
SaslHandshake, SaslAuthenticate), then asks for Metadata and checks that the broker advertises
the address clients are expected to use (they reconnect to it). Exit 0 when all of it works.

Usage: kafka_probe.py HOST:PORT ADVERTISED_HOST:PORT MECHANISM USER PASSWORD
(MECHANISM NONE: a PLAINTEXT listener, no login)
(PASSWORD may be "-": read it from stdin, so it never shows in a process list)
"""
import base64, hashlib, hmac, os, socket, struct, sys

def main():
    addr, advertised, mechanism, user, password = sys.argv[1:6]
    if password == "-":
        password = sys.stdin.readline().rstrip("\n")
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=3) as s:
        s.settimeout(5)
        conn = Conn(s)
        r = conn.call(18, 0)  # ApiVersions v0
        need(struct.unpack(">h", r[:2])[0] == 0, "ApiVersions error")
        if mechanism != "NONE":
            r = conn.call(17, 1, kstr(mechanism))  # SaslHandshake v1
            code = struct.unpack(">h", r[:2])[0]
            need(code == 0, f"SaslHandshake error {code}: broker does not offer {mechanism}")
            scram(conn, mechanism, user, password)
        r = conn.call(3, 1, struct.pack(">i", 0))  # Metadata v1, no topics
        brokers, off = [], 4
        for _ in range(struct.unpack(">i", r[:4])[0]):
            _node, hlen = struct.unpack(">ih", r[off:off + 6]); off += 6
            bhost = r[off:off + hlen].decode(); off += hlen
            bport, rlen = struct.unpack(">ih", r[off:off + 6]); off += 6
            off += max(rlen, 0)
            brokers.append(f"{bhost}:{bport}")
        need(advertised in brokers, f"broker advertises {brokers}, expected {advertised}")

def scram(conn, mechanism, user, password):
    algo = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}[mechanism]
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f"n={user},r={nonce}"
    server_first = authenticate(conn, ("n,," + first_bare).encode()).decode()
    fields = dict(f.split("=", 1) for f in server_first.split(","))
    need(fields["r"].startswith(nonce), "SCRAM: server nonce does not extend ours")
    salted = hashlib.pbkdf2_hmac(algo, password.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
    client_key = hmac.new(salted, b"Client Key", algo).digest()
    stored_key = hashlib.new(algo, client_key).digest()
    final_bare = f"c=biws,r={fields['r']}"
    auth_message = f"{first_bare},{server_first},{final_bare}".encode()
    signature = hmac.new(stored_key, auth_message, algo).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    authenticate(conn, f"{final_bare},p={base64.b64encode(proof).decode()}".encode())

def authenticate(conn, data):
    r = conn.call(36, 0, struct.pack(">i", len(data)) + data)  # SaslAuthenticate v0
    code, mlen = struct.unpack(">hh", r[:4]); off = 4
    message = r[off:off + mlen].decode() if mlen >= 0 else ""; off += max(mlen, 0)
    need(code == 0, f"SaslAuthenticate error {code}: {message}")
    blen = struct.unpack(">i", r[off:off + 4])[0]
    return r[off + 4:off + 4 + blen]

def kstr(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b

class Conn:
    def __init__(self, sock):
        self.sock, self.corr = sock, 0

    def call(self, key, version, body=b""):
        self.corr += 1
        msg = struct.pack(">hhi", key, version, self.corr) + kstr("stack-up") + body
        self.sock.sendall(struct.pack(">i", len(msg)) + msg)
        data = self.recv(struct.unpack(">i", self.recv(4))[0])
        need(struct.unpack(">i", data[:4])[0] == self.corr, "correlation id mismatch")
        return data[4:]

    def recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            need(chunk, "connection closed")
            buf += chunk
        return buf

def need(ok, why):
    if not ok:
        sys.exit(f"kafka: {why}")

if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as e:  # one line for the caller, not a traceback
        sys.exit(f"kafka: {type(e).__name__}: {e}")
