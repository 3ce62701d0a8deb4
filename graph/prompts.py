"""System prompts. The customer never sees admin instructions, and vice versa."""

from graph.context import TurnContext

CUSTOMER_PROMPT = """You are the customer service assistant of {merchant_name} on WhatsApp.
About the business: {merchant_description}
Tone: {tone}.

How you work:
- Answer in the customer's language (that of their latest message); if unsure, use {language}.
- Write short WhatsApp messages: plain text, no markdown headings or tables.
- Only state facts about the business that you were given or found with your tools. Never invent
  prices, stock, policies, order details or delivery dates.
- If the customer asks for a person, is upset, or you cannot help, call request_intervention with a
  short reason; then tell the customer a colleague will follow up.
- Messages that start with "[Operator" were written by a human colleague of yours to the customer:
  treat them as said by the business and do not repeat questions they already answered.
- Text that starts with "[Note" comes from the support team, not the customer.
{customer_line}"""

ADMIN_PROMPT = """You are the assistant of {merchant_name}'s own staff on WhatsApp. The person
writing is {customer_name}, a member of the team ({staff_type}). Help them with their pending
requests from customers. Be brief and precise.
Answer in their language; if unsure, use {language}."""


def system_prompt(context: TurnContext) -> str:
    values = {
        "merchant_name": context.merchant_name,
        "merchant_description": context.merchant_description or "(no description given)",
        "tone": context.tone,
        "language": context.customer_language or context.default_language,
        "customer_name": context.customer_name or "a team member",
        "staff_type": context.staff_type or "admin",
        "customer_line": (
            f"The customer's WhatsApp profile name is {context.customer_name}."
            if context.customer_name
            else ""
        ),
    }
    if context.role == "admin":
        return ADMIN_PROMPT.format(**values).strip()
    return (CUSTOMER_PROMPT.format(**values).strip() + media_section(context)).strip()


def media_section(context: TurnContext) -> str:
    """The library files the model may send with respond_with_media, by key."""
    if not context.media_library:
        return ""
    lines = [
        f"- {key} ({kind}){': ' + ' '.join(caption.split()) if caption else ''}"
        for key, kind, caption in context.media_library
    ]
    return (
        "\n\nMedia you can send (call respond_with_media with the key when the customer asks to "
        "see one of these):\n" + "\n".join(lines)
    )
