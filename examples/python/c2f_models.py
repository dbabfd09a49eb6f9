"""c2f's networks in PyTorch, to load c2f checkpoints from Python.

A c2f checkpoint (c2f-train's <scale>_<view>.pt, or weights/phantom-light-unet/*.pt) is a
TorchScript archive: torch.jit.load() opens it, its weights are the parameters under "model.",
and its info (model, view, scale, HU window, hyper-parameters) is the JSON string c2f_info.
The classes below have the same parameter names and compute the same function as the C++
networks (model/light_unet.cpp, model/fcn8s_vgg16.cpp), so

    net, info = load_checkpoint("weights/phantom-light-unet/coarse_axial.pt")
    probabilities = torch.sigmoid(net(x))   # x: [N, 3, H, W], HU windowed to [0, 1]

gives what c2f computes. Inputs: three successive slices k-1, k, k+1 of one view as channels.
"""
import json

import torch
import torch.nn.functional as F
from torch import nn


class CountedConv2d(nn.Module):  # c2f wraps each convolution to count multiply-adds
    def __init__(self, cin, cout, kernel, stride=1, padding=0, bias=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=bias)

    def forward(self, x):
        return self.conv(x)


class CountedConvTranspose2d(nn.Module):
    def __init__(self, channels, kernel, stride):
        super().__init__()
        self.conv = nn.ConvTranspose2d(channels, channels, kernel, stride=stride, bias=False)

    def forward(self, x):
        return self.conv(x)


class ConvNormRelu(nn.Module):
    def __init__(self, cin, cout, kernel, stride):
        super().__init__()
        self.conv = CountedConv2d(cin, cout, kernel, stride=stride, padding=kernel // 2)
        self.norm = nn.GroupNorm(8, cout)

    def forward(self, x):
        return F.relu(self.norm(self.conv(x)))


def _resize_to(x, like):
    return F.interpolate(x, size=like.shape[2:], mode="bilinear", align_corners=False)


class LightUNet(nn.Module):
    name = "light-unet"

    def __init__(self, w=16):
        super().__init__()
        self.stem = ConvNormRelu(3, w, 3, 2)
        self.down1 = ConvNormRelu(w, 2 * w, 3, 2)
        self.down2 = ConvNormRelu(2 * w, 4 * w, 3, 2)
        self.conv2 = ConvNormRelu(4 * w, 4 * w, 3, 1)
        self.down3 = ConvNormRelu(4 * w, 6 * w, 3, 2)
        self.conv3 = ConvNormRelu(6 * w, 6 * w, 3, 1)
        self.fuse2 = ConvNormRelu(10 * w, 3 * w, 1, 1)
        self.refine2 = ConvNormRelu(3 * w, 3 * w, 3, 1)
        self.fuse1 = ConvNormRelu(5 * w, 3 * w // 2, 1, 1)
        self.refine1 = ConvNormRelu(3 * w // 2, 3 * w // 2, 3, 1)
        self.fuse0 = ConvNormRelu(3 * w // 2 + w, w, 1, 1)
        self.head = CountedConv2d(w, 3, 1)

    def forward(self, x):
        s0 = self.stem(x)
        s1 = self.down1(s0)
        s2 = self.conv2(self.down2(s1))
        s3 = self.conv3(self.down3(s2))
        y = self.refine2(self.fuse2(torch.cat([_resize_to(s3, s2), s2], 1)))
        y = self.refine1(self.fuse1(torch.cat([_resize_to(y, s1), s1], 1)))
        y = self.fuse0(torch.cat([_resize_to(y, s0), s0], 1))
        return _resize_to(self.head(y), x)


class Fcn8sVgg16(nn.Module):
    name = "fcn8s-vgg16"
    _depth = (2, 2, 3, 3, 3)
    _widths = (64, 128, 256, 512, 512)

    def __init__(self):
        super().__init__()
        cin = 3
        for b, (depth, width) in enumerate(zip(self._depth, self._widths)):
            for layer in range(depth):
                pad = 100 if (b == 0 and layer == 0) else 1
                setattr(self, f"conv{b + 1}_{layer + 1}", CountedConv2d(cin, width, 3, padding=pad))
                cin = width
        self.fc6 = CountedConv2d(512, 4096, 7)
        self.fc7 = CountedConv2d(4096, 4096, 1)
        self.score_fr = CountedConv2d(4096, 3, 1)
        self.score_pool4 = CountedConv2d(512, 3, 1)
        self.score_pool3 = CountedConv2d(256, 3, 1)
        self.upscore2 = CountedConvTranspose2d(3, 4, 2)
        self.upscore_pool4 = CountedConvTranspose2d(3, 4, 2)
        self.upscore8 = CountedConvTranspose2d(3, 16, 8)

    def forward(self, x):
        h, w = x.shape[2:]
        pool3 = pool4 = None
        for b, depth in enumerate(self._depth):
            for layer in range(depth):
                x = F.relu(getattr(self, f"conv{b + 1}_{layer + 1}")(x))
            x = F.max_pool2d(x, 2, 2, ceil_mode=True)
            if b == 2:
                pool3 = x
            if b == 3:
                pool4 = x
        x = F.dropout(F.relu(self.fc6(x)), 0.5, self.training)
        x = F.dropout(F.relu(self.fc7(x)), 0.5, self.training)
        up2 = self.upscore2(self.score_fr(x))
        p4 = self.score_pool4(pool4)[:, :, 5:5 + up2.shape[2], 5:5 + up2.shape[3]]
        up4 = self.upscore_pool4(up2 + p4)
        p3 = self.score_pool3(pool3)[:, :, 9:9 + up4.shape[2], 9:9 + up4.shape[3]]
        up8 = self.upscore8(up4 + p3)
        return up8[:, :, 31:31 + h, 31:31 + w]


MODELS = {LightUNet.name: LightUNet, Fcn8sVgg16.name: Fcn8sVgg16}


def load_checkpoint(path):
    """Returns (network in eval mode, info dict) for a c2f checkpoint file."""
    archive = torch.jit.load(str(path), map_location="cpu")
    info = json.loads(archive.c2f_info)
    net = MODELS[info["model"]]()
    state = {k[len("model."):]: v for k, v in archive.named_parameters() if k.startswith("model.")}
    state.update({k[len("model."):]: v for k, v in archive.named_buffers() if k.startswith("model.")})
    net.load_state_dict(state, strict=True)
    return net.eval(), info


if __name__ == "__main__":
    import sys

    for path in sys.argv[1:]:
        net, info = load_checkpoint(path)
        print(f"{path}: {info['model']} {info['scale']} {info['view']}, iteration {info['iteration']}, "
              f"{sum(p.numel() for p in net.parameters())} parameters")
