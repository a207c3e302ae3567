// Training progress for people: a bar with rate and ETA redrawn in place on a terminal, plain
// lines when output is not a terminal, and HF-style metric lines ({'loss': 0.53, ...}).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ft {

class ProgressReporter {
  public:
    // enabled false (disable_tqdm): no bar and no progress lines; metric lines still print.
    // plain_lines false: nothing at all unless on a terminal (evaluation loops).
    ProgressReporter(bool enabled, std::string label, bool plain_lines = true);
    void start(int64_t total, int64_t done = 0);
    void update(int64_t done);
    void write_line(const std::string& line);  // a metric line, above the bar
    void finish();

  private:
    void draw(bool force);
    bool enabled_, tty_, plain_lines_;
    std::string label_;
    int64_t total_ = 0, done_ = 0, start_done_ = 0, last_line_done_ = -1;
    std::chrono::steady_clock::time_point start_, last_draw_;
    bool drawn_ = false;
};

// "1:02:03" or "02:03", as tqdm prints durations.
std::string format_duration(double seconds);

}  // namespace ft
