"""Simulators of the third-party HTTP APIs we talk to, speaking their real wire formats, for
the sandbox, the tests and the benchmarks.

- `graph` (with `graph_wire`, `graph_media`, `graph_templates`, `graph_onboarding`): Meta's
  Graph API for the WhatsApp Cloud API and Embedded Signup's calls, one core that checks
  requests as Meta does and answers Meta's error shapes. Tests and benchmarks serve it on a
  loopback port (`GraphSimulator(...).start()`); the sandbox mounts the same core inside
  the app with Redis-backed stores and a hook that shows each send on a simulated phone.
- `webhooks`: Cloud API webhook bodies as Meta posts them, and their X-Hub-Signature-256.
- `llm`, `gemini`, `openai`: the Gemini and OpenAI chat APIs, scripted.
- `http`: the loopback threaded HTTP server they are served on.

Nothing here imports services, adapters or the graph: whoever hosts a simulator passes in
what it needs (token checks, stores, hooks).
"""
