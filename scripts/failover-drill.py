#!/usr/bin/env python3
"""Failover drills on one machine: what docs/operations.md ("Failover") says the receiver and
the worker do when a RabbitMQ node is lost or Postgres switches over, exercised for real.

    scripts/failover-drill.py rabbitmq [--events N]   # 3-node RabbitMQ cluster, kill -9 one node
    scripts/failover-drill.py postgres [--events N]   # primary + synchronous standby, promote it

Each drill runs the service as two processes (`serve --role receiver` and `--role worker`,
target/debug/clientsync unless BIN says otherwise), reaching the engine under test through a
small TCP proxy that stands in for the Kubernetes Service: it sends each new connection to the
first backend that accepts one, so once a node is gone new connections land on a survivor, and
connections to the lost node simply break. A sender posts signed HubSpot v3 batches (10
property events for 10 contacts each, 8 at a time) and, as HubSpot does, re-sends a batch until
it is answered 2xx. Midway the drill kills the node the proxy is using. It then waits for the
worker to apply everything and checks the promise: every event answered 2xx is applied, each
exactly once (one inbox row per event, one client per contact), and nothing is left queued.

Needs: RabbitMQ's and Postgres 15's server binaries (Debian packages), Postgres on
127.0.0.1:5432 (trust) for the RabbitMQ drill's database, RabbitMQ on 127.0.0.1:5672 for the
Postgres drill's queue. Everything the drill starts lives under a temporary directory and is
stopped at the end. Exit status 0 when the promise held.
"""
import argparse
import asyncio
import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.environ.get("BIN", "target/debug/clientsync")
SECRET = "drill-hubspot-secret-0123456789"
PG_BIN = "/usr/lib/postgresql/15/bin"
RMQ_BIN = "/usr/lib/rabbitmq/bin"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Proxy:
    """A TCP forwarder to the first backend that accepts: the drill's stand-in for a Service."""

    def __init__(self, port, backends):
        self.port, self.backends = port, list(backends)
        self.loop = asyncio.new_event_loop()
        self.routed = {}

    def start(self):
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result()

    async def _serve(self):
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port)

    async def _client(self, reader, writer):
        for backend in self.backends:
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", backend), 2)
            except (OSError, asyncio.TimeoutError):
                continue
            self.routed[backend] = self.routed.get(backend, 0) + 1
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
            return
        writer.close()

    @staticmethod
    async def _pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            try:
                writer.close()
            except OSError:
                pass


class Sender:
    """Signed HubSpot v3 batches, each re-sent until answered 2xx, as HubSpot retries."""

    def __init__(self, port, events, base_ms):
        self.port, self.events, self.base_ms = port, events, base_ms
        self.accepted, self.refusals, self.errors = 0, {}, 0
        self.longest_retry_s = 0.0
        self.lock = threading.Lock()

    def batch(self, first):
        return [{
            "eventId": self.base_ms + i, "subscriptionId": 1, "portalId": 62515, "appId": 54321,
            "occurredAt": self.base_ms + i, "subscriptionType": "contact.propertyChange",
            "attemptNumber": 0, "objectId": 900000 + i, "propertyName": "email",
            "propertyValue": f"drill{i}@example.com", "changeSource": "CRM_UI", "sourceId": "userId:1",
        } for i in range(first, min(first + 10, self.events))]

    def post(self, body):
        url = f"http://127.0.0.1:{self.port}/webhooks/hubspot"
        ts = str(int(time.time() * 1000))
        signed = ("POST" + url).encode() + body + ts.encode()
        sig = base64.b64encode(hmac.new(SECRET.encode(), signed, hashlib.sha256).digest()).decode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("POST", "/webhooks/hubspot", body, {
                "Content-Type": "application/json", "X-HubSpot-Signature-v3": sig,
                "X-HubSpot-Request-Timestamp": ts})
            return conn.getresponse().status
        finally:
            conn.close()

    def send(self, first):
        body = json.dumps(self.batch(first)).encode()
        started, delay = time.monotonic(), 0.1
        while True:
            try:
                status = self.post(body)
            except OSError:
                status = "connection error"
            if status == 200:
                with self.lock:
                    self.accepted += len(self.batch(first))
                    self.longest_retry_s = max(self.longest_retry_s, time.monotonic() - started)
                return
            with self.lock:
                self.refusals[str(status)] = self.refusals.get(str(status), 0) + 1
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def run(self, on_progress):
        firsts = list(range(0, self.events, 10))
        lock, next_index = threading.Lock(), [0]

        def worker():
            while True:
                with lock:
                    if next_index[0] >= len(firsts):
                        return
                    first = firsts[next_index[0]]
                    next_index[0] += 1
                self.send(first)
                on_progress(self.accepted)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def psql(port, db, sql):
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", db,
                          "-At", "-c", sql], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr.strip())
    return out.stdout.strip()


