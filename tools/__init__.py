"""The tools the model sees. Names and arguments are a contract (see DESIGN.md).

| tool                    | role     | arrives with                          |
| search_knowledge_base   | customer | the escalations & knowledge issue     |
| respond_with_media      | customer | the media issue                       |
| request_intervention    | customer | here                                  |
| request_notification    | customer | the escalations & knowledge issue     |
| answer_notification     | admin    | the escalations & knowledge issue     |

Only implemented tools are offered: a model must never see a tool that cannot run.
"""

from collections.abc import Sequence

from langchain_core.tools import BaseTool

from graph.context import Role
from tools.intervention import request_intervention
from tools.media import respond_with_media

CUSTOMER_TOOL_NAMES = (
    "search_knowledge_base",
    "respond_with_media",
    "request_intervention",
    "request_notification",
)
ADMIN_TOOL_NAMES = ("answer_notification",)

_CUSTOMER_TOOLS: tuple[BaseTool, ...] = (respond_with_media, request_intervention)
_ADMIN_TOOLS: tuple[BaseTool, ...] = ()


def tools_for(role: Role) -> Sequence[BaseTool]:
    return _ADMIN_TOOLS if role == "admin" else _CUSTOMER_TOOLS
