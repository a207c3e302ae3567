// transition: the ops moved to src/ops/ops.h, private to the library. This forwarder only
// compiles inside the library's build (src on the include path) and goes once src/model, being
// rewritten in parallel, includes "ops/ops.h".
#pragma once

#include "ops/ops.h"
