# Attack: fork a child and forget os._exit (a common mistake, or on purpose): parent and child both run the
# rest of the script, and both reach the harness's report at the end.
import os
pid = os.fork()
#@train
if pid:
    os.waitpid(pid, 0)
