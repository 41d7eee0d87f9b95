# Attack: non-UTF-8 bytes, NUL bytes, lone surrogates and terminal escapes on stdout and stderr (a NUL
# cannot be stored in a PostgreSQL text column); then train normally.
import os
import sys

os.write(1, b"bin\x00ary\xff\xfe\xc3\x28 nul:\x00\x00 end\n")
os.write(2, b"err\x00\x80\x81\x1b[31m\n")
print("surrogate", "\udcff\ud800", flush=True)
sys.stderr.write("nul in str \x00\n")
sys.stdout.flush()
#@train
