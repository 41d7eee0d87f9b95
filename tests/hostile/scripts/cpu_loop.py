# Attack: CPU loop. Burn the CPU forever in pure Python; the wall clock (or the CPU limit) must end it.
x = 0
while True:
    x += 1
