# Attack: unbounded recursion at the default recursion limit, after training correctly: a RecursionError the
# harness must report as the script's own exception.
#@train


def down(n):
    return down(n + 1) + 1


down(0)
