"""Time suggestions over a synthetic pool: ``python -m bench.suggestions [members] [queries]`` (or ``make bench``).

Prints the index build time and, per query member, the median and worst time of the numpy
index and of the plain-Python reference scan (top 20 each).
"""

import random
import statistics
import sys
import time

from crm.matching import reference, synthetic
from crm.matching.index import SuggestionIndex


def main(n: int = 100_000, queries: int = 30) -> None:
    pools = {1: {1, 2}, 2: {1, 2}, 3: {3}}
    t0 = time.perf_counter()
    people = synthetic.pool(n, seed=42, pools=pools)
    rng = random.Random(7)
    pairs = {tuple(sorted(rng.sample(range(1, n + 1), 2))) for _ in range(n // 10)}
    t1 = time.perf_counter()
    index = SuggestionIndex(people, excluded_pairs=pairs)
    t2 = time.perf_counter()
    print(f"{n} profiles generated in {t1 - t0:.2f} s; index built in {t2 - t1:.2f} s")
    asking = [p for p in rng.sample(people, queries * 3)
              if p.active and p.verified and p.consented and not p.opted_out
              and not p.in_relationship_or_later and p.open_introductions == 0][:queries]
    fast, slow, found = [], [], []
    for a in asking:
        t = time.perf_counter()
        top = index.suggest(a, k=20)
        fast.append(time.perf_counter() - t)
        found.append(len(index.eligible_mask(a).nonzero()[0]))
        t = time.perf_counter()
        ref = reference.suggest(a, people, excluded_pairs=pairs, iw=index.interest_weights, k=20)
        slow.append(time.perf_counter() - t)
        assert [i for i, _ in top] == [i for i, _ in ref] or \
            all(abs(x - y) < 1e-9 for (_, x), (_, y) in zip(top, ref, strict=True)), a.id

    def ms(xs):
        return f"median {statistics.median(xs) * 1000:.2f} ms, max {max(xs) * 1000:.2f} ms"

    print(f"{len(asking)} members asking; candidates passing the filters: median {statistics.median(found)}")
    print(f"numpy index top 20:      {ms(fast)}")
    print(f"pure-Python scan top 20: {ms(slow)}")


if __name__ == "__main__":
    main(*(int(x) for x in sys.argv[1:3]))
