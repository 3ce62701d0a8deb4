"""search_knowledge_base: find what the business has written down before answering."""

from langchain_core.tools import tool
from langgraph.prebuilt import ToolRuntime
from pydantic import BaseModel, Field

from graph.context import TurnContext
from persistence.db import session_scope
from services.knowledge.knowledge import search

PASSAGES = 3


class SearchArgs(BaseModel):
    query: str = Field(
        min_length=1,
        max_length=500,
        description="The key words of one question, in the customer's language, e.g. "
        "'return policy sale items'.",
    )


@tool("search_knowledge_base", args_schema=SearchArgs, response_format="content_and_artifact")
def search_knowledge_base(query: str, runtime: ToolRuntime[TurnContext]) -> tuple[str, str]:
    """Search the business's published documents (FAQs, policies, prices, hours, shipping,
    products). Results read "[doc <id>] <title>: <passage>", good matches only, searched in
    the documents' language too. One question per search; not for greetings or small talk.
    """
    with session_scope() as session:
        passages = search(
            session,
            merchant_id=runtime.context.merchant_id,
            query=query,
            limit=PASSAGES,
            translate=True,
        )
    # the artifact is what the conversation keeps once the turn is over: the findings,
    # without the instructions that were for this turn only (graph.nodes.agent)
    if not passages:
        return _nothing_found(query), f"No document of the business matched {query!r}."
    found = "\n".join(f"[doc {p.document_id}] {p.title}: {p.snippet}" for p in passages)
    return f"{found}\n{_ANSWER_FROM_PASSAGES}", found


_ANSWER_FROM_PASSAGES = (
    "Answer only from these passages. If they do not answer the question, do not guess: "
    "if the question is vague, ask the customer what exactly they mean; if it is clear, "
    'call request_notification with notification_type "user_question_request".'
)


def _nothing_found(query: str) -> str:
    return (
        f"No document of the business matches {query!r}. Do not invent an answer. "
        "If the customer's question is vague or could mean several things, ask them one short "
        "question to make it clear, then search again with their answer. If you searched "
        "with other key words too and it is a clear question the documents do not cover, call "
        'request_notification with notification_type "user_question_request" and context '
        '{"question": "<the customer\'s question, in their words>"}, then tell the customer '
        "that the team will get back to them here with the answer."
    )
