#!/usr/bin/env python3
# make_npy_seeds.py: write the .npy seed files (valid and broken) into a folder,
# by hand with struct so NumPy is not needed.  Usage: make_npy_seeds.py [DIR]
import os, struct, sys
def npy(descr, shape, data=b'', fortran=False, major=1, hdr=None, pad=True):
    if hdr is None:
        sh = '(' + ''.join('%d, ' % s for s in shape) + ')' if len(shape) != 1 else '(%d,)' % shape[0]
        hdr = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, 'True' if fortran else 'False', sh)
    h = hdr.encode()
    pre = 10 if major == 1 else 12
    if pad:
        total = pre + len(h) + 1
        h += b' ' * ((64 - total % 64) % 64) + b'\n'
    lenb = struct.pack('<H', len(h)) if major == 1 else struct.pack('<I', len(h))
    return b'\x93NUMPY' + bytes([major, 0]) + lenb + h + data
def f4(*v): return struct.pack('<%df' % len(v), *v)
def f8(*v): return struct.pack('<%dd' % len(v), *v)
files = {
 'f4-2x3.npy': npy('<f4', (2, 3), f4(1, 2, 3, 4, 5, 6)),
 'f8-vec.npy': npy('<f8', (3,), f8(1.5, -2, 1e300)),
 'scalar.npy': npy('<f4', (), f4(7)),
 'empty.npy': npy('<f4', (0, 5)),
 'v2-f4.npy': npy('<f4', (2,), f4(1, 2), major=2),
 'fortran.npy': npy('<f4', (2, 2), f4(1, 2, 3, 4), fortran=True),
 'int64.npy': npy('<i8', (2,), struct.pack('<2q', 1, 2)),
 'bigendian.npy': npy('>f4', (1,), struct.pack('>f', 1)),
 'truncated.npy': npy('<f4', (2, 3), f4(1, 2, 3)),
 'huge-shape.npy': npy('<f4', (1 << 40, 1 << 40), f4(1)),
 'negative-dim.npy': npy('<f4', (), hdr="{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2), }"),
 'too-many-dims.npy': npy('<f4', (1,) * 12, f4(1)),
 'bad-magic.npy': b'\x93NUMPX\x01\x00\x10\x00' + b' ' * 16,
 'short.npy': b'\x93NUM',
 'hdr-len-lies.npy': b'\x93NUMPY\x01\x00\xff\xff{',
 'nonascii-hdr.npy': npy('<f4', (1,), f4(1), hdr="{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x\xe9': 1}"),
}
outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'npy')
os.makedirs(outdir, exist_ok=True)
for k, v in files.items():
    with open(os.path.join(outdir, k), 'wb') as f:
        f.write(v)
