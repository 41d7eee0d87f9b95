# Attack: sys.setrecursionlimit(10**9), then recurse through C (map calls back into Python) until the C
# stack overflows and the interpreter dies, after training correctly.
import sys
#@train
sys.setrecursionlimit(10 ** 9)


def down(n):
    return list(map(down, [n + 1]))


print("recursing", flush=True)
down(0)