def wait_for(what, check, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except Exception:  # the engine under test may be between nodes
            pass
        time.sleep(0.5)
    log(f"gave up waiting for {what}")
    return False


class Service:
    """The receiver and the worker as separate processes, as on Kubernetes."""

    def __init__(self, tmp, env):
        self.tmp, self.env, self.procs = tmp, env, []
        self.http_port = int(env["CLIENTSYNC_SERVER__PORT"])

    def start(self):
        subprocess.run([BIN, "migrate"], env=self.env, check=True, stdout=subprocess.DEVNULL)
        for role in ("worker", "receiver"):
            env = dict(self.env)
            if role == "worker":
                env["CLIENTSYNC_SERVER__PORT"] = str(free_port())
            out = open(os.path.join(self.tmp, f"{role}.log"), "w")
            self.procs.append(subprocess.Popen([BIN, "serve", "--role", role], env=env,
                                               stdout=out, stderr=subprocess.STDOUT))
        wait_for("the receiver", lambda: self.ready(), 60)

    def ready(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def stop(self):
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()

    def warnings(self):
        lines = []
        for role in ("receiver", "worker"):
            with open(os.path.join(self.tmp, f"{role}.log")) as f:
                lines += [f"{role}: {l.strip()}" for l in f if " WARN " in l or " ERROR " in l]
        return lines


def base_env(http_port, db_url, amqp_url, prefix):
    env = dict(os.environ)
    env.update({
        "CLIENTSYNC_SERVER__PORT": str(http_port),
        "CLIENTSYNC_SERVER__PUBLIC_BASE_URL": f"http://127.0.0.1:{http_port}",
        "CLIENTSYNC_DATABASE__URL": db_url,
        "CLIENTSYNC_QUEUE__AMQP_URL": amqp_url,
        "CLIENTSYNC_QUEUE__PREFIX": prefix,
        "CLIENTSYNC_HUBSPOT__CLIENT_SECRET": SECRET,
        "CLIENTSYNC_TELEMETRY__FORMAT": "pretty",
        "CLIENTSYNC_RETENTION__INTERVAL_SECS": "0",
    })
    return env


def drained(listing, prefix, timeout=90):
    """Messages still in the drill's queues once they settle: re-sent batches leave duplicates
    that the worker takes and recognises, and a retried message waits out its delay first."""
    counts = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = {l.split()[0]: int(l.split()[-1]) for l in listing().splitlines()
                  if l.startswith(prefix) and l.split()[-1].isdigit()}
        if sum(counts.values()) == 0:
            break
        time.sleep(1)
    log(f"messages left in {prefix}* queues: {sum(counts.values())} {({k: v for k, v in counts.items() if v}) or ''}")
    return sum(counts.values())


def verify(db_port, db, events, sender):
    applied = int(psql(db_port, db, "SELECT count(*) FROM inbox_events WHERE source = 'hubspot' AND status = 'processed'"))
    rows = int(psql(db_port, db, "SELECT count(*) FROM inbox_events WHERE source = 'hubspot'"))
    clients = int(psql(db_port, db, "SELECT count(*) FROM clients"))
    ok = sender.accepted == events and applied == events and rows == events and clients == events
    log(f"answered 2xx: {sender.accepted} of {events} events; refusals on the way (then re-sent): "
        f"{sender.refusals or 'none'}; longest wait for a 2xx: {sender.longest_retry_s:.1f} s")
    log(f"inbox rows: {rows}, processed: {applied}; clients: {clients} (one per contact: {events})")
    return ok


def rabbitmq_drill(args, tmp):
    nodes = []
    for name in ("a", "b", "c"):
        port = free_port()
        base = os.path.join(tmp, f"rabbit-{name}")
        os.makedirs(base)
        with open(os.path.join(base, "enabled_plugins"), "w") as f:
            f.write("[].\n")
        with open(os.path.join(base, "rabbitmq.conf"), "w") as f:
            f.write(f"listeners.tcp.local = 127.0.0.1:{port}\n")
        # The nodes run as this user (not through Debian's wrapper, which switches to the
        # rabbitmq user), sharing one Erlang cookie under the drill's HOME.
        env = dict(os.environ, HOME=tmp, RABBITMQ_NODENAME=f"drill-{name}@localhost",
                   RABBITMQ_DIST_PORT=str(free_port()),
                   RABBITMQ_MNESIA_BASE=base, RABBITMQ_LOG_BASE=base,
                   RABBITMQ_PID_FILE=os.path.join(base, "pid"),
                   RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(base, "enabled_plugins"),
                   RABBITMQ_CONFIG_FILE=os.path.join(base, "rabbitmq.conf"))
        nodes.append({"name": f"drill-{name}@localhost", "port": port, "env": env, "base": base})
    ctl = lambda node, *a: subprocess.run([f"{RMQ_BIN}/rabbitmqctl", "-n", node["name"], *a],
                                          env=node["env"], check=True, capture_output=True, text=True)
    try:
        for node in nodes:
            # In the foreground, as a child: `-detached` leaves the node half-booted here.
            out = open(os.path.join(node["base"], "stdout.log"), "w")
            node["proc"] = subprocess.Popen([f"{RMQ_BIN}/rabbitmq-server"], env=node["env"], stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        for node in nodes:
            # await_startup gives up at once while the node is not yet registered with epmd.
            if not wait_for(node["name"], lambda: ctl(node, "await_startup", "--timeout", "60"), 180):
                return False
        for node in nodes[1:]:
            ctl(node, "stop_app")
            ctl(node, "join_cluster", nodes[0]["name"])
            ctl(node, "start_app")
        log(f"RabbitMQ cluster of 3 on ports {[n['port'] for n in nodes]}")
        proxy = Proxy(free_port(), [n["port"] for n in nodes])
        proxy.start()
        db = f"drill_{int(time.time())}"
        psql(5432, "postgres", f"CREATE DATABASE {db}")
        env = base_env(free_port(), f"postgres://postgres@127.0.0.1:5432/{db}",
                       f"amqp://guest:guest@127.0.0.1:{proxy.port}/%2f", "drill")
        service = Service(tmp, env)
        service.start()
        queues = ctl(nodes[1], "list_queues", "name", "type", "members").stdout
        log("queues: " + "; ".join(l for l in queues.splitlines() if l.startswith("drill.events")))

        killed, once = [], threading.Lock()

        def progress(accepted):
            with once:
                if killed or accepted < args.events // 3:
                    return
                pid = open(os.path.join(nodes[0]["base"], "pid")).read().strip()
                os.kill(int(pid), signal.SIGKILL)
                killed.append(time.monotonic())
                log(f"killed {nodes[0]['name']} (kill -9) after {accepted} events were accepted")

        sender = Sender(service.http_port, args.events, int(time.time() * 1000))
        started = time.monotonic()
        sender.run(progress)
        log(f"sender done in {time.monotonic() - started:.1f} s")
        wait_for("the worker to apply every event", lambda: int(psql(
            5432, db, "SELECT count(*) FROM inbox_events WHERE status = 'processed'")) >= args.events, 180)
        ok = verify(5432, db, args.events, sender)
        waiting = drained(lambda: ctl(nodes[1], "list_queues", "name", "messages").stdout, "drill.")
        log(f"proxy connections per node port: {proxy.routed}")
        service.stop()
        for line in service.warnings()[:12]:
            log(line[:300])
        return ok and waiting == 0
    finally:
        for node in nodes:
            subprocess.run([f"{RMQ_BIN}/rabbitmqctl", "-n", node["name"], "stop"], env=node["env"],
                           capture_output=True)
            if "proc" in node:
                try:
                    node["proc"].wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(node["proc"].pid, signal.SIGKILL)


def postgres_drill(args, tmp):
    primary, standby = os.path.join(tmp, "pg-primary"), os.path.join(tmp, "pg-standby")
    p_port, s_port = free_port(), free_port()
    as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    shutil.chown(tmp, "postgres") if os.getuid() == 0 else None
    run = lambda *a: subprocess.run([*as_pg, *a], check=True, capture_output=True, text=True)
    try:
        run(f"{PG_BIN}/initdb", "-D", primary, "-U", "postgres", "--auth=trust")
        with open(os.path.join(primary, "postgresql.conf"), "a") as f:
            f.write(f"port = {p_port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{tmp}'\n"
                    "wal_level = replica\nsynchronous_standby_names = '*'\nfsync = on\n")
        with open(os.path.join(primary, "pg_hba.conf"), "a") as f:
            f.write("host replication all 127.0.0.1/32 trust\n")
        run(f"{PG_BIN}/pg_ctl", "-D", primary, "-l", os.path.join(tmp, "primary.log"), "-w", "start")
        run(f"{PG_BIN}/pg_basebackup", "-h", "127.0.0.1", "-p", str(p_port), "-U", "postgres",
            "-D", standby, "-R", "-X", "stream")
        with open(os.path.join(standby, "postgresql.conf"), "a") as f:
            # Once promoted it stands alone: waiting for a synchronous standby of its own would
            # hold every commit (the operator re-points this in a real cluster).
            f.write(f"port = {s_port}\nsynchronous_standby_names = ''\n")
        run(f"{PG_BIN}/pg_ctl", "-D", standby, "-l", os.path.join(tmp, "standby.log"), "-w", "start")
        # A commit the worker sees (and acks its message for) must be on the standby too, as
        # with CloudNativePG's synchronous replicas; the standby reports `sync` once caught up.
        if not wait_for("a synchronous standby", lambda: psql(
                p_port, "postgres", "SELECT sync_state FROM pg_stat_replication") == "sync", 60):
            return False
        sync = psql(p_port, "postgres", "SELECT sync_state FROM pg_stat_replication")
        log(f"Postgres primary on {p_port}, standby on {s_port} ({sync})")
        proxy = Proxy(free_port(), [p_port, s_port])
        proxy.start()
        db = "drill"
        psql(p_port, "postgres", f"CREATE DATABASE {db}")
        prefix = f"drill{int(time.time())}"
        env = base_env(free_port(), f"postgres://postgres@127.0.0.1:{proxy.port}/{db}",
                       "amqp://guest:guest@127.0.0.1:5672/%2f", prefix)
        service = Service(tmp, env)
        service.start()
        switched, once = [], threading.Lock()

        def progress(accepted):
            with once:
                if switched or accepted < args.events // 3:
                    return
                switched.append(time.monotonic())
                run(f"{PG_BIN}/pg_ctl", "-D", primary, "-m", "immediate", "stop")
                log(f"primary stopped (immediate, as a crash) after {accepted} events were accepted")
                run(f"{PG_BIN}/pg_ctl", "-D", standby, "-w", "promote")
                log(f"standby promoted {time.monotonic() - switched[0]:.1f} s later")

        sender = Sender(service.http_port, args.events, int(time.time() * 1000))
        started = time.monotonic()
        sender.run(progress)
        log(f"sender done in {time.monotonic() - started:.1f} s")
        wait_for("the worker to apply every event", lambda: int(psql(
            s_port, db, "SELECT count(*) FROM inbox_events WHERE status = 'processed'")) >= args.events, 180)
        ok = verify(s_port, db, args.events, sender)
        listing = lambda: subprocess.run(["rabbitmqctl", "list_queues", "name", "messages"],
                                         capture_output=True, text=True).stdout
        waiting = drained(listing, prefix + ".")
        depth = listing()
        log(f"proxy connections per port: {proxy.routed}")
        service.stop()
        for line in service.warnings()[:12]:
            log(line[:300])
        for q in [l.split()[0] for l in depth.splitlines() if l.startswith(prefix + ".")]:
            subprocess.run(["rabbitmqctl", "delete_queue", q], capture_output=True)
        return ok and waiting == 0
    finally:
        for d in (primary, standby):
            subprocess.run([*as_pg, f"{PG_BIN}/pg_ctl", "-D", d, "-m", "immediate", "stop"],
                           capture_output=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("drill", choices=["rabbitmq", "postgres"])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix=f"clientsync-{args.drill}-drill-")
    try:
        ok = (rabbitmq_drill if args.drill == "rabbitmq" else postgres_drill)(args, tmp)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    log("PASS: every accepted event applied exactly once" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
