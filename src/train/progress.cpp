// The progress bar and progress lines of training and evaluation loops.
#include "train/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace ft {

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    const auto s = static_cast<int64_t>(seconds + 0.5);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                      static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
    else
        std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(s / 60),
                      static_cast<long long>(s % 60));
    return buf;
}

ProgressReporter::ProgressReporter(bool enabled, std::string label, bool plain_lines)
    : enabled_(enabled),
      tty_(::isatty(STDERR_FILENO) == 1),
      plain_lines_(plain_lines),
      label_(std::move(label)) {}

void ProgressReporter::start(int64_t total, int64_t done) {
    total_ = total;
    done_ = start_done_ = done;
    start_ = last_draw_ = std::chrono::steady_clock::now();
    drawn_ = false;
    last_line_done_ = -1;
    draw(true);
}

void ProgressReporter::update(int64_t done) {
    done_ = done;
    draw(done_ >= total_);
}

void ProgressReporter::draw(bool force) {
    if (!enabled_ || total_ <= 0) return;
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done_ - start_done_) / elapsed : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : NAN;
    const double pct = 100.0 * static_cast<double>(done_) / static_cast<double>(total_);
    char rate_text[32];
    if (rate >= 1.0 || rate == 0.0)
        std::snprintf(rate_text, sizeof rate_text, "%.2fit/s", rate);
    else
        std::snprintf(rate_text, sizeof rate_text, "%.2fs/it", 1.0 / rate);
    if (tty_) {
        if (!force && std::chrono::duration<double>(now - last_draw_).count() < 0.1) return;
        const int width = 30;
        const int fill = static_cast<int>(width * done_ / std::max<int64_t>(total_, 1));
        std::string bar(static_cast<size_t>(fill), '#');
        bar += std::string(static_cast<size_t>(width - fill), ' ');
        std::fprintf(stderr, "\r%s %3.0f%%|%s| %lld/%lld [%s<%s, %s]", label_.c_str(), pct,
                     bar.c_str(), static_cast<long long>(done_), static_cast<long long>(total_),
                     format_duration(elapsed).c_str(), format_duration(eta).c_str(), rate_text);
        std::fflush(stderr);
        drawn_ = true;
    } else if (plain_lines_) {
        // Plain lines about every 10% (and at the end), so logs stay short.
        const int64_t every = std::max<int64_t>(1, total_ / 10);
        if (done_ == start_done_ || done_ == last_line_done_) return;
        if (done_ % every != 0 && done_ < total_) return;
        std::printf("%s %lld/%lld (%.0f%%) elapsed %s, eta %s, %s\n", label_.c_str(),
                    static_cast<long long>(done_), static_cast<long long>(total_), pct,
                    format_duration(elapsed).c_str(), format_duration(eta).c_str(), rate_text);
        std::fflush(stdout);
        last_line_done_ = done_;
    }
    last_draw_ = now;
}

void ProgressReporter::write_line(const std::string& line) {
    if (tty_ && drawn_) std::fprintf(stderr, "\r\033[K");
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    if (tty_ && drawn_) draw(true);
}

void ProgressReporter::finish() {
    if (enabled_ && tty_ && drawn_) {
        draw(true);
        std::fprintf(stderr, "\n");
        std::fflush(stderr);
    }
    drawn_ = false;
}

}  // namespace ft
