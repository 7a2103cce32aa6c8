"""CQL login for scripts/stack/cassandra.sh (readiness, probe and the admin role's setup).

Usage: cassandra_probe.py HOST:PORT USER [--setup ADMIN]
  stdin line 1: USER's password.
  Without --setup: log in as USER and read system.local (exit 0 when that works).
  With --setup: log in as USER (the default superuser), create the superuser login role ADMIN
  with the password of stdin line 2 (or reset it when it exists), then log in as ADMIN, check it
  is a superuser and set USER's password to stdin line 3, so the well-known default no longer
  logs in.
"""

import logging
import sys

from cassandra import AuthenticationFailed
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable
from cassandra.policies import RoundRobinPolicy

logging.basicConfig(level=logging.CRITICAL)


def session(host, port, user, password):
    cluster = Cluster(
        contact_points=[host],
        port=port,
        auth_provider=PlainTextAuthProvider(username=user, password=password),
        execution_profiles={EXEC_PROFILE_DEFAULT: ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), request_timeout=10)},
        connect_timeout=5,
        control_connection_timeout=5,
    )
    return cluster, cluster.connect()


def quote(name):
    return '"' + name.replace('"', '""') + '"'


def literal(text):
    return "'" + text.replace("'", "''") + "'"


def main():
    args = sys.argv[1:]
    setup = None
    if len(args) == 4 and args[2] == "--setup":
        setup = args[3]
        args = args[:2]
    if len(args) != 2:
        sys.exit(__doc__)
    host, port = args[0].rsplit(":", 1)
    user = args[1]
    lines = sys.stdin.read().splitlines()
    password = lines[0] if lines else ""
    try:
        cluster, s = session(host, int(port), user, password)
        try:
            row = s.execute("SELECT release_version FROM system.local").one()
            if setup is None:
                print(f"logged in as {user}: Cassandra {row.release_version}")
                return
            if len(lines) < 3:
                sys.exit("--setup needs three stdin lines: USER's password, ADMIN's, USER's new one")
            admin_password, new_password = lines[1], lines[2]
            exists = s.execute("SELECT role FROM system_auth.roles WHERE role = %s", (setup,)).one()
            verb = "ALTER" if exists else "CREATE"
            s.execute(f"{verb} ROLE {quote(setup)} WITH PASSWORD = {literal(admin_password)} AND SUPERUSER = true AND LOGIN = true")
        finally:
            cluster.shutdown()
        cluster, s = session(host, int(port), setup, admin_password)
        try:
            row = s.execute("SELECT is_superuser, can_login FROM system_auth.roles WHERE role = %s", (setup,)).one()
            if not (row and row.is_superuser and row.can_login):
                sys.exit(f"role {setup} is not a superuser login role after {verb} ROLE")
            s.execute(f"ALTER ROLE {quote(user)} WITH PASSWORD = {literal(new_password)}")
        finally:
            cluster.shutdown()
        print(f"{verb} ROLE {setup} (superuser, login); {user}'s default password replaced")
    except NoHostAvailable as e:
        for err in e.errors.values():
            if isinstance(err, AuthenticationFailed):
                sys.exit(f"CQL login as {user} on {host}:{port} refused: {err}")
        sys.exit(f"CQL: no host answered on {host}:{port}: {e}")
    except Exception as e:  # the probe's caller prints it on timeout
        sys.exit(f"CQL on {host}:{port} as {user}: {type(e).__name__}: {e}")


main()
