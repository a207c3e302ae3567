// Fault injection for the crash tests: a named point in a multi-step write where the process
// can be made to die as if killed (exit status 137, no cleanup, no destructors), so a test can
// land a "kill" at an exact moment instead of racing a timer.
#pragma once

#include <string_view>

namespace ft {

// With FT_CRASH_AT=NAME:N in the environment, the N-th call of crash_point(NAME) ends the
// process with _exit(137). Without it, a comparison and nothing else.
void crash_point(std::string_view name);

}  // namespace ft
