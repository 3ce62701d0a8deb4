"""The conversation graph, as a diagram:

START -> load -> (mode?) -> agent <-> customer_tools | admin_tools (by role)
                     |          \\-> END (the agent step finishes the turn)
                     \\-> silent -> END
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode

from graph.context import Role, TurnContext
from graph.nodes.agent import AgentModel, after_agent, make_agent_node
from graph.nodes.load import make_load_node
from graph.nodes.route import route_turn, silent
from graph.ports import TurnServices
from graph.state import ConversationState

ConversationGraph = CompiledStateGraph[
    ConversationState, TurnContext, ConversationState, ConversationState
]


def build_graph(
    checkpointer: BaseCheckpointSaver | None,
    model_for: Callable[[TurnContext], AgentModel | None],
    tools_for: Callable[[Role], Sequence[BaseTool]],
    services: TurnServices,
    *,
    max_prompt_tokens: int = 6000,
    history_max_messages: int = 200,
) -> ConversationGraph:
    builder = StateGraph(ConversationState, context_schema=TurnContext)
    builder.add_node("load", make_load_node(services))
    builder.add_node(
        "agent", make_agent_node(model_for, services, max_prompt_tokens, history_max_messages)
    )
    builder.add_node(
        "customer_tools", ToolNode(list(tools_for("customer")), handle_tool_errors=True)
    )
    builder.add_node("admin_tools", ToolNode(list(tools_for("admin")), handle_tool_errors=True))
    builder.add_node("silent", silent)
    builder.add_edge(START, "load")
    builder.add_conditional_edges("load", route_turn)
    builder.add_conditional_edges("agent", after_agent)
    builder.add_edge("customer_tools", "agent")
    builder.add_edge("admin_tools", "agent")
    builder.add_edge("silent", END)
    return builder.compile(checkpointer=checkpointer)
