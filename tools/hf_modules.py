"""Plain-PyTorch modules laid out exactly like HF's DistilBertForSequenceClassification and
BertForSequenceClassification, so that state_dict() yields HF's parameter names, order and
buffers, and initialised as HF's _init_weights does. No transformers import.

The sequence-classification models also have forward methods that follow the math of HF
transformers 4.8.2 step by step (operation order included), on padded batches:
    loss, logits = model(input_ids, attention_mask, [token_type_ids,] labels=labels)
tools/gen_goldens.py checks them against the real HF outputs in shared/reference.
"""
import math

import torch
from torch import nn
from torch.nn import functional as F


def activation_fn(name):
    """HF's ACT2FN for the activations these models use: "gelu" is the exact (erf) GELU."""
    if name == "gelu":
        return F.gelu
    if name == "relu":
        return F.relu
    raise ValueError(f"unsupported activation {name!r}")


def classification_loss(logits, labels, num_labels, problem_type=None):
    """HF's loss choice: num_labels 1 -> regression (MSE); integer labels -> single-label
    (cross-entropy, ignore_index -100); anything else -> multi-label (BCE with logits)."""
    if labels is None:
        return None
    if problem_type is None:
        if num_labels == 1:
            problem_type = "regression"
        elif labels.dtype in (torch.long, torch.int):
            problem_type = "single_label_classification"
        else:
            problem_type = "multi_label_classification"
    if problem_type == "regression":
        if num_labels == 1:
            return nn.MSELoss()(logits.squeeze(), labels.squeeze())
        return nn.MSELoss()(logits, labels)
    if problem_type == "single_label_classification":
        return nn.CrossEntropyLoss()(logits.view(-1, num_labels), labels.view(-1))
    return nn.BCEWithLogitsLoss()(logits, labels)


