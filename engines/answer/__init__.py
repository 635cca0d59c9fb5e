"""Answers from a compressed context: chat models, the prompt, the ask flow, KV state, export.

Owns llama.cpp and OpenAI-compatible readers, laying the prompt out within n_ctx, streaming,
saved KV states and the ready-to-paste export. Imports the pipeline and the stages below it.
A new reader backend plugs in by implementing the ChatModel protocol (answer.llm).
"""
