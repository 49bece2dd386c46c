# Holds all free GPU memory but <GiB> (allocated through PyTorch), writes the bytes held to <file> once
# they are held, then waits to be killed: the job started next has exactly <GiB> free.
#   python3 hold-gpu-memory.py <GiB> <file>
import sys
import time

import torch

free, _ = torch.cuda.mem_get_info()
hold = max(free - int(float(sys.argv[1]) * 2**30), 0)
blocker = torch.empty(hold, dtype=torch.uint8, device="cuda")
torch.cuda.synchronize()
with open(sys.argv[2], "w") as f:
    f.write("%d\n" % hold)
time.sleep(3600)