def hf_init_(module, initializer_range):
    """HF's _init_weights: Linear/Embedding ~ N(0, range), bias 0, padding row 0, LayerNorm 1/0."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            m.weight.data.normal_(mean=0.0, std=initializer_range)
            if m.bias is not None:
                m.bias.data.zero_()
        elif isinstance(m, nn.Embedding):
            m.weight.data.normal_(mean=0.0, std=initializer_range)
            if m.padding_idx is not None:
                m.weight.data[m.padding_idx].zero_()
        elif isinstance(m, nn.LayerNorm):
            m.bias.data.zero_()
            m.weight.data.fill_(1.0)


class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])
        # HF registers this buffer, and (before v4.31) saves it in the state dict.
        self.register_buffer("position_ids", torch.arange(c["max_position_embeddings"]).expand((1, -1)))

    def forward(self, input_ids, token_type_ids):  # (B, L) each -> (B, L, C)
        position_ids = self.position_ids[:, : input_ids.size(1)]
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(position_ids)  # HF adds the positions last
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])
        self.num_heads = c["num_attention_heads"]

    def forward(self, hidden, extended_mask):  # (B, L, C), (B, 1, 1, L) additive
        B, L, C = hidden.shape
        HS = C // self.num_heads

        def heads(x):  # (B, L, C) -> (B, NH, L, HS)
            return x.view(B, L, self.num_heads, HS).permute(0, 2, 1, 3)

        q, k, v = heads(self.query(hidden)), heads(self.key(hidden)), heads(self.value(hidden))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(HS)  # BERT scales the scores
        probs = self.dropout(F.softmax(scores + extended_mask, dim=-1))
        ctx = torch.matmul(probs, v)
        return ctx.permute(0, 2, 1, 3).contiguous().view(B, L, C)


class BertDenseOut(nn.Module):  # BertSelfOutput and BertOutput share this shape
    def __init__(self, c, inp):
        super().__init__()
        self.dense = nn.Linear(inp, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, hidden, residual):
        return self.LayerNorm(self.dropout(self.dense(hidden)) + residual)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertDenseOut(c, c["hidden_size"])

    def forward(self, hidden, extended_mask):
        return self.output(self.self(hidden, extended_mask), hidden)


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])
        self.act = activation_fn(c.get("hidden_act", "gelu"))

    def forward(self, hidden):
        return self.act(self.dense(hidden))


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertDenseOut(c, c["intermediate_size"])

    def forward(self, hidden, extended_mask):
        attn = self.attention(hidden, extended_mask)
        return self.output(self.intermediate(attn), attn)


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c["num_hidden_layers"])])

    def forward(self, hidden, extended_mask):
        for layer in self.layer:
            hidden = layer(hidden, extended_mask)
        return hidden


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

    def forward(self, hidden):  # (B, L, C) -> (B, C): tanh(dense(hidden of [CLS]))
        return torch.tanh(self.dense(hidden[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c, add_pooler=True):
        super().__init__()
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        self.pooler = BertPooler(c) if add_pooler else None

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        """Returns (sequence output (B, L, C), pooled output (B, C) or None)."""
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        dtype = self.embeddings.word_embeddings.weight.dtype
        # HF 4.8.2's get_extended_attention_mask: additive, 0 on tokens and -10000 on pads.
        extended = (1.0 - attention_mask[:, None, None, :].to(dtype)) * -10000.0
        hidden = self.encoder(self.embeddings(input_ids, token_type_ids), extended)
        pooled = self.pooler(hidden) if self.pooler is not None else None
        return hidden, pooled


class BertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c)
        p = c.get("classifier_dropout")
        self.dropout = nn.Dropout(c["hidden_dropout_prob"] if p is None else p)
        self.classifier = nn.Linear(c["hidden_size"], c["num_labels"])
        self.num_labels, self.problem_type = c["num_labels"], c.get("problem_type")

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None):
        """Returns (loss or None, logits (B, K))."""
        _, pooled = self.bert(input_ids, attention_mask, token_type_ids)
        logits = self.classifier(self.dropout(pooled))
        return classification_loss(logits, labels, self.num_labels, self.problem_type), logits


class BertLMHeadTransform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])


class BertLMPrediction(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transform = BertLMHeadTransform(c)
        self.decoder = nn.Linear(c["hidden_size"], c["vocab_size"])
        self.bias = self.decoder.bias  # tied, saved twice like HF


class BertOnlyMLMHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.predictions = BertLMPrediction(c)


class BertForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c, add_pooler=False)
        self.cls = BertOnlyMLMHead(c)


class DistilEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["dim"], padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["dim"])
        self.LayerNorm = nn.LayerNorm(c["dim"], eps=1e-12)
        self.dropout = nn.Dropout(c["dropout"])

    def forward(self, input_ids):  # (B, L) -> (B, L, C)
        L = input_ids.size(1)
        position_ids = torch.arange(L, dtype=torch.long).unsqueeze(0).expand_as(input_ids)
        x = self.word_embeddings(input_ids) + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(x))


class DistilAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["dim"]
        self.q_lin, self.k_lin, self.v_lin, self.out_lin = (nn.Linear(d, d) for _ in range(4))
        self.dropout = nn.Dropout(c["attention_dropout"])
        self.n_heads = c["n_heads"]

    def forward(self, x, mask):  # (B, L, C), (B, L) with 1 on tokens and 0 on pads
        B, L, C = x.shape
        HS = C // self.n_heads

        def heads(t):  # (B, L, C) -> (B, NH, L, HS)
            return t.view(B, -1, self.n_heads, HS).transpose(1, 2)

        q = heads(self.q_lin(x)) / math.sqrt(HS)  # DistilBERT scales q, not the scores
        k, v = heads(self.k_lin(x)), heads(self.v_lin(x))
        scores = torch.matmul(q, k.transpose(2, 3))
        pads = (mask == 0).view(B, 1, 1, L).expand_as(scores)
        scores = scores.masked_fill(pads, -float("inf"))  # 4.8.2; newer versions use finfo.min
        weights = self.dropout(F.softmax(scores, dim=-1))
        ctx = torch.matmul(weights, v).transpose(1, 2).contiguous().view(B, -1, C)
        return self.out_lin(ctx)


class DistilFFN(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.lin1 = nn.Linear(c["dim"], c["hidden_dim"])
        self.lin2 = nn.Linear(c["hidden_dim"], c["dim"])
        self.dropout = nn.Dropout(c["dropout"])
        self.act = activation_fn(c.get("activation", "gelu"))

    def forward(self, x):
        return self.dropout(self.lin2(self.act(self.lin1(x))))


class DistilBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = DistilAttention(c)
        self.sa_layer_norm = nn.LayerNorm(c["dim"], eps=1e-12)
        self.ffn = DistilFFN(c)
        self.output_layer_norm = nn.LayerNorm(c["dim"], eps=1e-12)

    def forward(self, x, mask):
        sa = self.sa_layer_norm(self.attention(x, mask) + x)
        return self.output_layer_norm(self.ffn(sa) + sa)


class DistilTransformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([DistilBlock(c) for _ in range(c["n_layers"])])

    def forward(self, x, mask):
        for layer in self.layer:
            x = layer(x, mask)
        return x


class DistilBertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = DistilEmbeddings(c)
        self.transformer = DistilTransformer(c)

    def forward(self, input_ids, attention_mask=None):  # -> (B, L, C)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        return self.transformer(self.embeddings(input_ids), attention_mask)


class DistilBertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.distilbert = DistilBertModel(c)
        self.pre_classifier = nn.Linear(c["dim"], c["dim"])
        self.classifier = nn.Linear(c["dim"], c["num_labels"])
        self.dropout = nn.Dropout(c["seq_classif_dropout"])
        self.num_labels, self.problem_type = c["num_labels"], c.get("problem_type")

    def forward(self, input_ids, attention_mask=None, labels=None):
        """Returns (loss or None, logits (B, K))."""
        pooled = self.distilbert(input_ids, attention_mask)[:, 0]  # hidden state of [CLS]
        pooled = self.dropout(F.relu(self.pre_classifier(pooled)))
        logits = self.classifier(pooled)
        return classification_loss(logits, labels, self.num_labels, self.problem_type), logits


class DistilBertForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.distilbert = DistilBertModel(c)
        self.vocab_transform = nn.Linear(c["dim"], c["dim"])
        self.vocab_layer_norm = nn.LayerNorm(c["dim"], eps=1e-12)
        self.vocab_projector = nn.Linear(c["dim"], c["vocab_size"])
        self.vocab_projector.weight = self.distilbert.embeddings.word_embeddings.weight  # tied, as HF
