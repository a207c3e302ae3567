// `finetune predict` on a token classifier: each sentence's word tags (the first sub-token's
// label, as run_ner evaluates) and its entities grouped as HF's pipeline("ner",
// aggregation_strategy=...) groups them (TokenClassificationPipeline).
#include <cstdio>

#include "cli/commands.h"
#include "finetune/pipeline.h"

namespace ft::cli {

int predict_tags(const std::string& model, const std::vector<std::string>& sentences,
                 const std::string& aggregation_strategy) {
    const AggregationStrategy strategy = parse_aggregation_strategy(aggregation_strategy);
    TokenClassificationPipeline tag = TokenClassificationPipeline::from_pretrained(model);
    for (const std::string& s : sentences) {
        const TokenClassification r = tag(s, strategy);
        std::printf("%s\n  words:", r.text.c_str());
        for (const WordTag& w : r.words) {
            if (w.tag)
                std::printf(" %s/%s", w.word.c_str(), w.tag->label.c_str());
            else
                std::printf(" %s/-", w.word.c_str());  // past the model's length: no tag
        }
        std::printf("\n  entities (%s):%s\n",
                    std::string(aggregation_strategy_name(strategy)).c_str(),
                    r.entities.empty() ? " none" : "");
        for (const TokenEntity& e : r.entities)
            std::printf("    %-10s %.4f  %-24s [%lld, %lld)\n", e.entity.c_str(), e.score,
                        ("\"" + e.word + "\"").c_str(), static_cast<long long>(e.start),
                        static_cast<long long>(e.end));
    }
    return 0;
}

}  // namespace ft::cli
