"""The chain10 scenario (testdata/chain10.toml) in SimPy, to compare speeds.

Ten services in a chain, one instance of 4 workers each (a Resource of
capacity 4), exponential service times of mean 10 us, Poisson arrivals at
32,000/s for 31.25 s of virtual time (about a million requests). A request
takes a worker of s0, does its work, then calls s1 while holding its worker,
and so on down to s9; every worker is released when the rest of the chain
has answered. Since a hop does no work after its call, one process per
request that acquires s0..s9 in turn and releases them in reverse order is
the same model, and SimPy's fastest way to write it. With --nested, each
hop is a process of its own that its caller waits for, as faultline runs an
RPC chain. Either way it records only the client's latency of every
request, far less than faultline records.

Run it as a whole process against `faultline run testdata/chain10.toml`:

    /usr/bin/time -f '%e s %M KB' python3 bench/testdata/simpy_chain10.py [--nested]
    /usr/bin/time -f '%e s %M KB' faultline run testdata/chain10.toml

It uses SimPy 3 or 4 (`import simpy`, from PyPI) when installed, and falls
back to SimPy 2 (`SimPy.Simulation`), which is what Debian's python3-simpy
ships (`apt-get install python3-simpy`, then run it with /usr/bin/python3).
"""

import random
import sys
import time

SERVICES = 10
WORKERS = 4
MEAN = 10e-6  # seconds
RATE = 32000.0  # requests per second
DURATION = 31.25  # seconds of virtual time
SEED = 1


def run_simpy3(rng, nested):
    import simpy

    env = simpy.Environment()
    servers = [simpy.Resource(env, capacity=WORKERS) for _ in range(SERVICES)]
    lat = []

    def hop(env, k):
        with servers[k].request() as req:
            yield req
            yield env.timeout(rng.expovariate(1 / MEAN))
            if k + 1 < SERVICES:
                yield env.process(hop(env, k + 1))

    def nested_request(env):
        sent = env.now
        yield env.process(hop(env, 0))
        lat.append(env.now - sent)

    def request(env):
        sent = env.now
        held = []
        for sv in servers:
            req = sv.request()
            yield req
            held.append((sv, req))
            yield env.timeout(rng.expovariate(1 / MEAN))
        for sv, req in reversed(held):
            sv.release(req)
        lat.append(env.now - sent)

    def arrivals(env):
        while True:
            yield env.timeout(rng.expovariate(RATE))
            env.process(nested_request(env) if nested else request(env))

    env.process(arrivals(env))
    env.run(until=DURATION)
    return lat, "simpy " + simpy.__version__


def run_simpy2(rng, nested):
    from SimPy.Simulation import (Process, Resource, SimEvent, activate, hold,
                                  initialize, now, release, request, simulate,
                                  waitevent)
    import SimPy

    initialize()
    servers = [Resource(capacity=WORKERS) for _ in range(SERVICES)]
    lat = []

    class Hop(Process):
        def run(self, k, done):
            yield request, self, servers[k]
            yield hold, self, rng.expovariate(1 / MEAN)
            if k + 1 < SERVICES:
                answered = SimEvent()
                h = Hop()
                activate(h, h.run(k + 1, answered))
                yield waitevent, self, answered
            yield release, self, servers[k]
            done.signal()

    class NestedRequest(Process):
        def run(self):
            sent = now()
            answered = SimEvent()
            h = Hop()
            activate(h, h.run(0, answered))
            yield waitevent, self, answered
            lat.append(now() - sent)

    class Request(Process):
        def run(self):
            sent = now()
            for sv in servers:
                yield request, self, sv
                yield hold, self, rng.expovariate(1 / MEAN)
            for sv in reversed(servers):
                yield release, self, sv
            lat.append(now() - sent)

    class Arrivals(Process):
        def run(self):
            while True:
                yield hold, self, rng.expovariate(RATE)
                r = NestedRequest() if nested else Request()
                activate(r, r.run())

    a = Arrivals()
    activate(a, a.run())
    simulate(until=DURATION)
    return lat, "SimPy " + getattr(SimPy, "__version__", "2")


def main():
    nested = sys.argv[1:] == ["--nested"]
    rng = random.Random(SEED)
    wall = time.perf_counter()
    try:
        lat, version = run_simpy3(rng, nested)
    except ImportError:
        lat, version = run_simpy2(rng, nested)
    wall = time.perf_counter() - wall
    lat.sort()
    n = len(lat)
    print("%s: %d requests in %.2fs of virtual time, mean %.3f ms, p99 %.3f ms"
          % (version, n, DURATION, sum(lat) / n * 1e3, lat[int(0.99 * n)] * 1e3))
    print("simulated in %.2fs: %.0f requests/s" % (wall, n / wall), file=sys.stderr)


if __name__ == "__main__":
    main()
