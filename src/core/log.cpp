// Leveled logging to stderr; FT_LOG_LEVEL sets the initial level.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "finetune/core.h"

namespace ft {

namespace {
LogLevel level_from_env() {
    const char* v = std::getenv("FT_LOG_LEVEL");
    if (!v) return LogLevel::INFO;
    if (!std::strcmp(v, "debug")) return LogLevel::DEBUG;
    if (!std::strcmp(v, "warning")) return LogLevel::WARNING;
    if (!std::strcmp(v, "error")) return LogLevel::ERROR;
    return LogLevel::INFO;
}
LogLevel g_level = level_from_env();
std::mutex g_log_mutex;
}  // namespace

void set_log_level(LogLevel level) {
    g_level = level;
}
LogLevel get_log_level() {
    return g_level;
}

void log(LogLevel level, const std::string& msg) {
    if (level < g_level) return;
    static const char* names[] = {"debug", "info", "warning", "error"};
    std::lock_guard<std::mutex> lock(g_log_mutex);
    std::fprintf(stderr, "[finetune %s] %s\n", names[static_cast<int>(level)], msg.c_str());
}

}  // namespace ft
