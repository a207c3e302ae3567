// Training curves from a trainer_state.json (HF's log_history): training loss, learning rate and
// eval metrics as three stacked panels sharing the step axis, written as a hand-made SVG.
// Only .svg is written: a PNG would need a rasteriser and fonts, which is not worth a dependency.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "finetune/core.h"
#include "finetune/io.h"
#include "finetune/report.h"

namespace ft {

namespace {

// Ordered, so eval metrics keep the order compute_metrics gave them.
using json = nlohmann::ordered_json;

// ---------------------------------------------------------------------------------------------
// The log: one series per key, points in step order.

struct Point {
    double step;
    double value;
};

struct Series {
    std::string key;    // the log_history key, e.g. "eval_matthews_correlation"
    std::string label;  // the legend text
    std::vector<Point> points;
    int logged = 0;  // entries that had the key, NaN included
};

struct RunLog {
    Series loss, eval_loss, learning_rate;
    std::vector<Series> metrics;  // eval_<name> in order of first appearance
    std::vector<Point> epochs;    // (step, epoch) of every entry that has both
    double last_step = 0;
    std::optional<int64_t> best_step;  // from best_model_checkpoint ".../checkpoint-N"
    std::optional<double> best_metric;
    std::optional<int64_t> global_step, max_steps;
    std::optional<double> num_train_epochs;
};

// Python's json.dumps writes NaN, Infinity and -Infinity, which are not JSON; HF's
// trainer_state.json has them whenever a metric is undefined. They become null outside strings.
std::string python_json_to_json(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            out += c;
            if (c == '\\' && i + 1 < text.size()) {
                out += text[++i];
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') in_string = true;
        const std::string_view rest(text.data() + i, text.size() - i);
        bool replaced = false;
        for (std::string_view word : {"NaN", "-Infinity", "Infinity"}) {
            if (rest.substr(0, word.size()) == word) {
                out += "null";
                i += word.size() - 1;
                replaced = true;
                break;
            }
        }
        if (!replaced) out += c;
    }
    return out;
}

// A number, or NaN for null / NaN / a non-number.
double number_or_nan(const json& v) {
    return v.is_number() ? v.get<double>() : std::nan("");
}

void add_point(Series& s, double step, const json& v) {
    ++s.logged;
    const double x = number_or_nan(v);
    if (std::isfinite(x)) s.points.push_back({step, x});
}

// eval_<name> keys that are metrics, not bookkeeping (runtime, throughput, preparation time).
bool is_eval_metric(const std::string& key) {
    auto ends_with = [&](std::string_view suffix) {
        return key.size() >= suffix.size() &&
               key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return key.rfind("eval_", 0) == 0 && key != "eval_loss" && !ends_with("_runtime") &&
           !ends_with("_per_second") && !ends_with("_time");
}

RunLog read_run_log(const fs::path& path) {
    json state;
    try {
        state = json::parse(python_json_to_json(read_text_file(path)));
    } catch (const json::exception& e) {
        throw Error(path.string() + ": not valid JSON: " + e.what());
    }
    if (!state.is_object()) throw Error(path.string() + ": not a JSON object");
    const auto it = state.find("log_history");
    if (it == state.end()) throw Error(path.string() + ": no log_history: nothing to plot");
    if (!it->is_array()) throw Error(path.string() + ": log_history is not a list");
    if (it->empty()) throw Error(path.string() + ": log_history is empty: nothing to plot");

    RunLog log;
    log.loss = {"loss", "training loss", {}, 0};
    log.eval_loss = {"eval_loss", "eval loss", {}, 0};
    log.learning_rate = {"learning_rate", "learning rate", {}, 0};
    std::map<std::string, size_t> metric_index;
    for (size_t i = 0; i < it->size(); ++i) {
        const json& e = (*it)[i];
        const std::string where = path.string() + ": log_history[" + std::to_string(i) + "]";
        if (!e.is_object()) throw Error(where + " is not an object");
        const auto step_it = e.find("step");
        if (step_it == e.end() || !step_it->is_number())
            throw Error(where + " has no numeric \"step\"");
        const double step = step_it->get<double>();
        log.last_step = std::max(log.last_step, step);
        if (const auto ep = e.find("epoch"); ep != e.end() && ep->is_number())
            log.epochs.push_back({step, ep->get<double>()});
        for (const auto& [key, value] : e.items()) {
            if (key == "loss") {
                add_point(log.loss, step, value);
            } else if (key == "learning_rate") {
                add_point(log.learning_rate, step, value);
            } else if (key == "eval_loss") {
                add_point(log.eval_loss, step, value);
            } else if (is_eval_metric(key)) {
                auto [m, fresh] = metric_index.emplace(key, log.metrics.size());
                if (fresh) log.metrics.push_back({key, key.substr(5), {}, 0});
                add_point(log.metrics[m->second], step, value);
            }
        }
    }
    for (Series* s : {&log.loss, &log.eval_loss, &log.learning_rate})
        std::stable_sort(s->points.begin(), s->points.end(),
                         [](const Point& a, const Point& b) { return a.step < b.step; });
    for (Series& s : log.metrics)
        std::stable_sort(s.points.begin(), s.points.end(),
                         [](const Point& a, const Point& b) { return a.step < b.step; });

    auto optional_number = [&](const char* key) -> std::optional<double> {
        const auto v = state.find(key);
        if (v == state.end() || !v->is_number()) return std::nullopt;
        return v->get<double>();
    };
    if (auto v = optional_number("global_step")) log.global_step = static_cast<int64_t>(*v);
    if (auto v = optional_number("max_steps")) log.max_steps = static_cast<int64_t>(*v);
    log.num_train_epochs = optional_number("num_train_epochs");
    if (auto v = optional_number("best_metric"); v && std::isfinite(*v)) log.best_metric = v;
    if (const auto b = state.find("best_model_checkpoint"); b != state.end() && b->is_string()) {
        const std::string name = fs::path(b->get<std::string>()).filename().string();
        if (name.rfind("checkpoint-", 0) == 0) {
            try {
                log.best_step = std::stoll(name.substr(11));
            } catch (const std::exception&) {
                // not a step number: no marker
            }
        }
    }
    return log;
}

// ---------------------------------------------------------------------------------------------
// Numbers: nice 1-2-5 ticks and their labels.

std::string fmt(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

// SVG coordinates: one decimal is a tenth of a pixel.
std::string px(double v) {
    std::string s = fmt("%.1f", v);
    if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
    if (s == "-0") s = "0";
    return s;
}

// Values in tooltips and the subtitle: 4 significant digits.
std::string short_number(double v) {
    return fmt("%.4g", v);
}

struct Axis {
    double lo, hi, step;         // lo and hi are multiples of step that bracket the data
    int64_t lo_index, hi_index;  // 64 bits: lo / step can be large for a big, flat series
    double tick(int64_t i) const { return static_cast<double>(i) * step; }
};

// A 1-2-5 step giving about `target` intervals over [lo, hi]; the axis is widened to the
// enclosing multiples. A single value gets a band around it. `min_step` keeps steps integral.
Axis nice_axis(double lo, double hi, int target, double min_step = 0) {
    if (!(hi > lo)) {
        const double pad = lo != 0 ? std::abs(lo) * 0.1 : 1.0;
        lo -= pad;
        hi += pad;
    }
    const double raw = (hi - lo) / target;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double norm = raw / mag;
    double step = (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
    step = std::max(step, min_step);
    Axis a;
    a.step = step;
    // A relative slack keeps 0.30000000000000004 / 0.1 from rounding up a whole tick.
    a.lo_index = static_cast<int64_t>(std::floor(lo / step + 1e-9));
    a.hi_index = static_cast<int64_t>(std::ceil(hi / step - 1e-9));
    if (a.hi_index == a.lo_index) ++a.hi_index;
    a.lo = a.tick(a.lo_index);
    a.hi = a.tick(a.hi_index);
    return a;
}

// The smallest of 1, 2, 5, 10, 20, 50, ... that is at least x.
int nice_at_least(double x) {
    for (int n = 1;; n *= 10)
        for (int m : {1, 2, 5})
            if (m * n >= x || m * n >= 1000000000 / 10) return m * n;
}

// "0.25", "3", or in scientific notation like Python's "2e-05", "1.5e-05" (mantissa trimmed).
std::string tick_label(double v, double step, bool scientific) {
    if (std::abs(v) < step * 1e-6) return "0";
    const int step_exp = static_cast<int>(std::floor(std::log10(step) + 1e-9));
    if (scientific) {
        const int v_exp = static_cast<int>(std::floor(std::log10(std::abs(v)) + 1e-9));
        const int digits = std::clamp(v_exp - step_exp, 0, 6);
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.*e", digits, v);
        std::string s = buf;
        const size_t e = s.find('e');
        std::string mant = s.substr(0, e);
        if (mant.find('.') != std::string::npos) {
            while (mant.back() == '0') mant.pop_back();
            if (mant.back() == '.') mant.pop_back();
        }
        return mant + s.substr(e);
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", std::clamp(-step_exp, 0, 10), v);
    return buf;
}

// ---------------------------------------------------------------------------------------------
// The SVG.

std::string xml_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// matplotlib's tab10, reordered so that no panel reuses a neighbour's first colour.
constexpr const char* BLUE = "#1f77b4";
constexpr const char* ORANGE = "#ff7f0e";
constexpr const char* GREEN = "#2ca02c";
constexpr const char* METRIC_COLOURS[] = {"#9467bd", "#d62728", "#17becf", "#8c564b", "#e377c2",
                                          "#bcbd22", "#7f7f7f", BLUE,      ORANGE,    GREEN};
constexpr const char* BEST_COLOUR = "#444444";
constexpr const char* FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";

// The page: a fixed layout that leaves room for tick labels (left) and legends (right).
constexpr double WIDTH = 980;
constexpr double PLOT_LEFT = 92;
constexpr double PLOT_RIGHT = 740;
constexpr double FIRST_PANEL_TOP = 92;
constexpr double PANEL_HEIGHT = 190;
constexpr double PANEL_GAP = 52;
constexpr double INSET = 8;  // between the frame and the outermost ticks, so markers show whole
constexpr double LEGEND_X = PLOT_RIGHT + 18;
constexpr size_t LEGEND_MAX_CHARS = 26;

struct Panel {
    std::string id;  // "loss", "learning_rate", "eval_metrics"
    std::string title;
    std::string y_title;
    struct Line {
        const Series* series;
        const char* colour;
        bool markers;  // eval series: few points, each one a checkpoint
    };
    std::vector<Line> series;
    bool scientific = false;
    std::string empty_message;
    double top = 0;
};

class SvgWriter {
  public:
    // `best_panel` is the panel whose legend explains the best-checkpoint line.
    SvgWriter(const RunLog& log, std::string title, std::string subtitle, std::string best_panel)
        : log_(log),
          title_(std::move(title)),
          subtitle_(std::move(subtitle)),
          best_panel_(std::move(best_panel)) {}

    std::string draw(std::vector<Panel>& panels) {
        const double bottom =
            FIRST_PANEL_TOP + panels.size() * PANEL_HEIGHT + (panels.size() - 1) * PANEL_GAP;
        const double height = bottom + 56;
        // The step axis ends where the log does (no empty stretch up to the next tick).
        x_axis_ = nice_axis(0, std::max(log_.last_step, 1.0), 6, 1);
        x_axis_.hi = std::max(log_.last_step, 1.0);
        x_axis_.hi_index = static_cast<int64_t>(std::floor(x_axis_.hi / x_axis_.step + 1e-9));
        out_ += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
        out_ += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + px(WIDTH) + "\" height=\"" +
                px(height) + "\" viewBox=\"0 0 " + px(WIDTH) + " " + px(height) +
                "\" font-family=\"" + FONT + "\" font-size=\"12\">\n";
        out_ += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
        text(WIDTH / 2, 28, title_, "middle", "font-size=\"17\" font-weight=\"bold\"",
             "plot-title");
        text(WIDTH / 2, 50, subtitle_, "middle", "fill=\"#555555\"", "plot-subtitle");
        for (size_t i = 0; i < panels.size(); ++i) {
            panels[i].top = FIRST_PANEL_TOP + i * (PANEL_HEIGHT + PANEL_GAP);
            draw_panel(panels[i], i + 1 == panels.size());
        }
        out_ += "</svg>\n";
        return std::move(out_);
    }

  private:
    double x_px(double step) const {
        return PLOT_LEFT + INSET +
               (step - x_axis_.lo) / (x_axis_.hi - x_axis_.lo) *
                   (PLOT_RIGHT - PLOT_LEFT - 2 * INSET);
    }

    void text(double x, double y, const std::string& s, const char* anchor,
              const std::string& attrs = "", const std::string& cls = "") {
        out_ += "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + anchor + "\"";
        if (!cls.empty()) out_ += " class=\"" + cls + "\"";
        if (!attrs.empty()) out_ += " " + attrs;
        out_ += ">" + xml_escape(s) + "</text>\n";
    }

    void line(double x1, double y1, double x2, double y2, const std::string& attrs) {
        out_ += "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" +
                px(y2) + "\" " + attrs + "/>\n";
    }

    void draw_panel(const Panel& p, bool last) {
        const double top = p.top, bottom = p.top + PANEL_HEIGHT;
        out_ += "<g class=\"panel\" id=\"panel-" + p.id + "\">\n";
        text(PLOT_LEFT, top - 10, p.title, "start", "font-size=\"14\" font-weight=\"bold\"",
             "panel-title");
        text(0, 0, p.y_title, "middle",
             "transform=\"translate(18," + px(top + PANEL_HEIGHT / 2) + ") rotate(-90)\"",
             "axis-title");

        double lo = INFINITY, hi = -INFINITY;
        for (const auto& [s, colour, markers] : p.series)
            for (const Point& q : s->points) {
                lo = std::min(lo, q.value);
                hi = std::max(hi, q.value);
            }
        const bool has_data = lo <= hi;
        const Axis y = has_data ? nice_axis(lo, hi, 4) : nice_axis(0, 1, 4);
        auto y_px = [&](double v) {
            return bottom - INSET - (v - y.lo) / (y.hi - y.lo) * (PANEL_HEIGHT - 2 * INSET);
        };

        // Grid and ticks. Scientific labels where the magnitudes are far from 1.
        const double mag = std::max(std::abs(y.lo), std::abs(y.hi));
        const bool scientific = p.scientific || mag < 1e-3 || mag >= 1e5;
        if (has_data) {
            for (int64_t i = y.lo_index; i <= y.hi_index; ++i) {
                const double yy = y_px(y.tick(i));
                line(PLOT_LEFT, yy, PLOT_RIGHT, yy, "stroke=\"#e6e6e6\" stroke-width=\"1\"");
                line(PLOT_LEFT - 5, yy, PLOT_LEFT, yy, "stroke=\"#333333\"");
                text(PLOT_LEFT - 8, yy + 4, tick_label(y.tick(i), y.step, scientific), "end", "",
                     "y-tick");
            }
        }
        for (int64_t i = x_axis_.lo_index; i <= x_axis_.hi_index; ++i) {
            const double xx = x_px(x_axis_.tick(i));
            line(xx, top, xx, bottom, "stroke=\"#f0f0f0\" stroke-width=\"1\"");
            line(xx, bottom, xx, bottom + 5, "stroke=\"#333333\"");
            if (last)
                text(xx, bottom + 19, tick_label(x_axis_.tick(i), x_axis_.step, false), "middle",
                     "", "x-tick");
        }
        draw_epochs(top, bottom, last);
        out_ += "<rect x=\"" + px(PLOT_LEFT) + "\" y=\"" + px(top) + "\" width=\"" +
                px(PLOT_RIGHT - PLOT_LEFT) + "\" height=\"" + px(PANEL_HEIGHT) +
                "\" fill=\"none\" stroke=\"#333333\"/>\n";

        if (!has_data) {
            text((PLOT_LEFT + PLOT_RIGHT) / 2, top + PANEL_HEIGHT / 2 + 5, p.empty_message,
                 "middle", "fill=\"#777777\" font-size=\"14\" font-style=\"italic\"",
                 "empty-panel");
        }
        if (log_.best_step) draw_best_line(top, bottom);

        double legend_y = top + 14;
        for (const auto& [s, colour, always_markers] : p.series) {
            if (s->logged == 0) continue;
            const bool markers = always_markers || s->points.size() <= 1;
            if (!s->points.empty()) {
                out_ += "<polyline class=\"series\" data-series=\"" + xml_escape(s->key) +
                        "\" fill=\"none\" stroke=\"" + colour +
                        "\" stroke-width=\"1.8\" stroke-linejoin=\"round\" points=\"";
                for (size_t i = 0; i < s->points.size(); ++i) {
                    if (i) out_ += ' ';
                    out_ += px(x_px(s->points[i].step));
                    out_ += ',';
                    out_ += px(y_px(s->points[i].value));
                }
                out_ += "\"/>\n";
            }
            if (markers)
                for (const Point& q : s->points)
                    out_ += "<circle class=\"marker\" data-series=\"" + xml_escape(s->key) +
                            "\" cx=\"" + px(x_px(q.step)) + "\" cy=\"" + px(y_px(q.value)) +
                            "\" r=\"3.5\" fill=\"" + colour +
                            "\" stroke=\"white\" stroke-width=\"1\"><title>" +
                            xml_escape(s->label) + " at step " + short_number(q.step) + ": " +
                            short_number(q.value) + "</title></circle>\n";
            if (log_.best_step && log_.best_metric) draw_best_point(*s, y_px);
            std::string label = s->label;
            if (s->points.empty()) label += " (no finite values)";
            legend_entry(legend_y, colour, markers, label, s->key, "");
            legend_y += 20;
        }
        if (log_.best_step && p.id == best_panel_) {
            legend_entry(legend_y, BEST_COLOUR, false,
                         "best (step " + std::to_string(*log_.best_step) + ")", "best_checkpoint",
                         "stroke-dasharray=\"5,3\"");
        }
        out_ += "</g>\n";
    }

    void legend_entry(double y, const char* colour, bool marker, std::string label,
                      const std::string& key, const std::string& dash) {
        if (label.size() > LEGEND_MAX_CHARS) {
            size_t cut = LEGEND_MAX_CHARS - 1;
            while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80) --cut;
            label = label.substr(0, cut) + "…";  // never inside a UTF-8 sequence
        }
        out_ += "<g class=\"legend\" data-series=\"" + xml_escape(key) + "\">\n";
        line(LEGEND_X, y - 4, LEGEND_X + 24, y - 4,
             std::string("stroke=\"") + colour + "\" stroke-width=\"1.8\" " + dash);
        if (marker)
            out_ += "<circle cx=\"" + px(LEGEND_X + 12) + "\" cy=\"" + px(y - 4) +
                    "\" r=\"3.5\" fill=\"" + colour + "\"/>\n";
        text(LEGEND_X + 30, y, label, "start", "", "legend-label");
        out_ += "</g>\n";
    }

    // The epochs: dashed lines at their boundaries in every panel; below the last panel either
    // each epoch's number centred in its span or, when spans are narrow, numbered boundaries.
    void draw_epochs(double top, double bottom, bool last) {
        if (last)
            text(PLOT_LEFT - 8, bottom + 19, "step", "end", "font-weight=\"bold\"", "x-axis-title");
        // Steps per epoch from the latest entry that has a positive epoch.
        double steps_per_epoch = 0, max_epoch = 0;
        for (const Point& e : log_.epochs)
            if (e.value > 0 && e.step >= 1) {
                if (e.step / e.value > 0 && e.value >= max_epoch)
                    steps_per_epoch = e.step / e.value;
                max_epoch = std::max(max_epoch, e.value);
            }
        if (steps_per_epoch <= 0) return;
        const double span_px = x_px(steps_per_epoch) - x_px(0);
        const int n_epochs = static_cast<int>(std::ceil(max_epoch - 1e-6));
        // Wide spans get their number in the middle; narrow ones number every few boundaries.
        const bool spans = span_px >= 40;
        const int every = spans ? 1 : nice_at_least(50 / span_px);
        for (int k = every; k <= n_epochs; k += every) {
            // Not where training ended: that is the last data point already.
            const double x = x_px(k * steps_per_epoch);
            if (k * steps_per_epoch < log_.last_step - 0.5 && x < PLOT_RIGHT)
                line(x, top, x, bottom,
                     "class=\"epoch-boundary\" stroke=\"#b0b0b0\" stroke-dasharray=\"3,3\"");
        }
        if (!last) return;
        text(PLOT_LEFT - 8, bottom + 37, "epoch", "end", "font-weight=\"bold\" fill=\"#555555\"",
             "x-axis-title");
        for (int k = 1; k <= n_epochs; ++k) {
            const double begin = (k - 1) * steps_per_epoch;
            const double end = std::min(k * steps_per_epoch, x_axis_.hi);
            if (begin >= x_axis_.hi) break;
            if (spans && x_px(end) - x_px(begin) >= 12) {  // a short last epoch goes unnamed
                text((x_px(begin) + x_px(end)) / 2, bottom + 37, std::to_string(k), "middle",
                     "fill=\"#555555\"", "epoch-label");
            } else if (k % every == 0 && x_px(k * steps_per_epoch) <= PLOT_RIGHT + 0.5) {
                text(x_px(k * steps_per_epoch), bottom + 37, std::to_string(k), "middle",
                     "fill=\"#555555\"", "epoch-label");
            }
        }
    }

    void draw_best_line(double top, double bottom) {
        const double x = x_px(static_cast<double>(*log_.best_step));
        if (x < PLOT_LEFT - 0.5 || x > PLOT_RIGHT + 0.5) return;
        line(x, top, x, bottom,
             "class=\"best-step\" data-step=\"" + std::to_string(*log_.best_step) + "\" stroke=\"" +
                 BEST_COLOUR + "\" stroke-width=\"1.2\" stroke-dasharray=\"5,3\"");
    }

    // A ring around the point whose value is best_metric at the best step.
    template <class YPx>
    void draw_best_point(const Series& s, const YPx& y_px) {
        for (const Point& q : s.points) {
            if (q.step != static_cast<double>(*log_.best_step)) continue;
            if (std::abs(q.value - *log_.best_metric) > 1e-9 * std::max(1.0, std::abs(q.value)))
                continue;
            out_ += "<circle class=\"best-point\" data-series=\"" + xml_escape(s.key) + "\" cx=\"" +
                    px(x_px(q.step)) + "\" cy=\"" + px(y_px(q.value)) +
                    "\" r=\"7\" fill=\"none\" stroke=\"" + BEST_COLOUR +
                    "\" stroke-width=\"1.5\"><title>best_metric " + short_number(q.value) + " (" +
                    xml_escape(s.key) + ")</title></circle>\n";
        }
    }

    const RunLog& log_;
    std::string title_, subtitle_, best_panel_;
    Axis x_axis_{};
    std::string out_;
};

// "run" for run/trainer_state.json; "run/checkpoint-40" for a checkpoint's state.
std::string run_name(const fs::path& trainer_state_json) {
    const fs::path dir = fs::absolute(trainer_state_json).lexically_normal().parent_path();
    std::string name = dir.filename().string();
    if (name.rfind("checkpoint-", 0) == 0 && !dir.parent_path().filename().empty())
        name = dir.parent_path().filename().string() + "/" + name;
    return name.empty() ? dir.string() : name;
}

std::string subtitle_of(const RunLog& log) {
    std::string s;
    auto add = [&](const std::string& part) { s += (s.empty() ? "" : ", ") + part; };
    if (log.global_step) {
        std::string steps = "step " + std::to_string(*log.global_step);
        if (log.max_steps && *log.max_steps > 0) steps += " of " + std::to_string(*log.max_steps);
        add(steps);
    }
    if (log.num_train_epochs) add(short_number(*log.num_train_epochs) + " epochs");
    if (log.best_step) {
        std::string best = "best checkpoint at step " + std::to_string(*log.best_step);
        if (log.best_metric) best += " (best_metric " + short_number(*log.best_metric) + ")";
        add(best);
    }
    return s;
}

std::string lowercase_extension(const fs::path& p) {
    std::string ext = p.extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

}  // namespace

void plot_trainer_state(const fs::path& trainer_state_json, const fs::path& image) {
    const std::string ext = lowercase_extension(image);
    if (ext == ".png")
        throw Error(image.string() +
                    ": PNG output is not supported, only .svg (convert it with e.g. rsvg-convert)");
    if (ext != ".svg")
        throw Error(image.string() + ": unknown image type \"" + ext +
                    "\": only .svg is supported");
    const RunLog log = read_run_log(trainer_state_json);

    std::vector<Panel> panels(3);
    panels[0] = {"loss", "Training loss",
                 "loss", {{&log.loss, BLUE, false}, {&log.eval_loss, ORANGE, true}},
                 false,  "no loss logged",
                 0};
    panels[1] = {"learning_rate",
                 "Learning rate",
                 "learning rate",
                 {{&log.learning_rate, GREEN, false}},
                 true,
                 "no learning rate logged",
                 0};
    panels[2] = {"eval_metrics",
                 "Evaluation metrics",
                 "metric",
                 {},
                 false,
                 log.eval_loss.logged ? "no evaluation metrics logged (eval loss is above)"
                                      : "no evaluation logged",
                 0};
    for (size_t i = 0; i < log.metrics.size(); ++i)
        panels[2].series.push_back(
            {&log.metrics[i], METRIC_COLOURS[i % std::size(METRIC_COLOURS)], true});

    // The best checkpoint is chosen by an eval metric (or eval_loss): explain its line there.
    SvgWriter svg(log, "Training curves: " + run_name(trainer_state_json), subtitle_of(log),
                  log.metrics.empty() ? "loss" : "eval_metrics");
    write_text_atomic(image, svg.draw(panels));
}

}  // namespace ft
