"""Evaluation of every model of a run: few-shot downstream tasks through lm-eval (exact match +
math-verify), the task loss (NLL/token of gold solutions), and perplexity on held-out general text.

Public entry points: ``results.evaluate_model`` (one model -> table rows; used by the ablation),
``stage.run_eval`` (one arm's model as a step), ``lmeval_tasks.write_lmeval_tasks``.
"""
