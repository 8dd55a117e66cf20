"""Writes round.txt: float32 bit patterns and PyTorch's bfloat16 for each.

Run with: /usr/bin/python3 gen_round.py > round.txt   (torch 1.13)

Each line is "<float32 bits> <bfloat16 bits>" in hex. The inputs are
special values (zeros, infinities, NaNs of both signs with payloads, the
largest finite float32, subnormals), exact ties at both parities, values
just either side of a tie, and 2000 random bit patterns.
"""
import numpy as np
import torch

special = [
    0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x7F800000, 0xFF800000,
    0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001, 0x7FFFFFFF, 0xFFFFFFFF, 0x7FA00000,
    0x7F7FFFFF, 0xFF7FFFFF, 0x7F7F8000, 0x7F7F7FFF,
    0x00000001, 0x80000001, 0x00008000, 0x00018000, 0x007FFFFF, 0x00800000,
    0x3F808000, 0x3F818000, 0x3F807FFF, 0x3F808001, 0x3F818001, 0x3F817FFF,
    0xBF808000, 0xBF818000, 0x40490FDB,
]
rng = np.random.default_rng(12)
bits = special + [int(x) for x in rng.integers(0, 2**32, size=2000, dtype=np.uint64)]
f = torch.from_numpy(np.array(bits, dtype=np.uint32).view(np.float32))
h = f.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
for b, o in zip(bits, h):
    print("%08x %04x" % (b, int(o)))
