#pragma once
// Precompiled header for the translation units that use LibTorch (model/ and the stages that run
// models). Never include this from a header other code includes: <torch/torch.h> costs ~27 s and
// 1.2 GB per translation unit on the project's 2-core machines.
#include <torch/torch.h>
