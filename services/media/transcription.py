"""Voice notes to text: Gemini listens to the audio; OpenAI's transcription endpoint
takes WhatsApp's OGG/Opus as it is."""

from __future__ import annotations

import base64

import openai
from langchain_core.messages import HumanMessage

from graph.llm import METERED, configured_providers, make_chat_model
from settings import get_settings

_INSTRUCTION = (
    "Transcribe this voice note word for word, in the language it is spoken. "
    "Reply with the transcript only."
)


class TranscriptionFailed(RuntimeError):
    pass


def transcribe(audio: bytes, mime_type: str) -> str:
    """Try each configured provider in order; raise TranscriptionFailed when none can."""
    settings = get_settings()
    errors: list[str] = []
    for provider in configured_providers(settings):
        try:
            text = (
                _with_openai(audio, mime_type)
                if provider == "openai"
                else _with_gemini(audio, mime_type)
            )
            return text.strip()
        except Exception as exc:  # one provider failing must not hide the other
            errors.append(f"{provider}: {type(exc).__name__}: {exc}")
    raise TranscriptionFailed("; ".join(errors) or "no LLM provider is configured")


def _with_gemini(audio: bytes, mime_type: str) -> str:
    model = make_chat_model("gemini", get_settings())
    block = {"type": "audio", "base64": base64.b64encode(audio).decode(), "mime_type": mime_type}
    reply = model.invoke(
        [HumanMessage(content=[{"type": "text", "text": _INSTRUCTION}, block])], config=METERED
    )
    return reply.text


def _with_openai(audio: bytes, mime_type: str) -> str:
    settings = get_settings()
    assert settings.openai_api_key is not None
    client = openai.OpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout_seconds,
        max_retries=2,
    )
    extension = mime_type.split("/")[-1].replace("mpeg", "mp3")
    result = client.audio.transcriptions.create(
        model=settings.openai_transcription_model,
        file=(f"voice.{extension}", audio, mime_type),
    )
    return result.text
