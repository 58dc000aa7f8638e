// Every op builder, by family.
#pragma once
#include "tessera/ops/common.h"
#include "tessera/ops/creation.h"
#include "tessera/ops/elementwise.h"
#include "tessera/ops/layout.h"
#include "tessera/ops/fast.h"
#include "tessera/ops/fft.h"
#include "tessera/ops/linalg.h"
#include "tessera/ops/quant_gguf.h"
#include "tessera/ops/random.h"
#include "tessera/ops/reduce.h"
