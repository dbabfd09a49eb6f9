"""Loads a c2f checkpoint with examples/python/c2f_models.py, runs it on the input C++ used, and
exits 0 when the output matches C++'s within the tolerance given."""
import sys

import numpy as np
import torch

sys.path.insert(0, sys.argv[1])
from c2f_models import load_checkpoint  # noqa: E402

checkpoint, input_path, output_path = sys.argv[2:5]
n, c, h, w = (int(v) for v in sys.argv[5].split("x"))
tolerance = float(sys.argv[6])
net, info = load_checkpoint(checkpoint)
x = torch.from_numpy(np.fromfile(input_path, dtype=np.float32).reshape(n, c, h, w))
expected = np.fromfile(output_path, dtype=np.float32).reshape(n, c, h, w)
with torch.no_grad():
    got = net(x).numpy()
diff = float(np.abs(got - expected).max())
scale = float(np.abs(expected).max())
print(f"{info['model']}: max |python - c++| = {diff:.3g} (output scale {scale:.3g})")
sys.exit(0 if diff <= tolerance * max(1.0, scale) else 1)
