#!/usr/bin/env bash
# Trains the small SentencePiece Unigram model behind tests/goldens/xlm_roberta_tokenizer: GLUE
# train sentences (CoLA, SST-2, MRPC) through Debian's spm_train (apt package `sentencepiece`),
# with XLM-R's sentencepiece.bpe.model settings except the vocabulary size: Unigram, nmt_nfkc,
# character_coverage 0.99995, <unk>=0 <s>=1 </s>=2 and no <pad> (fairseq's dictionary adds it),
# a dummy prefix, extra whitespace removed, split by script / number / whitespace.
#   tools/make_xlmr_spm.sh SHARED_DIR OUT_DIR     (writes OUT_DIR/sentencepiece.bpe.model; the goldens use tests/goldens/xlm_roberta_tokenizer/model)
# One thread, no input shuffling; even so two runs may differ in a few bytes (the committed model
# is the one the goldens were made from: do not retrain without regenerating them).
set -euo pipefail
shared=${1:?usage: make_xlmr_spm.sh SHARED_DIR OUT_DIR}
out=${2:?usage: make_xlmr_spm.sh SHARED_DIR OUT_DIR}
glue="$shared/data/glue"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The sentence columns, rows split on tabs only: CoLA (no header) column 4, SST-2 column 1,
# MRPC columns 4 and 5.
cut -f4 "$glue/cola/train.tsv" >"$tmp/text.txt"
tail -n +2 "$glue/sst2/train.tsv" | cut -f1 >>"$tmp/text.txt"
tail -n +2 "$glue/mrpc/train.tsv" | cut -f4 >>"$tmp/text.txt"
tail -n +2 "$glue/mrpc/train.tsv" | cut -f5 >>"$tmp/text.txt"
spm_train --input="$tmp/text.txt" --model_prefix="$tmp/spm" --model_type=unigram \
  --vocab_size=8000 --character_coverage=0.99995 --normalization_rule_name=nmt_nfkc \
  --add_dummy_prefix=true --remove_extra_whitespaces=true --split_by_unicode_script=true \
  --split_by_number=true --split_by_whitespace=true --max_sentencepiece_length=16 \
  --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --num_threads=1 \
  --shuffle_input_sentence=false --input_sentence_size=0 --minloglevel=1
cp "$tmp/spm.model" "$out/sentencepiece.bpe.model"
echo "wrote $out/sentencepiece.bpe.model ($(wc -l <"$tmp/text.txt") sentences, spm_train $(spm_train --version 2>&1 | head -1))"
