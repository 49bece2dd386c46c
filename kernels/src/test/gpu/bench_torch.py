"""PyTorch's fused 32-bit Adam and a device-to-device copy, per 2^LOG2 float32 parameters, as one tensor
and as 256 tensors: the peers of octet's CudaBenchmark, run in the same GPU session.
Median of REPEATS steps timed with CUDA events, after warm-up; random data, never zeros."""
import sys

import torch

log2 = int(sys.argv[1]) if len(sys.argv) > 1 else 30
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 20
total = 1 << log2
dev = torch.device("cuda")
print(f"torch {torch.__version__} on {torch.cuda.get_device_name()}, {total} float32 parameters, median of {repeats}")


def timed(fn):
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    times.sort()
    return times[len(times) // 2]


src = torch.randn(total, device=dev)
dst = torch.empty_like(src)
ms = timed(lambda: dst.copy_(src))
bw = 8 * total / (ms * 1e-3) / 1e12
print(f"BENCH torch-copy        {ms:9.3f} ms  {bw:6.2f} TB/s (read+write)")
del src, dst

for tensors in (1, 256):
    n = total // tensors
    params = [torch.nn.Parameter(torch.randn(n, device=dev)) for _ in range(tensors)]
    for p in params:
        p.grad = torch.randn(n, device=dev) * 1e-2
    opt = torch.optim.Adam(params, lr=1e-3, fused=True)
    for _ in range(5):
        opt.step()
    ms = timed(opt.step)
    label = "1x" if tensors == 1 else f"{tensors}x"
    print(f"BENCH torch-adam32-fused {label:<4} {ms:9.3f} ms  state 8.0000 B/param")
    del opt, params
    torch.cuda.empty_cache()
